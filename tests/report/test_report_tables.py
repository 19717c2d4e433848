"""Tables: filter, sort, paging, titles beside ids, formula-safe CSV/xlsx; readable feature names."""

from __future__ import annotations

import io

import pandas as pd

from trendcast.report.tables import (
    TableQuery,
    apply_query,
    interactive_table,
    page_of,
    static_table,
    to_csv,
    to_xlsx,
    with_titles,
)

FRAME = pd.DataFrame({"unique_id": [f"S1/I{i:03d}" for i in range(60)], "item_id": [f"I{i:03d}" for i in range(60)],
                      "order_qty": [float(i % 7) for i in range(60)]})


def test_filter_sort_and_page() -> None:
    rows, matched = apply_query(FRAME, TableQuery(q="i00"))
    assert matched == 10 and set(rows["item_id"]) == {f"I00{i}" for i in range(10)}
    rows, _ = apply_query(FRAME, TableQuery(sort="order_qty", desc=True))
    assert rows["order_qty"].iloc[0] == 6 and rows["order_qty"].is_monotonic_decreasing
    shown, matched, page = page_of(FRAME, TableQuery(page=99, size=25))
    assert (matched, page, len(shown)) == (60, 3, 10)  # clamped to the last page


def test_interactive_table_says_n_of_m_and_links() -> None:
    titled = with_titles(FRAME, pd.Series({"I001": "Green tea <b>"}))
    assert list(titled.columns[:3]) == ["unique_id", "item_id", "title"]
    html = str(interactive_table("plan", titled, TableQuery(page=2, q="S1"), "/alerts"))
    assert "showing 26–50 of 60" in html and "page 2 of 3" in html
    assert 'href="/item?unique_id=S1%2FI025"' in html and "Green tea &lt;b&gt;" in str(
        interactive_table("plan", titled, TableQuery(), "/alerts"))
    assert '/export/plan.csv?q=S1' in html and '/export/plan.xlsx' in html
    static = str(static_table(titled, rows=5, name="plan"))
    assert "showing 5 of 60" in static and "data:text/csv;base64," in static


def test_exports_neutralise_formulas() -> None:
    df = pd.DataFrame({"title": ["=HYPERLINK(\"x\")", "+1", "tea"], "n": [1, 2, 3]})
    csv = pd.read_csv(io.BytesIO(to_csv(df)), encoding="utf-8-sig")
    assert list(csv["title"]) == ["'=HYPERLINK(\"x\")", "'+1", "tea"]
    sheet = pd.read_excel(io.BytesIO(to_xlsx(df)))
    assert sheet["title"].iloc[0].startswith("'=") and list(sheet["n"]) == [1, 2, 3]
