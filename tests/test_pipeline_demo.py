"""End to end: `trendcast demo` on a small generated shop runs every stage and writes its outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from trendcast.cli import main
from trendcast.data.demo import write_demo
from trendcast.errors import InputError
from trendcast.pipeline import STEPS, shop_files

SMALL = dict(n_items=12, n_stores=2, days=200, n_users=150, event_days=30, seed=5)


@pytest.mark.slow
def test_demo_runs_every_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    write_demo(data, **SMALL)
    out = tmp_path / "out"
    assert main(["demo", "--data", str(data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name, _ in STEPS:
        assert name in printed
    assert (out / "demo.duckdb").exists()
    assert (out / "report.html").stat().st_size > 10_000


def test_demo_with_broken_data_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    paths = write_demo(data, **SMALL)
    paths["products"].write_text("item_id,title\nI1,x\n")  # no category column
    assert main(["demo", "--data", str(data), "--out", str(tmp_path / "out")]) != 0
    err = capsys.readouterr()
    assert "category" in (err.out + err.err)


def _monthly_shop(folder: Path) -> None:
    """20 items x 30 months of sales (item, date, units only) and a few reviews: no catalogue,
    no prices, no behaviour, no inventory."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    months = pd.date_range("2022-01-01", periods=30, freq="MS")
    folder.mkdir(parents=True)
    pd.DataFrame([(f"P{i}", d.date(), int(rng.poisson(20 + 5 * i))) for i in range(20) for d in months],
                 columns=["item_id", "date", "units"]).to_csv(folder / "sales.csv", index=False)
    pd.DataFrame({"item_id": [f"P{i % 20}" for i in range(60)],
                  "date": [months[i % 30].date() for i in range(60)],
                  "text": ["great quality", "arrived broken", "too expensive"] * 20}).to_csv(
        folder / "texts.csv.gz", index=False)


@pytest.mark.slow
def test_demo_runs_on_a_monthly_shop_with_only_sales_and_texts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    _monthly_shop(tmp_path / "shop")
    out = tmp_path / "out"
    assert main(["demo", "--data", str(tmp_path / "shop"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name, _ in STEPS:
        assert name in printed
    zero_shot = pd.read_csv(out / "pretrained_forecast.csv")
    assert zero_shot.groupby("unique_id").size().eq(6).all()  # 6 months ahead, not 28
    assert (out / "explain_global.csv").exists() and (out / "report.html").exists()


def test_a_shop_folder_gives_what_it_has(tmp_path: Path) -> None:
    _monthly_shop(tmp_path / "shop")
    found = shop_files(tmp_path / "shop")
    assert {k: p.name for k, p in found.items()} == {"sales": "sales.csv", "texts": "texts.csv.gz"}
    (tmp_path / "shop" / "sales.csv.gz").write_bytes(b"")
    with pytest.raises(InputError, match="keep one"):
        shop_files(tmp_path / "shop")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no sales file"):
        shop_files(tmp_path / "empty")
