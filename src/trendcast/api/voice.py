"""Customer voice as JSON: aspect sentiment (what customers praise and blame) and competitors'
share of voice (``/api/v1/aspects``, ``/api/v1/competitors``), read from the tables written by
``trendcast signals`` (``text_aspects``, ``competitor_daily``). The dashboard's ``/voice`` page
shows the same through :func:`trendcast.report.views.voice`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from trendcast.api.auth import TokenInfo
from trendcast.api.deps import reader, service
from trendcast.api.routes import NOT_READY, _frame_json
from trendcast.api.service import Service

api = APIRouter(prefix="/api/v1")
Svc = Annotated[Service, Depends(service)]
Reader = Annotated[TokenInfo, Depends(reader)]
Freq = Literal["D", "W", "M"]


@api.get("/aspects", tags=["signals"], responses=NOT_READY,
         summary="What customers praise and blame: mentions, share and sentiment per aspect and period")
async def aspects(svc: Svc, _: Reader, freq: Annotated[Freq, Query()] = "W") -> Response:
    return await _frame_json(svc, ("aspects", freq), lambda d: d.aspects(freq))


@api.get("/competitors", tags=["signals"], responses=NOT_READY,
         summary="Competitor mentions: share of voice and sentiment per period")
async def competitors(svc: Svc, _: Reader, freq: Annotated[Freq, Query()] = "W") -> Response:
    return await _frame_json(svc, ("competitors", freq), lambda d: d.competitors(freq))
