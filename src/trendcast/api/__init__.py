"""REST API and web dashboard (FastAPI) over one trendcast warehouse.

``create_app(db)`` builds the app; ``trendcast serve --db PATH`` runs it with uvicorn.
"""

from __future__ import annotations

from trendcast.api.app import create_app

__all__ = ["create_app"]
