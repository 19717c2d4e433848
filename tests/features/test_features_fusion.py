"""Fusion: each source at daily and weekly frequency, the leakage rule, selection and names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trendcast as tc
from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError, InputError
from trendcast.features.frequency import period_of
from trendcast.features.fusion import feature_label, fuse
from trendcast.forecasting import future_frame

ITEMS = ("A", "B")


def _panel(freq: str, periods: int, start: str = "2024-01-07") -> pd.DataFrame:
    ds = pd.date_range(start, periods=periods, freq=freq)
    rows = [
        {"unique_id": f"1/{i}", "ds": d, "y": float(k % 5), "item_id": i, "store_id": "1", "category": "cat"}
        for i in ITEMS for k, d in enumerate(ds)
    ]
    return pd.DataFrame(rows)


def _insert(wh: Warehouse, table: str, frame: pd.DataFrame, create: bool = False) -> None:
    wh.con.register("frame", frame)
    verb = "CREATE OR REPLACE TABLE {t} AS SELECT * FROM frame" if create else "INSERT INTO {t} BY NAME SELECT * FROM frame"
    wh.con.execute(verb.format(t=table))
    wh.con.unregister("frame")


def _events(days: pd.DatetimeIndex, per_day: dict[str, int]) -> pd.DataFrame:
    """``per_day[item]`` views on every day, plus one purchase a day for item A."""
    rows = []
    for d in days:
        for item, n in per_day.items():
            rows += [("u1", item, d + pd.Timedelta(minutes=k), "view") for k in range(n)]
        rows.append(("u2", "A", d + pd.Timedelta(hours=5), "purchase"))
    return pd.DataFrame(rows, columns=["user_token", "item_id", "timestamp", "event"])


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    with Warehouse(tmp_path / "fusion.duckdb") as w:
        yield w


def test_none_returns_the_inputs_unchanged(wh: Warehouse) -> None:
    panel = _panel("D", 30)
    fut = future_frame(panel, 7)
    out = fuse(wh, panel, fut, "D", 7, covariates="none")
    assert out.panel is panel and out.future is fut and out.used == []


@pytest.mark.parametrize("freq", ["D", "W-SUN"])
def test_behaviour_counts_per_period_lagged_by_the_horizon(wh: Warehouse, freq: str) -> None:
    panel = _panel(freq, 20)
    days = pd.date_range(panel["ds"].min() - pd.Timedelta(days=6), panel["ds"].max(), freq="D")
    counts = {"A": 3, "B": 1}
    _insert(wh, "events", _events(days, counts))
    h = 2
    fut = future_frame(panel, h, freq=freq)
    out = fuse(wh, panel, fut, freq, h, covariates="behaviour")
    col = f"beh_views_lag{h}"
    assert {c.name for c in out.used} == {col, f"beh_carts_lag{h}", f"beh_purchases_lag{h}", f"beh_conversion_lag{h}"}
    per = 1 if freq == "D" else 7
    a = out.panel[out.panel["item_id"] == "A"].set_index("ds")
    late = a.index[a.index >= a.index.min() + pd.Timedelta(days=per * h)]
    assert (a.loc[late, col] == counts["A"] * per).all()
    assert np.allclose(a.loc[late, f"beh_conversion_lag{h}"], 1 / counts["A"])
    fa = out.future[out.future["unique_id"] == "1/A"]
    assert len(fa) == h and (fa[col] == counts["A"] * per).all()  # known at the origin
    assert "week" in feature_label(col, freq) if freq != "D" else "7 days" not in feature_label(col, freq)


@pytest.mark.parametrize("freq", ["D", "W-SUN"])
def test_text_signals_aggregate_to_the_period_and_new_columns_flow_through(wh: Warehouse, freq: str) -> None:
    panel = _panel(freq, 12)
    days = pd.date_range(panel["ds"].min() - pd.Timedelta(days=6), panel["ds"].max(), freq="D")
    n = np.where(np.arange(len(days)) % 2 == 0, 2, 0)  # texts every other day
    sig = pd.DataFrame({"item_id": "A", "date": days.date, "n_texts": n, "n_reviews": n,
                        "sent_mean": np.where(n > 0, 0.5, 0.0), "aspect_battery_sent": np.where(n > 0, -0.4, 0.0)})
    _insert(wh, "signals_item_daily", sig, create=True)
    h = 1
    out = fuse(wh, panel, future_frame(panel, h, freq=freq), freq, h, covariates="text")
    names = {c.name for c in out.used}
    assert f"txt_item_aspect_battery_sent_lag{h}" in names  # a column the text stage adds later
    a = out.panel[out.panel["item_id"] == "A"].set_index("ds").iloc[2:]
    sent = a[f"txt_item_sent_mean_lag{h}"]
    if freq == "D":
        assert set(sent.unique()) <= {0.0, 0.5}
    else:  # weighted by texts: the mean over the week's texts, not diluted by text-free days
        assert np.allclose(sent, 0.5)
        assert set(a[f"txt_item_n_texts_lag{h}"].unique()) <= {6.0, 8.0}  # 3 or 4 text days x 2
    b = out.panel[out.panel["item_id"] == "B"]
    assert (b[f"txt_item_n_texts_lag{h}"].iloc[2:] == 0).all()  # no texts: zero, not missing
    label = feature_label(f"txt_item_sent_mean_lag{h}", freq)
    assert "mean sentiment" in label and ("week" in label) == (freq != "D")


@pytest.mark.parametrize("freq", ["D", "W-SUN"])
def test_calendar_counts_festivals_and_holidays_per_period(wh: Warehouse, freq: str) -> None:
    panel = _panel(freq, 60 if freq == "D" else 52, start="2024-10-01" if freq == "D" else "2024-01-07")
    cn = fuse(wh, panel, future_frame(panel, 3, freq=freq), freq, 3, covariates="calendar", country="CN")
    us = fuse(wh, panel, future_frame(panel, 3, freq=freq), freq, 3, covariates="calendar", country="US")
    p_cn = cn.panel.drop_duplicates("ds").set_index("ds")
    p_us = us.panel.drop_duplicates("ds").set_index("ds")
    double11 = pd.Timestamp(period_of(pd.Series([pd.Timestamp("2024-11-11")]), freq)[0])
    bf = pd.Timestamp(period_of(pd.Series([pd.Timestamp("2024-11-29")]), freq)[0])
    assert p_cn.loc[double11, "cal_fest_singles_day"] == 1
    assert p_us.loc[bf, "cal_fest_black_friday"] == 1 and "cal_fest_singles_day" not in p_us
    assert p_us.loc[bf, "cal_holiday_days"] == (1 if freq != "D" else 0)  # Thanksgiving is 11-28
    national = pd.Timestamp(period_of(pd.Series([pd.Timestamp("2024-10-03")]), freq)[0])
    assert p_cn.loc[national, "cal_holiday_days"] == (1 if freq == "D" else 6)  # Oct 1-7 off; W-SUN week ends 10-06
    if freq != "D":
        spring = pd.Timestamp(period_of(pd.Series([pd.Timestamp("2024-02-10")]), freq)[0])
        assert p_cn.loc[spring, "cal_fest_spring_festival"] >= 2
    assert all(c.future_known for c in cn.used)
    assert not cn.future[[c.name for c in cn.used]].isna().any().any()


def test_other_countries_holidays_come_from_the_holidays_package(wh: Warehouse) -> None:
    """A German shop gets German days off (Tag der Deutschen Einheit, 3 October) and the festivals shops
    run worldwide; a made-up code is refused."""
    panel = _panel("W-SUN", 52, start="2024-01-07")
    de = fuse(wh, panel, future_frame(panel, 3, freq="W-SUN"), "W-SUN", 3, covariates="calendar", country="de")
    weeks = de.panel.drop_duplicates("ds").set_index("ds")["cal_holiday_days"]
    unity = pd.Timestamp(period_of(pd.Series([pd.Timestamp("2024-10-03")]), "W-SUN")[0])
    assert weeks[unity] == 1 and weeks[pd.Timestamp("2024-12-29")] == 2  # 25 and 26 December
    festivals = {c for c in de.panel.columns if c.startswith("cal_fest_")}  # worldwide ones, not China's or the US's
    assert {"cal_fest_black_friday", "cal_fest_christmas"} <= festivals
    assert not festivals & {"cal_fest_spring_festival", "cal_fest_mid_year_618", "cal_fest_thanksgiving"}
    with pytest.raises(ConfigError, match="Unknown country code 'XX'"):
        fuse(wh, panel, future_frame(panel, 3, freq="W-SUN"), "W-SUN", 3, covariates="calendar", country="XX")


def _walmart_features(path: Path, dates: pd.DatetimeIndex, forecast_dates: pd.DatetimeIndex) -> Path:
    """Walmart's features.csv shape: Store, Date, Temperature ... IsHoliday, mapped to the contract."""
    rows = []
    for store in (1, 2):
        for k, d in enumerate(dates.append(forecast_dates)):
            future = d in forecast_dates
            rows.append({"store_id": store, "Date": d.strftime("%Y-%m-%d"), "Temperature": 40.0 + k + store,
                         "Fuel_Price": 3.0 + 0.01 * k, "MarkDown1": "NA" if k < 4 else 10.0 * k,
                         "MarkDown2": "NA", "MarkDown3": 1.0, "MarkDown4": "NA", "MarkDown5": 2.0 * store,
                         "CPI": "NA" if future else 210.0 + k, "Unemployment": "NA" if future else 8.0,
                         "IsHoliday": "TRUE" if k % 10 == 3 else "FALSE"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_walmart_shaped_covariates_are_future_known_only_where_given(tmp_path: Path) -> None:
    freq, h = "W-FRI", 4
    panel = _panel(freq, 30, start="2011-01-07")
    panel = pd.concat([panel, panel.assign(unique_id=panel["unique_id"].str.replace("1/", "2/"), store_id="2")])
    fut = future_frame(panel, h, freq=freq)
    db = tmp_path / "walmart.duckdb"
    report = tc.ingest(db, covariates=_walmart_features(tmp_path / "features.csv",
                                                         pd.DatetimeIndex(panel["ds"].unique()),
                                                         pd.DatetimeIndex(fut["ds"].unique())))
    assert report.sources["covariates"].inserted == 2 * (30 + h)
    with Warehouse(db, read_only=True) as w:
        out = fuse(w, panel, fut, freq, h, covariates="external")
    kinds = {c.name: c.future_known for c in out.used}
    assert kinds["ext_Temperature"] and kinds["ext_Fuel_Price"] and kinds["ext_IsHoliday"]
    assert kinds[f"ext_CPI_lag{h}"] is False and kinds[f"ext_Unemployment_lag{h}"] is False
    assert "ext_MarkDown2" not in kinds and f"ext_MarkDown2_lag{h}" not in kinds  # never given
    f2 = out.future[out.future["unique_id"] == "2/A"].reset_index(drop=True)
    assert f2.loc[0, "ext_Temperature"] == 40.0 + 30 + 2  # the file's value for store 2 on that week
    p1 = out.panel[out.panel["unique_id"] == "1/A"].reset_index(drop=True)
    assert p1.loc[10, f"ext_CPI_lag{h}"] == 210.0 + 10 - h  # CPI of h weeks earlier
    assert not out.future[[c.name for c in out.used]].isna().any().any()
    assert feature_label(f"ext_CPI_lag{h}", freq) == f"CPI (covariates file), mean over the week, {h} weeks earlier"


def test_covariates_file_errors_name_the_column(tmp_path: Path) -> None:
    bad = pd.DataFrame({"date": ["2024-01-01", "2024-01-02"], "ad_spend": ["10", "lots"]})
    with pytest.raises(InputError, match="row 2.*ad_spend.*not a number"):
        tc.ingest(tmp_path / "x.duckdb", covariates=bad)
    with pytest.raises(InputError, match="Temp \\(C\\)"):
        tc.ingest(tmp_path / "x.duckdb", covariates=pd.DataFrame({"date": ["2024-01-01"], "Temp (C)": [3.0]}))
    with pytest.raises(InputError, match="at least one value column"):
        tc.ingest(tmp_path / "x.duckdb", covariates=pd.DataFrame({"date": ["2024-01-01"], "store_id": ["1"]}))


def test_nothing_after_a_cutoff_reaches_training_or_the_window(wh: Warehouse) -> None:
    """Change every source after a backtest cutoff: rows up to cutoff + horizon must not move."""
    panel = _panel("D", 60)
    h, cutoff = 7, panel["ds"].min() + pd.Timedelta(days=40)
    days = pd.date_range(panel["ds"].min(), panel["ds"].max(), freq="D")
    _insert(wh, "events", pd.concat([_events(days[::2], {"A": 2, "B": 1}), _events(days[1::2], {"A": 1})]))
    wave = np.arange(len(days)) % 3
    sig = pd.DataFrame({"item_id": "A", "date": days.date, "n_texts": 1 + wave,
                        "sent_mean": 0.1 * (np.arange(len(days)) % 4)})
    _insert(wh, "signals_item_daily", sig, create=True)
    cov = pd.DataFrame({"store_id": "", "item_id": "", "date": days.date, "name": "ad_spend", "value": 5.0 + wave})
    _insert(wh, "covariates", cov)
    fut = future_frame(panel, h)
    chosen = ["behaviour", "text", "external"]  # named, so auto's pruning cannot differ between runs
    before = fuse(wh, panel, fut, "D", h, covariates=chosen)
    later = days[days > cutoff]
    _insert(wh, "events", _events(later, {"A": 9, "B": 9}).assign(user_token="u9"))
    wh.con.execute("UPDATE signals_item_daily SET n_texts = 50, sent_mean = -1 WHERE date > ?", [cutoff.date()])
    wh.con.execute("UPDATE covariates SET value = 99 WHERE date > ?", [cutoff.date()])
    after = fuse(wh, panel, fut, "D", h, covariates=chosen)
    cols = [c.name for c in before.used if not c.future_known]
    assert {"beh_views_lag7", "txt_item_sent_mean_lag7", "ext_ad_spend_lag7"} <= set(cols)
    upto = before.panel["ds"] <= cutoff + pd.Timedelta(days=h)
    pd.testing.assert_frame_equal(before.panel.loc[upto, cols], after.panel.loc[upto, cols])
    assert not before.panel.loc[~upto, cols].equals(after.panel.loc[~upto, cols])  # the change is seen later


def test_auto_leaves_out_constant_columns_and_near_copies(wh: Warehouse) -> None:
    panel = _panel("D", 40)
    days = pd.date_range(panel["ds"].min(), panel["ds"].max(), freq="D")
    k = np.arange(len(days))
    sig = pd.DataFrame({"item_id": "A", "date": days.date, "n_texts": k % 3, "n_reviews": k % 3,
                        "n_social": 0, "sent_mean": (k % 5) / 5})
    _insert(wh, "signals_item_daily", sig, create=True)
    names = {c.name for c in fuse(wh, panel, future_frame(panel, 2), "D", 2).used}
    assert {"txt_item_n_texts_lag2", "txt_item_sent_mean_lag2"} <= names
    assert not {"txt_item_n_reviews_lag2", "txt_item_n_social_lag2"} & names  # a copy, a constant
    chosen = {c.name for c in fuse(wh, panel, future_frame(panel, 2), "D", 2, covariates="text").used}
    assert "txt_item_n_reviews_lag2" in chosen  # asked for by name: kept


def test_selection_by_source_or_name_and_unknown_names(wh: Warehouse) -> None:
    panel = _panel("D", 30)
    days = pd.date_range(panel["ds"].min(), panel["ds"].max(), freq="D")
    _insert(wh, "covariates", pd.DataFrame({"store_id": "", "item_id": "", "date": days.date,
                                            "name": "ad_spend", "value": np.arange(len(days), dtype=float)}))
    fut = future_frame(panel, 3)
    out = fuse(wh, panel, fut, "D", 3, covariates="ad_spend")
    assert [c.name for c in out.used] == ["ext_ad_spend_lag3"]
    out = fuse(wh, panel, fut, "D", 3, covariates=["calendar", "external"])
    assert {c.source for c in out.used} == {"calendar", "external"}
    with pytest.raises(ConfigError, match="No covariate or source 'weather'.*external"):
        fuse(wh, panel, fut, "D", 3, covariates="weather")
    with pytest.raises(ConfigError, match="auto"):
        fuse(wh, panel, fut, "D", 3, covariates="auto,text")


@pytest.mark.parametrize(("name", "freq", "label"), [
    ("lag7", "D", "units sold 7 days ago"),
    ("lag1", "W-FRI", "units sold 1 week ago"),
    ("exponentially_weighted_mean_lag1_alpha0.3", "D", "units sold, smoothed average up to 1 day ago"),
    ("rolling_mean_lag1_window_size4", "W-SUN", "units sold, mean over 4 weeks up to 1 week ago"),
    ("txt_cat_burst_max_lag1", "W-SUN",
     "category texts: buzz (strongest trending term), peak in the week, 1 week earlier"),
    ("txt_item_sent_mean_7d_lag1", "D", "item texts: mean sentiment, 7-day window, 1 day earlier"),
    ("beh_views_lag2", "MS", "product page views, total over the month, 2 months earlier"),
    ("ext_Temperature", "W-FRI", "Temperature (covariates file), mean over the week (known ahead)"),
    ("cal_fest_singles_day", "W-SUN", "Double 11 (Singles' Day) days in the week"),
    ("price_rel", "D", "price relative to the item's usual price"),
    ("traffic_lag28_mean7", "D", "traffic, 7-day mean, 28 days earlier"),
])
def test_feature_labels_read_like_words(name: str, freq: str, label: str) -> None:
    assert feature_label(name, freq) == label


def test_forecast_lists_and_stores_the_covariates_it_used(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    sales = pd.DataFrame({"item_id": np.repeat(["A", "B"], len(days)), "date": np.tile(days.strftime("%Y-%m-%d"), 2),
                          "units": np.tile(np.arange(len(days)) % 7, 2), "price": 9.9, "promo": 0})
    cov = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "ad_spend": np.arange(len(days)) % 5})
    sales.to_csv(tmp_path / "sales.csv", index=False)
    cov.to_csv(tmp_path / "cov.csv", index=False)
    db = tmp_path / "shop.duckdb"
    tc.ingest(db, sales=tmp_path / "sales.csv", covariates=tmp_path / "cov.csv")
    fc = tc.forecast(db, 7, model="seasonal_naive", quantiles=None, country="US")
    names = [c["name"] for c in fc.attrs["covariates"]]
    assert "ext_ad_spend_lag7" in names and "cal_holiday_days" in names
    with Warehouse(db, read_only=True) as w:
        stored = w.con.execute("SELECT explanation FROM forecast_runs").fetchone()[0]
    assert "ad_spend (covariates file), 7 days earlier [ext_ad_spend_lag7]" in stored
    plain = tc.forecast(db, 7, model="seasonal_naive", quantiles=None, covariates="none", store=False)
    assert plain.attrs["covariates"] == [] and "none" in plain.attrs["explanation"]


def test_cli_ingest_covariates_skips_bad_rows_and_reloads_idempotently(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from trendcast.cli import main

    db, rejects = tmp_path / "wh.duckdb", tmp_path / "rej.csv"
    path = tmp_path / "weather.csv"
    path.write_text("date,store_id,Temperature,Rain_mm\n2024-01-01,S1,3.5,NA\n2024-01-02,S1,warm,1\n"
                    "2024-01-03,S1,-1,0\n", encoding="utf-8")
    args = ["ingest", "--covariates", str(path), "--db", str(db), "--on-error", "skip", "--rejects", str(rejects)]
    assert main(args) == 0
    assert "covariates" in capsys.readouterr().out
    assert "warm" in rejects.read_text(encoding="utf-8")
    with Warehouse(db, read_only=True) as w:
        stored = w.con.execute("SELECT date, name, value FROM covariates ORDER BY date, name").fetchall()
    assert [(str(d), n, v) for d, n, v in stored] == [
        ("2024-01-01", "Temperature", 3.5), ("2024-01-03", "Rain_mm", 0.0), ("2024-01-03", "Temperature", -1.0)]
    assert main(args) == 0  # the same file again changes nothing
    with Warehouse(db, read_only=True) as w:
        assert w.count("covariates") == 3


def test_a_more_specific_level_wins_and_a_gap_carries_the_series_last_value(tmp_path: Path) -> None:
    """Chain-wide values, item A's own on its first weeks (they win), a store shelf value for B
    on one week; where the file stops, each series carries its own last value forward."""
    freq, h = "W-SUN", 2
    panel = _panel(freq, 8)
    weeks = pd.DatetimeIndex(panel["ds"].unique())
    fut = future_frame(panel, h, freq=freq)
    ahead = pd.DatetimeIndex(fut["ds"].unique())
    day = "%Y-%m-%d"
    rows: dict[tuple[str, str], dict[str, object]] = {}  # one row per (item, date); NaN: not given

    def give(item: str, d: pd.Timestamp, **values: float) -> None:
        rows.setdefault((item, d.strftime(day)), {"item_id": item, "date": d.strftime(day)}).update(values)

    for k, d in enumerate(weeks.append(ahead)):
        give("", d, shelf=2.0 + k, **({"ad_spend": 1.0 + k} if k < 4 else {}))
    for k, d in enumerate(weeks[:3]):
        give("A", d, ad_spend=5.0 + k)
    give("B", weeks[5], shelf=9.0)
    db = tmp_path / "levels.duckdb"
    pd.DataFrame(list(rows.values())).to_csv(tmp_path / "cov.csv", index=False)
    tc.ingest(db, covariates=tmp_path / "cov.csv")
    with Warehouse(db, read_only=True) as w:
        out = fuse(w, panel, fut, freq, h, covariates="external")
    a = out.panel[out.panel["item_id"] == "A"].set_index("ds")
    b = out.panel[out.panel["item_id"] == "B"].set_index("ds")
    lagged = f"ext_ad_spend_lag{h}"  # not given for the forecast weeks: past-only, h weeks late
    nan = float("nan")
    np.testing.assert_array_equal(a[lagged], [nan, nan, 5.0, 6.0, 7.0, 4.0, 4.0, 4.0])
    np.testing.assert_array_equal(b[lagged], [nan, nan, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0])
    assert out.future[lagged].tolist() == [4.0] * 4
    assert b.loc[weeks[5], "ext_shelf"] == 9.0 and b.loc[weeks[6], "ext_shelf"] == 2.0 + 6
    assert a.loc[weeks[5], "ext_shelf"] == 2.0 + 5
    assert out.future["ext_shelf"].tolist() == [10.0, 11.0, 10.0, 11.0]  # known ahead, per week
