"""Every registered model through the same checks, on a few small series plus two hard cases:
a series of all zeros and a series only ten days long; each model runs twice, on a bare frame
(``unique_id, ds, y`` and no ``X_future``) and with covariates (price and promo known for the
future, a past-only signal, static columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trendcast.errors import ConfigError, NotReadyError
from trendcast.models import available_models, make_model, quantile_column
from trendcast.models.base import ID, TIME

H = 7
QUANTILES = [0.1, 0.5, 0.9]
# keep the suite fast: tiny training budgets for the learned models
FAST: dict[str, dict[str, object]] = {
    "lstm": {"max_steps": 40, "batch_size": 32, "hidden_size": 16, "horizon": H},
    "tcn": {"max_steps": 40, "batch_size": 32, "hidden_size": 16, "horizon": H},
    "transformer": {"max_steps": 40, "batch_size": 32, "hidden_size": 16, "horizon": H},
    "lightgbm": {"n_estimators": 30},
    "patchtst_finetuned": {"max_steps": 4},
    "ensemble": {"members": ["seasonal_naive", "moving_average"], "horizon": H},
    "auto": {"candidates": ["seasonal_naive", "moving_average"], "horizon": H, "windows": 1},
}
# models that need files which are not part of the package (a local checkpoint)
NEEDS_FILES = {"chronos_bolt_local"}


def _make(name: str):  # noqa: ANN202 - a Forecaster, or a skip
    if name in NEEDS_FILES:
        pytest.skip(f"{name} needs a local checkpoint passed as a parameter")
    try:
        return make_model(name, **FAST.get(name, {}))
    except NotReadyError as exc:  # e.g. pretrained weights not built in this checkout
        pytest.skip(str(exc))


FRAMES = ("bare", "covariates")


@pytest.fixture(scope="module")
def frames(small_panel: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, pd.DataFrame | None]]:
    """(train, X_future) per kind of frame: 5 real series cut 7 days before the end, a zero
    series and a short one; bare (``unique_id, ds, y``, no X_future) or with covariates."""
    ids = sorted(small_panel[ID].unique())[:5]
    panel = small_panel[small_panel[ID].isin(ids)]
    panel = panel[panel[TIME] > panel[TIME].max() - pd.Timedelta(days=150)].copy()
    template = panel[panel[ID] == ids[0]].copy()
    zero = template.assign(unique_id="Z/ZERO", item_id="ZERO", store_id="Z", y=0.0)
    short = template.tail(10 + H).assign(unique_id="Z/SHORT", item_id="SHORT", store_id="Z")
    full = pd.concat([panel, zero, short], ignore_index=True)
    cut = full[TIME].max() - pd.Timedelta(days=H)
    # a past-only signal: last week's mean sales, as a text or traffic signal would arrive
    full["signal"] = full.groupby(ID)["y"].transform(lambda s: s.shift(1).rolling(7, min_periods=1).mean()).fillna(0.0)
    train = full[full[TIME] <= cut].reset_index(drop=True)
    future = full[full[TIME] > cut].drop(columns=["y", "signal"]).reset_index(drop=True)
    return {"bare": (train[[ID, TIME, "y"]], None), "covariates": (train, future)}


@pytest.fixture(params=FRAMES)
def data(request: pytest.FixtureRequest, frames: dict) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    return frames[request.param]


def _fit_predict(name: str, train: pd.DataFrame, future: pd.DataFrame | None) -> pd.DataFrame:
    model = _make(name)
    try:
        model.fit(train)
    except NotReadyError as exc:
        pytest.skip(str(exc))
    return model.predict(H, X_future=future, quantiles=QUANTILES)


@pytest.mark.parametrize("name", available_models())
def test_model_conformance(name: str, data: tuple[pd.DataFrame, pd.DataFrame | None]) -> None:
    train, future = data
    out = _fit_predict(name, train, future)

    qcols = [quantile_column(q) for q in QUANTILES]
    assert list(out.columns) == [ID, TIME, "forecast", *qcols]
    # exactly H rows per series, on the H days after each series' last date
    assert out.groupby(ID).size().to_dict() == {uid: H for uid in train[ID].unique()}
    last = train.groupby(ID)[TIME].max()
    for uid, grp in out.groupby(ID):
        expected = pd.date_range(last[uid] + pd.Timedelta(days=1), periods=H, freq="D")
        assert list(grp[TIME]) == list(expected), uid
    values = out[["forecast", *qcols]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (np.diff(out[qcols].to_numpy(), axis=1) >= 0).all()
    # intervals are not degenerate on the real series
    real = out[~out[ID].str.startswith("Z/")]
    assert (real["q0.9"] - real["q0.1"]).mean() > 0
    # a series of zeros forecasts (close to) zero
    assert out.loc[out[ID] == "Z/ZERO", "forecast"].max() < 1.0

    again = _fit_predict(name, train, future)
    pd.testing.assert_frame_equal(out, again)


@pytest.mark.parametrize("name", available_models())
def test_model_rejects_bad_calls(name: str, frames: dict) -> None:
    data = frames["covariates"]
    model = _make(name)
    with pytest.raises(ConfigError):
        model.predict(H)
    try:
        model.fit(data[0][data[0][ID] == "Z/SHORT"])
    except NotReadyError as exc:
        pytest.skip(str(exc))
    with pytest.raises(ConfigError):
        model.predict(0)


def test_unknown_model_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Unknown model"):
        make_model("no_such_model")
