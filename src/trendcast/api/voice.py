"""Customer voice: aspect sentiment (what customers praise and blame) and competitors' share of voice.

A page (``/voice``) and two JSON reads (``/api/v1/aspects``, ``/api/v1/competitors``), kept in
their own router so the dashboard pages evolve independently. Both read tables written by
``trendcast signals`` (``text_aspects``, ``competitor_daily``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from trendcast.api.auth import TokenInfo
from trendcast.api.dashboard import _page
from trendcast.api.deps import reader, service
from trendcast.api.routes import NOT_READY, _frame_json
from trendcast.api.service import Service
from trendcast.report import figures, views
from trendcast.report.data import ShopData
from trendcast.report.render import render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1")
Svc = Annotated[Service, Depends(service)]
Reader = Annotated[TokenInfo, Depends(reader)]
Freq = Literal["D", "W", "M"]


def aspects_frame(data: ShopData, freq: str = "W") -> pd.DataFrame:
    """:func:`trendcast.text.aspects.aspect_summary` over the warehouse behind ``data``."""
    from trendcast.text.aspects import aspect_summary

    return aspect_summary(_Reads(data), freq=freq)


def competitors_frame(data: ShopData, freq: str = "W") -> pd.DataFrame:
    """:func:`trendcast.text.competitors.competitor_summary` over the warehouse behind ``data``."""
    from trendcast.text.competitors import competitor_summary

    return competitor_summary(_Reads(data), freq=freq)


class _Reads:
    """The two read methods of :class:`~trendcast.data.warehouse.Warehouse` over the request's open cursor."""

    def __init__(self, data: ShopData) -> None:
        self.con = data.con

    def has_table(self, name: str) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                     [name]).fetchone()[0])

    def table(self, name: str) -> pd.DataFrame:
        return self.con.execute(f'SELECT * FROM "{name}"').df()


def voice_sections(data: ShopData) -> list[views.Section]:
    """Latest week's aspects (worst first), aspect sentiment over time, competitors' share of voice."""

    def latest() -> views.Section:
        df = aspects_frame(data)
        last = df[df["period"] == df["period"].max()].sort_values("sent_mean")
        return views.Section(f"Aspects, week of {last['period'].max()} (most criticised first)",
                             views.table_html(last), kind="table")

    def trend() -> views.Section | None:
        df = aspects_frame(data)
        wide = df.pivot_table(index="period", columns="aspect", values="sent_mean").reset_index()
        wide = wide.rename(columns={"period": "ds"})
        top = df.groupby("aspect")["mentions"].sum().nlargest(6).index.tolist()
        fig = figures.lines_figure(wide, "Aspect sentiment per week (-1 to 1)", columns=top, max_lines=6)
        return views.Section("Aspect sentiment over time", views.figure_html(fig)) if fig else None

    def rivals() -> views.Section:
        df = competitors_frame(data)
        return views.Section("Competitors: share of voice and sentiment per week",
                             views.table_html(df.sort_values(["period", "mentions"], ascending=[False, False])),
                             kind="table")

    return [views._safe("Aspects", latest), views._safe("Aspect trend", trend), views._safe("Competitors", rivals)]


@router.get("/voice", response_class=Response)
def voice(request: Request, svc: Svc) -> Response:
    def build() -> str:
        with svc.data() as data:
            sections = voice_sections(data)
        return render("page.html", title="Customer voice", active="Customer voice", sections=sections)

    return _page(request, svc, ("voice",), build)


@api.get("/aspects", tags=["signals"], responses=NOT_READY,
         summary="What customers praise and blame: mentions, share and sentiment per aspect and period")
async def aspects(svc: Svc, _: Reader, freq: Annotated[Freq, Query()] = "W") -> Response:
    return await _frame_json(svc, ("aspects", freq), lambda d: aspects_frame(d, freq))


@api.get("/competitors", tags=["signals"], responses=NOT_READY,
         summary="Competitor mentions: share of voice and sentiment per period")
async def competitors(svc: Svc, _: Reader, freq: Annotated[Freq, Query()] = "W") -> Response:
    return await _frame_json(svc, ("competitors", freq), lambda d: competitors_frame(d, freq))
