"""Request dependencies: the service and who is calling.

Reads (GET) accept the token as ``Authorization: Bearer`` or as the dashboard's session cookie;
writes (POST/DELETE) accept only the header, so a page on another site cannot make a signed-in
browser change anything (the cookie is also ``SameSite=Strict`` and ``HttpOnly``).
"""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from trendcast.api.auth import TokenInfo
from trendcast.api.service import Service

COOKIE = "trendcast_token"
bearer = HTTPBearer(auto_error=False, description="An API token from `trendcast token create`.")


async def service(request: Request) -> Service:
    """Async on purpose: FastAPI runs sync dependencies in a worker thread, which costs a hop."""
    return request.app.state.service


def _deny(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=reason, headers={"WWW-Authenticate": "Bearer"})


async def _check(svc: Service, token: str | None) -> TokenInfo:
    """Async so a memoised token costs no thread hop; a first sighting is looked up in a thread."""
    if not token:
        raise _deny("Missing API token: send 'Authorization: Bearer <token>' "
                    "(create one with `trendcast token create`).")
    info = svc.peek_token(token)
    if info is Service._MISS:
        info = await run_in_threadpool(svc.verify, token)
    if info is None:
        raise _deny("Invalid or revoked API token.")
    return info


async def reader(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> TokenInfo:
    """Header or dashboard cookie."""
    token = creds.credentials if creds else request.cookies.get(COOKIE)
    return await _check(request.app.state.service, token)


async def writer(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> TokenInfo:
    """Header only (not the cookie): protects write endpoints from cross-site requests."""
    return await _check(request.app.state.service, creds.credentials if creds else None)


async def admin(info: TokenInfo = Depends(writer)) -> TokenInfo:
    if not info.admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail="This needs an admin token (`trendcast token create --admin`).")
    return info
