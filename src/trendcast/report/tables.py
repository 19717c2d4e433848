"""Tables people can work with: filter, sort, page, product titles beside ids, CSV/xlsx export.

The dashboard pages tables on the server (a page of rows per request, plain links, no
JavaScript needed), so a 10,000-row plan costs the browser no more than a 25-row one. The same
functions render the offline report's tables, where the whole table travels as a CSV download.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import pandas as pd
from markupsafe import Markup, escape

PAGE_SIZE = 25
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class TableQuery:
    """What the user asked of one table: a filter text, a sort column and a page."""

    q: str = ""
    sort: str | None = None
    desc: bool = False
    page: int = 1
    size: int = PAGE_SIZE

    def params(self, **changes: object) -> dict[str, str]:
        """Query-string parameters for this state with ``changes`` applied (for links)."""
        state = replace(self, **changes)  # type: ignore[arg-type]
        out = {"q": state.q, "sort": state.sort or "", "desc": "1" if state.desc else "",
               "page": str(state.page), "size": str(state.size) if state.size != PAGE_SIZE else ""}
        return {k: v for k, v in out.items() if v}


def with_titles(df: pd.DataFrame, titles: pd.Series | None) -> pd.DataFrame:
    """Insert a ``title`` column right after ``item_id`` (so a planner sees names, not only ids)."""
    if titles is None or "item_id" not in df.columns or "title" in df.columns or df.empty:
        return df
    out = df.copy()
    pos = list(out.columns).index("item_id") + 1
    out.insert(pos, "title", out["item_id"].astype(str).map(titles).fillna(""))
    return out


def apply_query(df: pd.DataFrame, query: TableQuery) -> tuple[pd.DataFrame, int]:
    """Filtered and sorted rows (all of them) and how many matched; paging is left to the caller."""
    out = df
    if query.q.strip():
        needle = query.q.strip().lower()
        text = out.astype(str).apply(lambda col: col.str.lower().str.contains(needle, regex=False))
        out = out[text.any(axis=1)]
    if query.sort in out.columns:
        out = out.sort_values(query.sort, ascending=not query.desc, na_position="last", kind="stable")
    return out, len(out)


def page_of(df: pd.DataFrame, query: TableQuery) -> tuple[pd.DataFrame, int, int]:
    """(rows of the asked page, matched rows, the page actually shown after clamping)."""
    rows, matched = apply_query(df, query)
    pages = max(1, math.ceil(matched / query.size))
    page = min(max(1, query.page), pages)
    return rows.iloc[(page - 1) * query.size: page * query.size], matched, page


def _cell(value: object, column: str, link: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        text = "–"
    elif isinstance(value, pd.Timestamp):
        text = value.strftime("%Y-%m-%d")
    elif isinstance(value, float):
        if value.is_integer() or abs(value) >= 1000:
            text = f"{value:,.0f}"
        else:
            text = f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}"
    else:
        text = str(value)
    cls = ' class="num"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
    title = f' title="{escape(text)}"' if column == "title" else ""
    if link and text not in ("–", ""):
        return f'<td{cls}{title}><a href="{escape(link)}">{escape(text)}</a></td>'
    return f"<td{cls}{title}>{escape(text)}</td>"


def table_head(column: str) -> Markup:
    """A column name that may break after its underscores (narrow headers over narrow numbers)."""
    return Markup("_<wbr>").join(escape(part) for part in str(column).split("_"))


def item_link(row: pd.Series, base: str = "") -> str | None:
    """Where a row's id links to: its series (``unique_id``) or its item's first series."""
    if isinstance(row.get("unique_id"), str) and row["unique_id"]:
        return f"{base}/item?{urlencode({'unique_id': row['unique_id']})}"
    if isinstance(row.get("item_id"), str) and row["item_id"]:
        return f"{base}/item?{urlencode({'item_id': row['item_id']})}"
    return None


def rows_html(df: pd.DataFrame, headers: str, links: bool = True, base: str = "",
              keys: pd.DataFrame | None = None) -> str:
    """Table rows; ids and titles link to the item page (``keys``: the full rows, when ``df``
    shows only some columns, so a row without a series id still links through its item)."""
    body = []
    for idx, row in df.iterrows():
        link = item_link(keys.loc[idx] if keys is not None else row, base) if links else None
        cells = "".join(_cell(row[c], c, link if c in ("unique_id", "item_id", "title") else None)
                        for c in df.columns)
        body.append(f"<tr>{cells}</tr>")
    return (f'<div class="scroll"><table class="data"><thead><tr>{headers}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def interactive_table(name: str, df: pd.DataFrame, query: TableQuery, path: str, base: str = "") -> Markup:
    """One server-paged table: filter box, sortable headers, "showing N of M", pager, exports.

    ``path`` is the page the links reload (the table's state travels as ``t=name&...``).
    """
    shown, matched, page = page_of(df, query)
    pages = max(1, math.ceil(matched / query.size))

    def href(**changes: object) -> str:
        return f"{path}?{urlencode({'t': name, **query.params(**changes)})}#t-{name}"

    heads = []
    for col in df.columns:
        desc = query.sort == col and not query.desc
        arrow = (" ▲" if not query.desc else " ▼") if query.sort == col else ""
        heads.append(f'<th><a href="{escape(href(sort=col, desc=desc, page=1))}">{table_head(col)}{arrow}</a></th>')
    first, last = (page - 1) * query.size + 1 if matched else 0, (page - 1) * query.size + len(shown)
    total = f" (filtered from {len(df):,})" if matched != len(df) else ""
    export = urlencode({k: v for k, v in query.params().items() if k in ("q", "sort", "desc")})
    export = f"?{export}" if export else ""
    pager = []
    if page > 1:
        pager.append(f'<a class="prev" href="{escape(href(page=page - 1))}">‹ previous</a>')
    pager.append(f"<span>page {page} of {pages}</span>")
    if page < pages:
        pager.append(f'<a class="next" href="{escape(href(page=page + 1))}">next ›</a>')
    html = f"""
<div class="table-tools" id="t-{escape(name)}" data-table="{escape(name)}">
  <form method="get" action="{escape(path)}#t-{escape(name)}" class="filter">
    <input type="hidden" name="t" value="{escape(name)}">
    {f'<input type="hidden" name="sort" value="{escape(query.sort)}">' if query.sort else ''}
    {'<input type="hidden" name="desc" value="1">' if query.desc else ''}
    <input type="search" name="q" value="{escape(query.q)}" placeholder="filter rows" aria-label="filter {escape(name)}">
    <button type="submit">Filter</button>
  </form>
  <span class="count">showing {first:,}–{last:,} of {matched:,}{total}</span>
  <span class="pager">{" ".join(pager)}</span>
  <span class="export"><a class="csv" href="{base}/export/{escape(name)}.csv{escape(export)}">CSV</a>
    <a class="xlsx" href="{base}/export/{escape(name)}.xlsx{escape(export)}">Excel</a></span>
</div>
{rows_html(shown, "".join(heads), base=base)}"""
    return Markup(html)


def static_table(df: pd.DataFrame, rows: int = PAGE_SIZE, name: str = "table", links: bool = False,
                 download: bool = True) -> Markup:
    """The report's table: the first ``rows`` rows, "showing N of M", and the whole table as CSV."""
    shown = df.head(rows)
    heads = "".join(f"<th>{table_head(c)}</th>" for c in df.columns)
    note = f'<p class="count">showing {len(shown):,} of {len(df):,}'
    if download and len(df):
        data = base64.b64encode(to_csv(df)).decode("ascii")
        note += f' · <a download="{escape(name)}.csv" href="data:text/csv;base64,{data}">download all (CSV)</a>'
    note += "</p>"
    return Markup(note + rows_html(shown, heads, links=links))


def _escape_formula(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells starting with = + - @ are written with a leading apostrophe (no spreadsheet formulas)."""
    out = df.copy()
    for col in out.select_dtypes(include=["object", "string"]).columns:
        out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v)
    return out


def to_csv(df: pd.DataFrame) -> bytes:
    return _escape_formula(df).to_csv(index=False, date_format="%Y-%m-%d").encode("utf-8-sig")


def to_xlsx(df: pd.DataFrame, sheet: str = "trendcast") -> bytes:
    """An Excel workbook (openpyxl) with one sheet; timezone-free dates, no formulas."""
    out = _escape_formula(df)
    for col in out.select_dtypes(include=["datetimetz"]).columns:
        out[col] = out[col].dt.tz_localize(None)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        out.to_excel(writer, index=False, sheet_name=sheet[:31])
    return buf.getvalue()
