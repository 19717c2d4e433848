"""A corpus of malformed inputs for ``trendcast ingest``, written on demand.

Every case is a file that ingest must reject with exit code 1, ONE line naming the file (and
the row and column where there is one), and a warehouse left byte-identical. The classes are
the ones a bounded attack run found or should try: impossible and implausible dates, numbers
that are not numbers (NaN, inf, 1e309), wrong encodings, delimiters and field counts,
unbalanced quotes, duplicate keys, huge fields, injection strings in headers and table names,
damaged compression and Parquet. Files are generated (not stored) so big ones cost no repo
space; ``benchmarks/hostile.py`` uses the same list.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SALES_HEADER = "item_id,date,units,store_id,price,promo"
GOOD_SALES = [f"I00{i},2024-03-0{i},{i},S1,9.5,0" for i in range(1, 4)]


@dataclass(frozen=True)
class Case:
    name: str  # file name (its suffix decides how it is read)
    source: str  # sales, products, events, texts, inventory
    make: Callable[[Path], object]  # writes the file at the given path
    row: int | None = None  # the data row the message must name (None: no row)
    column: str | None = None  # the column the message must name (None: no column)
    spec: str | None = None  # what to pass instead of the path (duckdb:PATH::table)


def _text(body: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda p: p.write_bytes(body.encode(encoding))


def _raw(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def _sales_row(bad: str, at: int = 2) -> str:
    """A sales CSV whose data row ``at`` is ``bad`` (other rows fine)."""
    rows = list(GOOD_SALES)
    rows.insert(at - 1, bad)
    return "\n".join([SALES_HEADER, *rows]) + "\n"


def _sales_value(column: str, value: str, at: int = 2) -> Case:
    fields = dict(zip(SALES_HEADER.split(","), ["I009", "2024-03-09", "1", "S1", "9.5", "0"], strict=True))
    fields[column] = value
    safe = "".join(ch if ch.isalnum() else "_" for ch in value)[:24] or "empty"
    return Case(f"sales_{column}_{safe}.csv", "sales", _text(_sales_row(",".join(fields.values()), at)),
                row=at, column=column)


def _gzip(body: str) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(gzip.compress(body.encode()))


def _truncated_gzip(p: Path) -> None:
    data = gzip.compress(_sales_row("I009,2024-03-09,1,S1,9.5,0").encode() * 50)
    p.write_bytes(data[: len(data) // 2])


def _parquet(frame_builder: Callable[[], object]) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        import pyarrow.parquet as pq

        pq.write_table(frame_builder(), p)

    return write


def _far_parquet():  # noqa: ANN202 - a pyarrow table
    import pyarrow as pa

    return pa.table({"item_id": ["I1", "I2"], "date": pa.array([date(2024, 1, 1), date(9999, 12, 31)]),
                     "units": [1.0, 2.0]})


def _nan_parquet():  # noqa: ANN202
    import pyarrow as pa

    return pa.table({"item_id": ["I1", "I2", "I3"], "date": ["2024-01-01", "2024-01-02", "2024-01-03"],
                     "units": [1.0, 2.0, float("nan")]})


def _source_db(p: Path) -> None:
    import duckdb

    con = duckdb.connect(str(p))
    con.execute("CREATE TABLE sales AS SELECT 'I1' AS item_id, DATE '2024-01-01' AS date, 1.0 AS units")
    con.close()


def _huge_field(mb: float) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        with p.open("w", encoding="utf-8") as fh:
            fh.write(SALES_HEADER + "\n" + GOOD_SALES[0] + "\n")
            fh.write("I002,2024-03-02," + "9" * int(mb * 1024 * 1024) + ",S1,9.5,0\n")
            fh.write(GOOD_SALES[2] + "\n")

    return write


def cases() -> list[Case]:
    """Every malformed input (>= 60), each with where its message must point."""
    far = (date.today() + timedelta(days=800)).isoformat()
    out = [
        # -- dates: impossible, implausible, unparseable -----------------------------------
        _sales_value("date", "9999-12-31"),
        _sales_value("date", "0001-01-01"),
        _sales_value("date", "1989-12-31"),
        _sales_value("date", far),
        _sales_value("date", "2024-13-01"),
        _sales_value("date", "2024-02-30"),
        _sales_value("date", "03/09/2024"),
        _sales_value("date", "yesterday"),
        _sales_value("date", "2024-03-09'; DROP TABLE sales; --"),
        _sales_value("date", ""),
        # -- numbers -------------------------------------------------------------------------
        _sales_value("units", "abc"),
        _sales_value("units", "-5"),
        _sales_value("units", "NaN"),
        _sales_value("units", "inf"),
        _sales_value("units", "-inf"),
        _sales_value("units", "1e309"),
        _sales_value("units", '"1,5"'),
        _sales_value("units", ""),
        _sales_value("units", "   "),
        _sales_value("units", "0x10"),
        _sales_value("price", "-1"),
        _sales_value("price", "Infinity"),
        _sales_value("promo", "2"),
        _sales_value("promo", "yes"),
        _sales_value("item_id", ""),
        _sales_value("units", "1; DROP TABLE sales"),
        # -- structure: fields, quotes, delimiters ---------------------------------------------
        Case("sales_too_many_fields.csv", "sales", _text(_sales_row("I009,2024-03-09,1,S1,9.5,0,extra")), row=2),
        Case("sales_too_few_fields.csv", "sales", _text(_sales_row("I009,2024-03-09")), row=2),
        Case("sales_unbalanced_quote.csv", "sales", _text(_sales_row('"I009,2024-03-09,1,S1,9.5,0')), row=2),
        Case("sales_unbalanced_quote_last.csv", "sales",
             _text(_sales_row('"I009,2024-03-09,1,S1,9.5,0', at=4)), row=4),
        Case("sales_mixed_delimiter.csv", "sales", _text(_sales_row("I009;2024-03-09;1;S1;9.5;0")), row=2),
        Case("sales_semicolon_bad_units.csv", "sales",
             _text(SALES_HEADER.replace(",", ";") + "\nI1;2024-03-01;1;S1;9.5;0\nI2;2024-03-02;x;S1;9.5;0\n"),
             row=2, column="units"),
        Case("sales_tab_in_csv.csv", "sales", _text(_sales_row("I009\t2024-03-09\t1\tS1\t9.5\t0")), row=2),
        Case("sales_missing_units.csv", "sales", _text("item_id,date\nI1,2024-01-01\n"), column="units"),
        Case("sales_missing_item.csv", "sales", _text("date,units\n2024-01-01,1\n"), column="item_id"),
        Case("sales_header_injection.csv", "sales",
             _text('item_id,date,"units""; DROP TABLE sales; --"\nI1,2024-01-01,1\n'), column="units"),
        Case("sales_empty.csv", "sales", _raw(b"")),
        Case("sales_blank_first_line.csv", "sales", _text("\n\nitem_id,date,units\nI1,2024-01-01,1\n")),
        Case("sales_only_spaces_header.csv", "sales", _text("   \nI1,2024-01-01,1\n")),
        Case("sales_binary.csv", "sales", _raw(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)),
        # -- encodings -------------------------------------------------------------------------
        Case("sales_latin1.csv", "sales", _text(_sales_row("Caf\xe9,2024-03-09,1,S1,9.5,0"), "latin-1"), row=2),
        Case("sales_utf16.csv", "sales", _text(_sales_row("I009,2024-03-09,1,S1,9.5,0"), "utf-16")),
        Case("sales_invalid_utf8_late.csv", "sales",
             _raw(_sales_row("I009,2024-03-09,1,S1,9.5,0", at=4).encode().replace(b"I009", b"I\xff\xfe9")),
             row=4),
        # -- duplicates ----------------------------------------------------------------------
        Case("sales_duplicate_key.csv", "sales",
             _text(_sales_row(GOOD_SALES[0].replace(",1,S1", ",7,S1"), at=3)), row=3, column="store_id"),
        Case("sales_duplicate_exact.csv", "sales", _text(_sales_row(GOOD_SALES[1], at=4)), row=4,
             column="store_id"),
        Case("products_duplicate.csv", "products",
             _text("item_id,category\nP1,shoes\nP2,bags\nP1,hats\n"), row=3, column="item_id"),
        # -- huge fields -------------------------------------------------------------------------
        Case("sales_huge_field_3mb.csv", "sales", _huge_field(3), row=2),
        Case("sales_huge_field_10mb.csv", "sales", _huge_field(10), row=2),
        # -- other sources -------------------------------------------------------------------------
        Case("products_empty_category.csv", "products", _text("item_id,category\nP1,shoes\nP2,\n"),
             row=2, column="category"),
        Case("products_negative_cost.csv", "products",
             _text("item_id,category,unit_cost\nP1,shoes,3\nP2,bags,-4\n"), row=2, column="unit_cost"),
        Case("products_launch_1800.csv", "products",
             _text("item_id,category,launch_date\nP1,shoes,1800-01-01\n"), row=1, column="launch_date"),
        Case("events_bad_kind.csv", "events",
             _text("user_id,item_id,timestamp,event\nu1,I1,2024-01-01T10:00:00,view\nu2,I1,2024-01-01T10:00:00,click\n"),
             row=2, column="event"),
        Case("events_far_timestamp.csv", "events",
             _text("user_id,item_id,timestamp,event\nu1,I1,9999-01-01T00:00:00,view\n"), row=1, column="timestamp"),
        Case("events_bad_timestamp.csv", "events",
             _text("user_id,item_id,timestamp,event\nu1,I1,noon,view\n"), row=1, column="timestamp"),
        Case("events_empty_user.csv", "events",
             _text("user_id,item_id,timestamp,event\n,I1,2024-01-01T10:00:00,view\n"), row=1, column="user_id"),
        Case("texts_empty_text.csv", "texts", _text("date,text\n2024-01-01,great\n2024-01-02,\n"),
             row=2, column="text"),
        Case("texts_far_date.csv", "texts", _text("date,text\n2999-01-01,from the future\n"), row=1, column="date"),
        Case("texts_bad_rating.csv", "texts", _text("date,text,rating\n2024-01-01,ok,five\n"), row=1,
             column="rating"),
        Case("inventory_negative.csv", "inventory",
             _text("item_id,date,on_hand\nI1,2024-01-01,5\nI1,2024-01-02,-3\n"), row=2, column="on_hand"),
        # -- compression, formats, names ---------------------------------------------------------
        Case("sales_far_date.csv.gz", "sales", _gzip(_sales_row("I009,9999-12-31,1,S1,9.5,0")), row=2,
             column="date"),
        Case("sales_truncated.csv.gz", "sales", _truncated_gzip),
        Case("sales_not_gzip.csv.gz", "sales", _text(_sales_row("I009,2024-03-09,1,S1,9.5,0"))),
        Case("sales_garbage.parquet", "sales", _raw(b"PAR1" + b"\x00garbage" * 100)),
        Case("sales_far_date.parquet", "sales", _parquet(_far_parquet), row=2, column="date"),
        Case("sales_nan.parquet", "sales", _parquet(_nan_parquet), row=3, column="units"),
        Case("sales.xlsx", "sales", _raw(b"PK\x03\x04 not really a spreadsheet")),
        Case("source_injection.duckdb", "sales", _source_db,
             spec='duckdb:{path}::sales"; DROP TABLE sales; --'),
        Case("source_missing_table.duckdb", "sales", _source_db, spec="duckdb:{path}::nosuch"),
        Case("source_no_table.duckdb", "sales", _source_db, spec="duckdb:{path}"),
    ]
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "corpus file names must be unique"
    return out


def write(case: Case, folder: Path) -> str:
    """Write ``case`` under ``folder``; return what to pass to ingest."""
    path = folder / case.name
    case.make(path)
    return case.spec.format(path=path) if case.spec else str(path)


def good_sales(folder: Path) -> Path:
    """A valid sales file: what the warehouse holds before the corpus is thrown at it."""
    path = folder / "good_sales.csv"
    path.write_text("\n".join([SALES_HEADER, *GOOD_SALES]) + "\n", encoding="utf-8")
    return path


__all__ = ["Case", "cases", "good_sales", "write"]
