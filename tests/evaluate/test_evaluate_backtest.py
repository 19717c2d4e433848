"""Rolling-origin backtests: windows, scores and, above all, no leakage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from trendcast.errors import ConfigError
from trendcast.evaluate.backtest import backtest, make_cutoffs
from trendcast.evaluate.hierarchy import build_hierarchy, static_frame
from trendcast.models.base import Forecaster

SEEN: list[dict[str, object]] = []


class Oracle(Forecaster):
    """Cheats whenever it can: answers with any y it was given for the forecast dates, and with
    the 'leak' covariate (equal to y) if that arrives in X_future. It records what it saw."""

    name = "oracle"

    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        self.df_ = df
        SEEN.append({"max_train_ds": df["ds"].max(), "leak_max_ds": df.loc[df["leak"].notna(), "ds"].max()})

    def _predict(self, h, X_future, quantiles):
        grid = self.future_dates(h)
        SEEN[-1]["x_cols"] = sorted(X_future.columns) if X_future is not None else []
        known = self.df_.set_index(["unique_id", "ds"])["y"]
        idx = pd.MultiIndex.from_frame(grid[["unique_id", "ds"]])
        guess = known.reindex(idx).to_numpy()
        if X_future is not None and "leak" in X_future.columns:
            guess = X_future.set_index(["unique_id", "ds"])["leak"].reindex(idx).to_numpy()
        last = self.df_.groupby("unique_id")["y"].last()
        grid["forecast"] = np.where(np.isnan(guess), grid["unique_id"].map(last), guess)
        return grid


def _noise_panel(n_series: int = 3, days: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n_series):
        ds = pd.date_range("2024-01-01", periods=days)
        y = rng.poisson(20, days).astype(float)
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": ds, "y": y, "price": 10.0,
                                  "promo": 0, "leak": y}))
    return pd.concat(rows, ignore_index=True)


def test_cutoffs() -> None:
    cuts = make_cutoffs(pd.Timestamp("2024-03-31"), h=7, windows=3, step=7, freq="D")
    assert [str(c.date()) for c in cuts] == ["2024-03-10", "2024-03-17", "2024-03-24"]


def test_no_leakage_of_target_or_past_only_covariates() -> None:
    SEEN.clear()
    panel = _noise_panel()
    res = backtest(panel, [Oracle()], h=14, windows=3, step=7)
    assert len(SEEN) == 3
    for seen, cutoff in zip(SEEN, res.cutoffs, strict=True):
        assert seen["max_train_ds"] <= cutoff
        assert seen["leak_max_ds"] <= cutoff
        assert seen["x_cols"] == ["ds", "price", "promo", "unique_id"]  # only future-known
    mae = res.metrics["models"]["oracle"]["bottom"]["mae"]
    assert mae > 1.0  # a leak would make the oracle perfect (MAE 0) on pure noise


def test_leakage_would_be_caught() -> None:
    """The same oracle IS perfect when the leaking column is declared future-known."""
    SEEN.clear()
    res = backtest(_noise_panel(), [Oracle()], h=14, windows=2, future_known=("price", "promo", "leak"))
    assert res.metrics["models"]["oracle"]["bottom"]["mae"] == 0.0


def test_backtest_real_models_with_hierarchy(small_panel: pd.DataFrame) -> None:
    h = build_hierarchy(static_frame(small_panel))
    res = backtest(small_panel, ["seasonal_naive", "moving_average"], h=14, windows=2,
                   quantiles=[0.1, 0.5, 0.9], hierarchy=h)
    f = res.forecasts
    assert set(f["model"]) == {"seasonal_naive", "moving_average"}
    assert f.groupby(["model", "cutoff"]).size().nunique() == 1
    assert len(f) == 2 * 2 * 14 * small_panel["unique_id"].nunique()
    m = res.metrics["models"]["seasonal_naive"]
    assert set(m["levels"]) == set(h.levels)
    assert 0 < m["wrmsse"] < 10 and 0 < m["bottom"]["coverage_0.8"] <= 1
    json.dumps(res.metrics)  # JSON-serialisable
    board = res.leaderboard()
    assert board["wrmsse"].is_monotonic_increasing and len(board) == 2


def test_too_many_windows_is_a_clear_error(small_panel: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="Not enough history"):
        backtest(small_panel, ["naive"], h=100, windows=3)


def test_failing_model_is_recorded_not_fatal() -> None:
    class Broken(Oracle):
        name = "broken"

        def _fit(self, df, static_df):
            raise RuntimeError("boom")

    res = backtest(_noise_panel(), [Broken(), Oracle()], h=7, windows=1)
    assert "broken" in res.errors and "oracle" in res.metrics["models"]


def test_monthly_history_shorter_than_two_seasons_backtests_the_windows_it_can() -> None:
    """30 months of a monthly shop: windows whose cutoff has too little history are skipped, not fatal."""
    rng = np.random.default_rng(1)
    ds = pd.date_range("2022-01-01", periods=30, freq="MS")
    panel = pd.concat([pd.DataFrame({"unique_id": f"S{i}", "ds": ds, "y": rng.poisson(50, 30).astype(float)})
                       for i in range(3)], ignore_index=True)
    res = backtest(panel, ["seasonal_naive", "naive"], h=6, windows=3, season_length=12, freq="MS")
    config = res.metrics["config"]
    assert config["min_train"] == 18  # one season plus the horizon, not 24 months
    assert config["skipped_cutoffs"] == ["2022-12-01"] and len(config["cutoffs"]) == 2
    assert not res.errors and set(res.forecasts["model"]) == {"seasonal_naive", "naive"}
    with pytest.raises(ConfigError, match="needs 18 periods"):
        backtest(panel.groupby("unique_id").head(20), ["naive"], h=6, windows=2, season_length=12, freq="MS")
