"""Why did the model forecast that? SHAP values for gradient boosting, permutation importance otherwise.

Gradient-boosted models (mlforecast + LightGBM): LightGBM's own ``pred_contrib=True`` returns
exact TreeSHAP values. We explain the feature rows the model really saw at predict time: the
LightGBM estimator's ``predict`` is wrapped while the trendcast model forecasts, so for a
recursive multi-step forecast step k is explained with the lags as they were when step k was
predicted (including earlier predicted values). SHAP values are in the booster's raw output
scale: they sum to the raw prediction minus the expected value. For the Tweedie/Poisson
objectives that is log demand, so a SHAP value of +0.1 means "about 10% more units".

Other models: permutation importance on a holdout (the last ``h`` days): shuffle one covariate
across rows in the training frame and in ``X_future``, refit, and report how much WAPE grows.

Outputs are tidy frames (``feature, label, importance`` and ``unique_id, ds, step, feature,
label, value``): ``feature`` is the model's raw column name, ``label`` says it in words ("units
sold 7 days ago", :func:`trendcast.features.fusion.feature_label`); and the warehouse table ``explanations`` (run_id, model, kind, unique_id, ds, feature, value).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trendcast.data.tables import ddl
from trendcast.errors import ConfigError
from trendcast.features.fusion import label_frame
from trendcast.models.artefacts import find_mlforecast, lgb_estimators
from trendcast.models.base import FORECAST, ID, TARGET, TIME, Forecaster

BASE = "__expected_value__"  # feature name of the SHAP base value in tidy frames


# -- SHAP for LightGBM -----------------------------------------------------------------------
@contextmanager
def _capture_inputs(estimator: Any, sink: list[pd.DataFrame]) -> Iterator[None]:
    """Record every feature frame passed to ``estimator.predict`` while the block runs."""
    original = estimator.predict

    def recording(X: Any, *args: Any, **kwargs: Any) -> Any:
        sink.append(X.copy() if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X)))
        return original(X, *args, **kwargs)

    estimator.predict = recording
    try:
        yield
    finally:
        del estimator.predict  # back to the class method


def shap_forecast(
    model: Forecaster,
    h: int,
    X_future: pd.DataFrame | None = None,
    ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Exact TreeSHAP values of each forecast step of a LightGBM-based model.

    Returns one row per (unique_id, ds, feature): ``unique_id, ds, step, feature, value,
    feature_value`` plus a ``__expected_value__`` row per point, so values sum to the booster's
    raw prediction for that point. ``ids`` limits it to those series: TreeSHAP costs far more
    than a prediction (28 steps of 1,500 series took about a minute), and `explain` needs one.
    """
    forecast = model.predict(h, X_future=X_future)  # trains lazy models; not recorded
    mlf = find_mlforecast(model)
    estimators = lgb_estimators(model)
    if mlf is None or len(estimators) != 1:
        raise ConfigError(
            f"Model '{model.name}' has no single LightGBM model to explain with SHAP; "
            "use permutation_importance instead."
        )
    (est,) = estimators.values()
    steps: list[pd.DataFrame] = []
    with _capture_inputs(est, steps):
        again = model.predict(h, X_future=X_future)
    uids = np.asarray(mlf.ts.uids)
    if len(steps) != h or any(len(x) != len(uids) for x in steps) or not again.equals(forecast):
        raise ConfigError(
            "Could not line up the model's feature rows with its forecast (direct multi-horizon "
            "models, series subsets or short series are not supported by shap_forecast)."
        )
    dates = forecast.groupby(ID, sort=True)[TIME].apply(list)
    keep = np.ones(len(uids), bool) if ids is None else np.isin(uids, list(ids))
    uids = uids[keep]
    frames = []
    for k, X in enumerate(steps):
        X = X[keep]
        contrib = est.booster_.predict(X, pred_contrib=True)
        names = [str(c) for c in X.columns] + [BASE]
        ds = [dates[u][k] if u in dates.index and k < len(dates[u]) else pd.NaT for u in uids]
        wide = pd.DataFrame(contrib, columns=names)
        wide[ID], wide[TIME], wide["step"] = uids, ds, k + 1
        long = wide.melt(id_vars=[ID, TIME, "step"], var_name="feature", value_name="value")
        fv = X.reset_index(drop=True).astype(object)
        fv[ID] = uids
        fv = fv.melt(id_vars=[ID], var_name="feature", value_name="feature_value")
        frames.append(long.merge(fv, on=[ID, "feature"], how="left"))
    out = pd.concat(frames, ignore_index=True)
    out = _labelled(out, model.freq)
    return out.sort_values([ID, TIME, "feature"]).reset_index(drop=True)


def _labelled(frame: pd.DataFrame, freq: str) -> pd.DataFrame:
    """``frame`` with a ``label`` column (readable name) right after ``feature``."""
    frame = frame.drop(columns="label", errors="ignore")
    names = frame["feature"].astype(str)
    lookup = dict(zip(names.unique(), label_frame(names.unique(), freq), strict=True))
    frame.insert(frame.columns.get_loc("feature") + 1, "label", names.map(lookup))
    return frame


def global_importance(shap: pd.DataFrame) -> pd.DataFrame:
    """Mean |SHAP| per feature over all explained points: ``feature, importance`` (largest first)."""
    vals = shap[shap["feature"] != BASE]
    out = vals.groupby("feature")["value"].apply(lambda v: float(np.abs(v).mean()))
    out = out.sort_values(ascending=False).rename("importance").reset_index()
    if "label" in vals.columns:
        out.insert(1, "label", out["feature"].map(vals.drop_duplicates("feature").set_index("feature")["label"]))
    return out


def top_drivers(shap: pd.DataFrame, unique_id: str, ds: object | None = None, k: int = 5) -> pd.DataFrame:
    """The ``k`` features that moved one forecast most (first forecast day when ``ds`` is None)."""
    rows = shap[(shap[ID] == unique_id) & (shap["feature"] != BASE)]
    if rows.empty:
        raise ConfigError(f"No explanation for series '{unique_id}'.")
    when = pd.Timestamp(ds) if ds is not None else rows[TIME].min()
    rows = rows[rows[TIME] == when]
    if rows.empty:
        raise ConfigError(f"No forecast for '{unique_id}' on {when.date()}.")
    rows = rows.assign(abs_value=rows["value"].abs()).nlargest(k, "abs_value")
    return rows.drop(columns="abs_value").reset_index(drop=True)


# -- permutation importance (any model) --------------------------------------------------------
def _wape(forecast: pd.DataFrame, actual: pd.DataFrame) -> float:
    joined = forecast[[ID, TIME, FORECAST]].merge(actual[[ID, TIME, TARGET]], on=[ID, TIME])
    return float(np.abs(joined[TARGET] - joined[FORECAST]).sum() / max(joined[TARGET].abs().sum(), 1e-9))


def permutation_importance(
    make: Callable[[], Forecaster],
    df: pd.DataFrame,
    h: int,
    static_df: pd.DataFrame | None = None,
    columns: Sequence[str] | None = None,
    n_repeats: int = 2,
    seed: int = 0,
    freq: str = "D",
) -> pd.DataFrame:
    """WAPE increase on the last ``h`` days when each covariate is shuffled: ``feature, label, importance``.

    ``make`` builds a fresh unfitted model. Each covariate is permuted (the same permutation in
    the training frame and in the holdout's ``X_future``), the model refitted, and the mean
    increase over ``n_repeats`` shuffles reported; near zero means the model ignores it.
    """
    df = df.sort_values([ID, TIME]).reset_index(drop=True)
    cutoff = df[TIME].max() - pd.Timedelta(days=h)
    train, hold = df[df[TIME] <= cutoff], df[df[TIME] > cutoff]
    covs = list(columns) if columns is not None else [
        c for c in df.columns if c not in (ID, TIME, TARGET) and pd.api.types.is_numeric_dtype(df[c])
    ]
    x_future = hold.drop(columns=[TARGET])

    def score(tr: pd.DataFrame, xf: pd.DataFrame) -> float:
        model = make().fit(tr, static_df=static_df)
        return _wape(model.predict(h, X_future=xf if covs else None), hold)

    base = score(train, x_future)
    rng = np.random.default_rng(seed)
    rows = []
    for col in covs:
        deltas = []
        for _ in range(n_repeats):
            both = pd.concat([train[col], x_future[col]], ignore_index=True).to_numpy()
            shuffled = rng.permutation(both)
            tr, xf = train.copy(), x_future.copy()
            tr[col], xf[col] = shuffled[: len(tr)], shuffled[len(tr) :]
            deltas.append(score(tr, xf) - base)
        rows.append({"feature": col, "importance": float(np.mean(deltas)), "baseline_wape": base})
    out = pd.DataFrame(rows, columns=["feature", "importance", "baseline_wape"])
    return _labelled(out, freq).sort_values("importance", ascending=False).reset_index(drop=True)


# -- warehouse table -------------------------------------------------------------------------
DDL = ddl("explanations")


def store_explanations(
    db: str | Path, frame: pd.DataFrame, *, model: str, kind: str, run_id: str | None = None
) -> str:
    """Append tidy explanation rows to the warehouse table ``explanations``; returns the run id.

    ``kind`` is ``shap`` (per forecast point), ``shap_global`` or ``permutation``; global rows
    have no unique_id/ds.
    """
    from trendcast.data.warehouse import Warehouse

    run_id = run_id or uuid.uuid4().hex[:12]
    value_col = "value" if "value" in frame.columns else "importance"
    rows = pd.DataFrame(
        {
            "run_id": run_id,
            "model": model,
            "kind": kind,
            "unique_id": frame[ID].astype(str) if ID in frame.columns else None,
            "ds": pd.to_datetime(frame[TIME]).dt.date if TIME in frame.columns else None,
            "feature": frame["feature"].astype(str),
            "value": frame[value_col].astype(float),
            "created_at": datetime.now(UTC).replace(tzinfo=None),
        }
    )
    with Warehouse(db) as wh, wh.transaction() as con:
        con.execute(DDL)
        con.register("rows", rows)
        con.execute("INSERT INTO explanations BY NAME SELECT * FROM rows")
        con.unregister("rows")
    return run_id


def load_explanations(db: str | Path, run_id: str | None = None) -> pd.DataFrame:
    """Rows of one explanation run (default: the latest)."""
    from trendcast.data.warehouse import Warehouse

    with Warehouse(db, read_only=True) as wh:
        if not wh.has_table("explanations"):
            return pd.DataFrame(columns=["run_id", "model", "kind", ID, TIME, "feature", "value"])
        if run_id is None:
            row = wh.con.execute(
                "SELECT run_id FROM explanations ORDER BY created_at DESC LIMIT 1"
            ).fetchone()
            run_id = row[0] if row else ""
        rows = wh.con.execute("SELECT * FROM explanations WHERE run_id = ?", [run_id]).df()
        freq = wh.get_config("freq") or "D"
    return _labelled(rows, freq) if len(rows) else rows
