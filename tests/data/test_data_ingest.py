"""Validated ingest: every rejection reason, all-or-nothing, idempotent upsert, skip mode."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from trendcast.cli import main
from trendcast.data.ingest import ingest, text_id
from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError, InputError

SALES = "store_id,item_id,date,units,price,promo\nS1,I1,2024-01-01,3,9.5,0\nS1,I1,2024-01-02,4,9.5,1\nS2,I1,2024-01-01,0,9.0,0\n"
PRODUCTS = "item_id,category,title\nI1,tea,Green tea\nI2,snacks,Nuts\n"


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: to compare the warehouse before and after."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {n: sorted(con.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}
    finally:
        con.close()


# -- rejection reasons ---------------------------------------------------------------------------
BAD_FILES = {
    # name: (source, file content, expected row, expected column, words in the reason)
    "missing column": ("sales", "item_id,date\nI1,2024-01-01\n", None, "units", "missing column"),
    "non-numeric units": ("sales", "item_id,date,units\nI1,2024-01-01,3\nI1,2024-01-02,three\n",
                          2, "units", "not a number"),
    "negative units": ("sales", "item_id,date,units\nI1,2024-01-01,3\nI1,2024-01-02,4\nI1,2024-01-03,-1\n",
                       3, "units", "negative"),
    "empty units": ("sales", "item_id,date,units\nI1,2024-01-01,\n", 1, "units", "empty value"),
    "bad date": ("sales", "item_id,date,units\nI1,2024-01-01,3\nI1,2024-13-45,3\n", 2, "date",
                 "unparseable date"),
    "promo not 0/1": ("sales", "item_id,date,units,promo\nI1,2024-01-01,3,0\nI1,2024-01-02,3,2\n",
                      2, "promo", "0 or 1"),
    "duplicate key": ("sales", "item_id,date,units\nI1,2024-01-01,3\nI2,2024-01-01,3\nI1,2024-01-01,5\n",
                      3, "item_id", "same (item_id, date) as row 1 (if the rows are order lines, load them with --orders"),
    "bad event": ("events", "user_id,item_id,timestamp,event\nu1,I1,2024-01-01T10:00:00,view\n"
                  "u1,I1,2024-01-01T10:01:00,click\n", 2, "event", "bad event value 'click'"),
    "bad timestamp": ("events", "user_id,item_id,timestamp,event\nu1,I1,yesterday,view\n", 1,
                      "timestamp", "unparseable timestamp"),
    "negative price": ("sales", "item_id,date,units,price\nI1,2024-01-01,3,-2\n", 1, "price", "negative"),
    "empty category": ("products", "item_id,category\nI1,  \n", 1, "category", "empty value"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_rejection_names_file_row_column_reason(tmp_path: Path, case: str) -> None:
    source, content, row, column, words = BAD_FILES[case]
    path = write(tmp_path / f"{source}.csv", content)
    with pytest.raises(InputError) as err:
        ingest(tmp_path / "wh.duckdb", **{source: path})
    exc = err.value
    assert exc.file == str(path)
    assert exc.row == row
    assert exc.column == column
    assert words in exc.reason
    assert str(path) in str(exc)


def test_wrong_encoding_names_row_and_column(tmp_path: Path) -> None:
    content = "item_id,date,units\nI1,2024-01-01,3\nI2,2024-01-02,4\nI\xe9,2024-01-03,5\n"
    path = write(tmp_path / "latin1.csv", content.encode("latin-1"))
    with pytest.raises(InputError) as err:
        ingest(tmp_path / "wh.duckdb", sales=path)
    assert err.value.row == 3 and err.value.column == "item_id"
    assert "UTF-8" in err.value.reason


def test_duplicate_key_detected_when_table_already_has_rows(tmp_path: Path) -> None:
    """Upserts hide in-file duplicates, so they are checked before loading into a filled table."""
    db = tmp_path / "wh.duckdb"
    ingest(db, sales=write(tmp_path / "a.csv", SALES))
    dup = write(tmp_path / "b.csv", "item_id,store_id,date,units\nI9,S1,2024-02-01,1\nI9,S1,2024-02-01,2\n")
    with pytest.raises(InputError, match="duplicate key") as err:
        ingest(db, sales=dup)
    assert err.value.row == 2


def test_rejected_call_leaves_warehouse_exactly_as_before(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    ingest(db, sales=write(tmp_path / "s.csv", SALES), products=write(tmp_path / "p.csv", PRODUCTS))
    before = snapshot(db)
    changed_sales = SALES.replace("S1,I1,2024-01-01,3", "S1,I1,2024-01-01,30") + "S1,I2,2024-01-03,x,1,0\n"
    new_products = PRODUCTS + "I3,baby,Diapers\n"
    with pytest.raises(InputError):  # products are valid, sales are not: neither is loaded
        ingest(db, products=write(tmp_path / "p2.csv", new_products),
               sales=write(tmp_path / "s2.csv", changed_sales))
    with pytest.raises(InputError):  # a duplicate found by the key during the load also rolls back
        ingest(tmp_path / "fresh.duckdb", products=write(tmp_path / "p3.csv", new_products),
               sales=write(tmp_path / "s3.csv", SALES + "S1,I1,2024-01-01,7,9.5,0\n"))
    assert snapshot(db) == before
    fresh = snapshot(tmp_path / "fresh.duckdb")
    assert fresh["products"] == [] and fresh["sales"] == []


# -- idempotence ---------------------------------------------------------------------------------
def test_reingest_is_idempotent_and_updates_changed_values(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    path = write(tmp_path / "s.csv", SALES)
    first = ingest(db, sales=path).sources["sales"]
    assert (first.rows, first.inserted, first.updated, first.unchanged) == (3, 3, 0, 0)
    before = snapshot(db)
    again = ingest(db, sales=path).sources["sales"]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert snapshot(db) == before
    changed = write(tmp_path / "s2.csv", SALES.replace("S1,I1,2024-01-02,4", "S1,I1,2024-01-02,40")
                    + "S2,I1,2024-01-02,1,9.0,0\n")
    rep = ingest(db, sales=changed).sources["sales"]
    assert (rep.inserted, rep.updated, rep.unchanged) == (1, 1, 2)
    with Warehouse(db) as wh:
        units = wh.con.execute("SELECT units FROM sales WHERE store_id='S1' AND date='2024-01-02'").fetchone()
        assert units[0] == 40.0 and wh.count("sales") == 4




def test_tracker_exports_load_as_they_come(tmp_path: Path) -> None:
    """Taobao-style pv/buy and Unix times (seconds or milliseconds) are the contract's view/purchase and timestamps."""
    events = write(tmp_path / "ev.csv", "user_id,item_id,timestamp,event\nu1,I1,1704103200,pv\n"
                   "u1,I1,1704103260000,add-to-cart\nu1,I1,2024-01-01T10:02:00,buy\n")
    ingest(tmp_path / "wh.duckdb", events=events)
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        rows = wh.con.execute("SELECT CAST(timestamp AS VARCHAR), event FROM events ORDER BY 1").fetchall()
    assert rows == [("2024-01-01 10:00:00", "view"), ("2024-01-01 10:01:00", "cart"), ("2024-01-01 10:02:00", "purchase")]
    with pytest.raises(InputError, match="Unix seconds"):
        ingest(tmp_path / "wh.duckdb", events=write(tmp_path / "bad.csv", "user_id,item_id,timestamp,event\nu1,I1,17041,pv\n"))

# -- order lines ---------------------------------------------------------------------------------
ORDER_LINES = ("order_id,store_id,item_id,date,units,price,promo\n"
               "O1,S1,I1,2024-01-01 09:12:00,1,10,0\nO2,S1,I1,2024-01-01 17:40:00,3,6,1\n"
               "O2,S1,I2,2024-01-01 17:40:00,2,5,0\nO3,S1,I1,2024-01-02 08:00:00,2,10,0\n")


def test_order_lines_are_summed_per_item_store_and_day(tmp_path: Path) -> None:
    """An order export (an order_id column, many lines per day) loads as daily sales."""
    db = tmp_path / "wh.duckdb"
    path = write(tmp_path / "orders.csv", ORDER_LINES)
    rep = ingest(db, sales=path).sources["sales"]
    assert (rep.rows, rep.summed_into, rep.inserted, rep.ignored_columns) == (4, 3, 3, [])
    with Warehouse(db) as wh:
        rows = wh.con.execute("SELECT item_id, CAST(date AS VARCHAR), units, price, promo FROM sales ORDER BY ALL").fetchall()
    assert rows == [("I1", "2024-01-01", 4.0, 7.0, 1), ("I1", "2024-01-02", 2.0, 10.0, 0),
                    ("I2", "2024-01-01", 2.0, 5.0, 0)]  # price weighted by units: (1 x 10 + 3 x 6) / 4
    again = ingest(db, sales=path).sources["sales"]
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)  # a reload adds nothing
    no_ids = write(tmp_path / "lines.csv", "\n".join(line.split(",", 1)[1] for line in ORDER_LINES.splitlines()) + "\n")
    with pytest.raises(InputError, match="--orders"):
        ingest(tmp_path / "other.duckdb", sales=no_ids)
    assert ingest(tmp_path / "other.duckdb", sales=no_ids, orders=True).sources["sales"].summed_into == 3
    with pytest.raises(InputError, match="duplicate key"):  # --no-orders: an order_id column does not sum
        ingest(tmp_path / "third.duckdb", sales=path, orders=False)


def test_returns_in_order_lines_are_netted(tmp_path: Path) -> None:
    """A return is a negative line: netted against the day's sales; more returned than sold is 0 sold."""
    lines = write(tmp_path / "orders.csv", ORDER_LINES + "R1,S1,I1,2024-01-01 18:00:00,-1,6,0\n"
                  "R2,S1,I2,2024-01-02 10:00:00,-2,5,0\n")
    ingest(tmp_path / "wh.duckdb", sales=lines)
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        rows = wh.con.execute("SELECT item_id, CAST(date AS VARCHAR), units FROM sales ORDER BY ALL").fetchall()
    assert rows == [("I1", "2024-01-01", 3.0), ("I1", "2024-01-02", 2.0), ("I2", "2024-01-01", 2.0),
                    ("I2", "2024-01-02", 0.0)]
    with pytest.raises(InputError, match="negative value '-1'"):  # daily sales stay >= 0
        ingest(tmp_path / "daily.duckdb", sales=write(tmp_path / "d.csv", "item_id,date,units\nI1,2024-01-01,-1\n"))

def test_missing_optional_column_does_not_erase_stored_values(tmp_path: Path) -> None:
    db = tmp_path / "wh.duckdb"
    ingest(db, sales=write(tmp_path / "s.csv", SALES))
    ingest(db, sales=write(tmp_path / "u.csv", "store_id,item_id,date,units\nS1,I1,2024-01-01,8\n"))
    with Warehouse(db) as wh:
        row = wh.con.execute("SELECT units, price FROM sales WHERE store_id='S1' AND date='2024-01-01'").fetchone()
    assert row == (8.0, 9.5)


# -- skip mode -----------------------------------------------------------------------------------
def test_skip_mode_loads_good_rows_and_writes_reasons(tmp_path: Path) -> None:
    content = ("item_id,date,units,promo\nI1,2024-01-01,3,0\nI1,2024-01-02,-4,1\n"
               "I\xe9,2024-01-03,5,0\nI1,2024-01-04,5,7\nI1,2024-01-01,6,0\nI2,2024-01-01,1,1\n")
    path = write(tmp_path / "s.csv", content.encode("latin-1"))
    rejects = tmp_path / "out" / "rejects.csv"
    rep = ingest(tmp_path / "wh.duckdb", sales=path, on_error="skip", rejects=rejects)
    s = rep.sources["sales"]
    assert (s.rows, s.inserted, s.rejected) == (6, 2, 4)
    with rejects.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["source"] for r in rows] == ["sales"] * 4
    got = [(int(r["row"]), r["column"]) for r in rows]
    # row 3 is dropped by the reader; rows after it keep their numbers as in the file
    assert got == [(2, "units"), (3, "item_id"), (4, "promo"), (5, "item_id")]
    reasons = [r["reason"] for r in rows]
    assert "negative" in reasons[0] and "UTF-8" in reasons[1] and "0 or 1" in reasons[2]
    assert "row 1" in reasons[3]
    assert '"units":"-4"' in rows[0]["raw"]
    assert all(r["file"] == str(path) for r in rows)
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        assert sorted(wh.table("sales")["item_id"]) == ["I1", "I2"]


def test_bad_on_error_value(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        ingest(tmp_path / "wh.duckdb", sales=write(tmp_path / "s.csv", SALES), on_error="ignore")


# -- formats -------------------------------------------------------------------------------------
def test_parquet_frame_gzip_and_duckdb_table_inputs(tmp_path: Path) -> None:
    frame = pd.DataFrame({"item_id": ["I1", "I2"], "date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                          "units": [1.0, 2.0], "promo": [True, False]})
    frame.to_parquet(tmp_path / "s.parquet")
    with gzip.open(tmp_path / "p.csv.gz", "wt", encoding="utf-8") as fh:
        fh.write(PRODUCTS)
    src = tmp_path / "src.duckdb"
    with duckdb.connect(str(src)) as con:
        con.execute("CREATE TABLE inv AS SELECT 'I1' AS item_id, DATE '2024-01-01' AS date, 5 AS on_hand")
    db = tmp_path / "wh.duckdb"
    rep = ingest(db, sales=tmp_path / "s.parquet", products=tmp_path / "p.csv.gz",
                 inventory=f"duckdb:{src}::inv")
    assert rep.sources["sales"].inserted == 2 and rep.sources["inventory"].inserted == 1
    again = ingest(db, sales=frame)
    assert again.sources["sales"].unchanged == 2
    with Warehouse(db) as wh:
        sales = wh.table("sales").sort_values("date")
        assert list(sales["promo"]) == [1, 0] and set(sales["store_id"]) == {""}
        assert wh.count("products") == 2


def test_columns_matched_loosely_and_extras_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", " Item_ID ,DATE,Units,notes\n I1 ,2024-01-01, 3 ,hello\n")
    rep = ingest(tmp_path / "wh.duckdb", sales=path)
    assert rep.sources["sales"].ignored_columns == ["notes"]
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        assert wh.con.execute("SELECT item_id, units FROM sales").fetchall() == [("I1", 3.0)]


def test_texts_ids_repeats_and_missing_lang(tmp_path: Path) -> None:
    content = ("date,text,item_id,source\n2024-01-01,great quality,I1,review\n"
               "2024-01-01,great quality,I1,review\n2024-01-02,露营 is trending,,social\n")
    db = tmp_path / "wh.duckdb"
    rep = ingest(db, texts=write(tmp_path / "t.csv", content))
    assert rep.sources["texts"].inserted == 3  # two shoppers writing the same words are two texts
    with Warehouse(db) as wh:
        ids = set(wh.table("texts")["text_id"])
        assert wh.con.execute("SELECT count(*) FROM texts WHERE lang IS NULL").fetchone()[0] == 3
    expected = {text_id("2024-01-01", "great quality", "I1", "review"),
                text_id("2024-01-01", "great quality", "I1", "review", occurrence=2),
                text_id("2024-01-02", "露营 is trending", None, "social")}
    assert ids == expected
    assert ingest(db, texts=tmp_path / "t.csv").sources["texts"].unchanged == 3


# -- scale ---------------------------------------------------------------------------------------
def test_file_larger_than_duckdb_memory_limit_streams(tmp_path: Path) -> None:
    """A ~80 MB texts file loads while DuckDB may use 64 MB: reading and checking spill to disk."""
    path = tmp_path / "texts.csv"
    duckdb.connect().execute(f"""COPY (
        SELECT (DATE '2023-01-01' + (i % 700)::INT)::VARCHAR AS date,
               'review ' || i || ' ' || repeat('很好 quality text ', 36) AS text,
               'I' || (i % 300) AS item_id, 'review' AS source
        FROM range(100000) t(i)) TO '{path}' (HEADER)""")
    assert path.stat().st_size > 64 * 1024 * 1024
    with Warehouse(tmp_path / "wh.duckdb") as wh:
        wh.con.execute("SET memory_limit='64MB'")
        rep = ingest(wh, texts=path, chunk_rows=40_000)
        assert rep.sources["texts"].inserted == 100_000
        assert wh.count("texts") == 100_000


def test_chunked_load_reports_progress(tmp_path: Path) -> None:
    from rich.console import Console
    from rich.progress import Progress

    bar = Progress(console=Console(file=open(tmp_path / "bar.txt", "w")))  # noqa: SIM115
    with bar:
        ingest(tmp_path / "wh.duckdb", sales=write(tmp_path / "s.csv", SALES), progress=bar, chunk_rows=1)
    task = bar.tasks[0]
    assert task.total == 3 and task.completed == 3 and "sales" in task.description


# -- demo and CLI --------------------------------------------------------------------------------
def test_demo_data_ingests(tmp_path: Path) -> None:
    from trendcast.data.ingest import demo_step

    lines = demo_step(tmp_path / "demo.duckdb", tmp_path / "out")
    assert "188,441 rows: 188,441 new" in lines["sales"]
    assert Path(lines["ingest report"]).exists()
    with Warehouse(tmp_path / "demo.duckdb") as wh:
        panel = wh.sales_panel()
    assert panel["unique_id"].nunique() == 300


def test_cli_ingest_ok_and_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "wh.duckdb"
    ok = write(tmp_path / "s.csv", SALES)
    assert main(["ingest", "--sales", str(ok), "--db", str(db)]) == 0
    assert "sales" in capsys.readouterr().out
    bad = write(tmp_path / "b.csv", "item_id,date,units\nI1,2024-01-01,-3\n")
    assert main(["ingest", "--sales", str(bad), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "row 1" in err and "units" in err and "negative" in err
    rejects = tmp_path / "rej.csv"
    assert main(["ingest", "--sales", str(bad), "--db", str(db), "--on-error", "skip",
                 "--rejects", str(rejects)]) == 0
    assert "negative" in rejects.read_text(encoding="utf-8")


def test_sold_items_missing_from_the_catalogue_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sales = write(tmp_path / "s.csv", SALES + "S1,0001,2024-01-01,2,5.0,0\n")
    products = write(tmp_path / "p.csv", PRODUCTS)
    rep = ingest(tmp_path / "wh.duckdb", sales=sales, products=products)
    assert rep.uncatalogued == ["0001"] and "0001" in rep.summary()["not in the catalogue"]
    assert ingest(tmp_path / "wh.duckdb", products=write(tmp_path / "p2.csv", "item_id,category\n0001,tea\n")).uncatalogued == []
    assert main(["ingest", "--db", str(tmp_path / "cli.duckdb"), "--sales", str(sales)]) == 0
    assert "Not in the catalogue" in capsys.readouterr().out
