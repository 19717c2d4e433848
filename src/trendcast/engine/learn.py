"""Continuous learning: train versioned models, refresh forecasts as data arrives, retrain on drift.

``update`` is what ``trendcast update`` runs:

1. ingest the new files (validated, via :func:`trendcast.data.ingest.ingest`);
2. score the active version's last forecasts against the actuals that just arrived and compare
   the covariates of the new days with the training window (:mod:`trendcast.evaluate.drift`);
3. no drift: refresh the forecasts without retraining where the model allows it (mlforecast's
   ``update`` appends the new observations to a LightGBM model's series, then it predicts with
   the same trees); statistical models are simply re-fitted, which is cheap, as a new version;
4. drift (or no model yet, or ``retrain=True``): train a new version, backtest it on the last
   ``h`` days, store it as an artefact and make it active.

Forecasts in use are kept in the warehouse table ``live_forecasts`` (model name, version,
as_of, unique_id, ds, forecast, quantiles).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from trendcast.data.export import write_csv
from trendcast.data.periods import kind
from trendcast.data.tables import ensure
from trendcast.data.warehouse import Warehouse
from trendcast.evaluate.drift import (
    ERROR_RATIO,
    KS_MIN,
    MIN_POINTS,
    PSI_THRESHOLD,
    DriftReport,
    check_drift,
    live_errors,
)
from trendcast.evaluate.explain import (
    BASE,
    global_importance,
    shap_forecast,
    store_explanations,
    top_drivers,
)
from trendcast.forecasting import Frames, build_frames, load_panel, training_frames
from trendcast.frame import FORECAST, ID, TARGET, TIME
from trendcast.models.artefacts import (
    Artefact,
    activate,
    active_version,
    find_mlforecast,
    load_artefact,
    load_model,
    repair_activation,
    save_artefact,
)
from trendcast.models.base import Forecaster
from trendcast.models.registry import make_model


# -- train -----------------------------------------------------------------------------------
def holdout_metrics(
    model_name: str,
    df: pd.DataFrame,
    static: pd.DataFrame,
    h: int,
    season_length: int = 7,
    freq: str = "D",
    **params: object,
) -> dict[str, float]:
    """Backtest on the last ``h`` periods (one window): the errors live forecasts are judged against."""
    cutoff = df[TIME].max() - h * pd.tseries.frequencies.to_offset(freq)
    train, hold = df[df[TIME] <= cutoff], df[df[TIME] > cutoff]
    model = make_model(model_name, season_length=season_length, freq=freq, **params)
    model.fit(train, static_df=static)
    fc = model.predict(h, X_future=hold.drop(columns=[TARGET]))
    err = live_errors(fc, hold, train, season_length)
    return {"wape": err["wape"], "mase": err["mase"], "holdout_periods": float(h)}


def train_version(
    db: str | Path,
    model_name: str,
    *,
    name: str | None = None,
    h: int | None = None,
    quantiles: list[float] | None = None,
    season_length: int | None = None,
    panel: pd.DataFrame | None = None,
    notes: str = "",
    history_days: int | None = None,
    covariates: str | list[str] = "auto",
    country: str | None = None,
    frames: Frames | None = None,
    **params: object,
) -> tuple[Forecaster, Artefact, pd.DataFrame]:
    """Backtest, fit on all data, forecast ``h`` periods and store the result as a new active
    version. Frames come from the forecasting service, so a version sees what ``forecast`` sees.

    ``history_days`` keeps only the most recent days of the panel (faster, forgets old regimes).
    ``frames`` reuses frames already built (``panel``: a sales panel already read).
    """
    name = name or model_name
    params.pop("freq", None)
    if frames is None:
        frames = build_frames(db, h, panel=panel, covariates=covariates, country=country)
    panel, h, freq = frames.panel, frames.horizon, frames.freq
    if history_days is not None:
        panel = panel[panel[TIME] > panel[TIME].max() - pd.Timedelta(days=history_days)]
    df, static = training_frames(panel)
    season = season_length or frames.season_length
    # what the service gives this model in forecast (auto's horizon, the pretrained model's signals)
    params = {**{k: v for k, v in frames.params(model_name).items() if k not in ("season_length", "freq")}, **params}
    metrics = holdout_metrics(model_name, df, static, h, season, freq, **params)
    model = make_model(model_name, season_length=season, freq=freq, **params).fit(df, static_df=static)
    x_future = frames.x_future()
    fc = model.predict(h, X_future=x_future, quantiles=quantiles)
    art = save_artefact(
        db, name, model, df, static, forecast=fc, h=h, quantiles=quantiles,
        X_future=x_future, metrics=metrics, notes=notes, activate=False,
    )
    # the version and its live forecasts become active in one warehouse transaction
    activate(db, name, art.version, lambda: write_live_forecasts(db, name, art.version, fc))
    return model, art, x_future


def ensure_trained(
    db: str | Path,
    model_name: str,
    h: int | None = None,
    name: str | None = None,
    params: dict[str, object] | None = None,
    history_days: int | None = None,
) -> tuple[Forecaster, Artefact, pd.DataFrame]:
    """The active version when it was trained on the warehouse's current data, else a new one
    (built with constructor arguments ``params`` on the last ``history_days`` days)."""
    name = name or model_name
    repair(db, name)
    panel = load_panel(db)
    version = active_version(db, name)
    if version is not None:
        art = load_artefact(db, name, version)
        fc = art.meta["forecast"]
        same_data = art.meta["data"]["last_ds"] == str(panel[TIME].max().date())
        if same_data and (h is None or fc["h"] == h) and (art.path / "xfuture.parquet").exists():
            return load_model(art), art, art.read("xfuture.parquet")
    return train_version(
        db, model_name, name=name, h=h, panel=panel, history_days=history_days, **(params or {})
    )


# -- live forecasts table ----------------------------------------------------------------------
def write_live_forecasts(db: str | Path, name: str, version: int, forecast: pd.DataFrame) -> None:
    """Make ``forecast`` the forecasts in use for model ``name`` (replacing the previous ones)."""
    rows = forecast.copy()
    rows.insert(0, "as_of", datetime.now(UTC).replace(tzinfo=None))
    rows.insert(0, "version", version)
    rows.insert(0, "name", name)
    rows[TIME] = pd.to_datetime(rows[TIME]).dt.date
    with Warehouse(db) as wh, wh.transaction() as con:
        ensure(con, "live_forecasts")
        for col in forecast.columns:
            if col.startswith("q"):
                con.execute(f'ALTER TABLE live_forecasts ADD COLUMN IF NOT EXISTS "{col}" DOUBLE')
        con.execute("DELETE FROM live_forecasts WHERE name = ?", [name])
        con.register("rows", rows)
        con.execute("INSERT INTO live_forecasts BY NAME SELECT * FROM rows")
        con.unregister("rows")


def live_version(db: str | Path, name: str) -> int | None:
    """The version whose forecasts ``live_forecasts`` holds for ``name`` (None: none stored)."""
    with Warehouse(db, read_only=True) as wh:
        if not wh.has_table("live_forecasts"):
            return None
        row = wh.con.execute("SELECT max(version) FROM live_forecasts WHERE name = ?", [name]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def repair(db: str | Path, name: str) -> list[str]:
    """Bring the active version and the live forecasts back in step after a crash.

    Finishes or undoes an interrupted activation (see
    :func:`trendcast.models.artefacts.repair_activation`); then, if the live forecasts still
    belong to another version than the active one, stores the active version's own forecasts.
    """
    messages = []
    note = repair_activation(db, name, lambda: live_version(db, name))
    if note:
        messages.append(note)
    active = active_version(db, name)
    if active is not None and live_version(db, name) not in (None, active):
        art = load_artefact(db, name, active)
        write_live_forecasts(db, name, active, art.forecast())
        messages.append(f"live forecasts were from another version: restored {art.label}'s")
    return messages


def read_live_forecasts(db: str | Path, name: str) -> pd.DataFrame | None:
    with Warehouse(db, read_only=True) as wh:
        if not wh.has_table("live_forecasts"):
            return None
        out = wh.con.execute("SELECT * FROM live_forecasts WHERE name = ?", [name]).df()
    if out.empty:
        return None
    out[TIME] = pd.to_datetime(out[TIME]).astype("datetime64[ns]")
    return out


# -- update ----------------------------------------------------------------------------------
@dataclass
class UpdateResult:
    """What ``update`` did, for the CLI and the API."""

    name: str
    action: str  # "trained", "retrained", "refreshed", "refitted" or "unchanged" (nothing new)
    version: int
    drift: DriftReport | None
    new_rows: int
    messages: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, str]:
        out = {
            "model": f"{self.name} v{self.version:04d}",
            "action": self.action,
            ("rows trained on" if self.action == "trained" else "new rows (series x days)"):
                str(self.new_rows),
        }
        if self.drift is not None:
            out["drift"] = self.drift.summary()
            err = self.drift.error
            if "live_wape" in err:
                out["live vs backtest WAPE"] = f"{err['live_wape']:.3f} vs {err['backtest_wape']:.3f}"
        return out


def incremental_update(model: Forecaster, new_rows: pd.DataFrame, static: pd.DataFrame) -> bool:
    """Append new observations to a fitted model without retraining; False when it cannot.

    Models may offer their own ``update(df)``. mlforecast-based models get mlforecast's
    ``MLForecast.update``: the new target values feed the lags while the trees stay as they are;
    the rows the model keeps for building features (``train_``) and its last dates move on too.
    """
    if hasattr(model, "update"):
        model.update(new_rows)
        return True
    mlf = find_mlforecast(model)
    kept = getattr(model, "train_", None)
    if mlf is None or not isinstance(kept, pd.DataFrame):
        return False
    rows = new_rows.merge(static, on=ID, how="left", suffixes=("", "_static"))
    missing = [c for c in kept.columns if c not in rows.columns]
    if missing:
        return False
    rows = rows[kept.columns].astype(kept.dtypes.to_dict())
    for cached in {id(m): m for m in _mlforecasts(model)}.values():
        cached.update(rows[[ID, TIME, TARGET]])
    model.train_ = pd.concat([kept, rows], ignore_index=True).sort_values([ID, TIME])
    model.last_ds_ = model.train_.groupby(ID)[TIME].max()
    return True


def _mlforecasts(model: Forecaster) -> list[object]:
    """Every fitted MLForecast a model holds (lazy models cache one per horizon)."""
    from mlforecast import MLForecast

    out = []
    for value in vars(model).values():
        for item in value.values() if isinstance(value, dict) else [value]:
            if isinstance(item, MLForecast) and hasattr(item, "models_"):
                out.append(item)
    return out


def update(
    db: str | Path,
    sales: Path | None = None,
    texts: Path | None = None,
    *,
    products: Path | None = None,
    events: Path | None = None,
    inventory: Path | None = None,
    model_name: str = "lightgbm",
    name: str | None = None,
    h: int | None = None,
    retrain: bool = False,
    ratio: float = ERROR_RATIO,
    min_points: int = MIN_POINTS,
    psi_threshold: float = PSI_THRESHOLD,
    ks_min: float = KS_MIN,
    params: dict[str, object] | None = None,
    history_days: int | None = None,
    freq: str | None = None,
    covariates: str | list[str] = "auto",
    country: str | None = None,
    orders: bool | None = None,
) -> UpdateResult:
    """Ingest new files, check drift and refresh or retrain model ``name`` (see module doc).

    ``params`` are constructor arguments for the first version; retrains reuse the stored ones.
    ``history_days`` trains new versions on only the most recent days (faster on long histories).
    ``h`` counts periods (default by frequency); ``freq`` and ``orders`` are passed to the
    ingest of the new files; ``covariates`` and ``country`` to the forecasting service, as in ``forecast``.
    """
    name = name or model_name
    messages: list[str] = repair(db, name)
    given = {"sales": sales, "texts": texts, "products": products, "events": events,
             "inventory": inventory}
    files = {k: v for k, v in given.items() if v is not None}
    if files:
        from trendcast.data.ingest import ingest

        report = ingest(db, freq=freq, orders=orders, **files)
        messages += [f"{k}: {v}" for k, v in report.summary().items()]
    frames = build_frames(db, h, covariates=covariates, country=country)
    panel, h = frames.panel, frames.horizon
    version = active_version(db, name)
    if version is None:
        _, art, _ = train_version(
            db, model_name, name=name, h=h, frames=frames, notes="first version",
            history_days=history_days, covariates=covariates, country=country, **(params or {}),
        )
        return UpdateResult(name, "trained", art.version, None, len(panel), messages)

    art = load_artefact(db, name, version)
    model_name = art.meta["spec"]["model"]  # new versions keep the stored model's kind
    train, static = art.train()
    last_train = pd.Timestamp(art.meta["data"]["last_ds"])
    df = frames.train()
    new = df[df[TIME] > last_train]
    season = int(art.meta["spec"]["kwargs"].get("season_length", 7))
    if new.empty and not retrain:  # a scheduled run with nothing new is not a failure
        messages.append(f"no sales after {last_train.date()} (the end of {name} v{version:04d}'s training "
                        "data): the model and its forecasts stay as they are")
        return UpdateResult(name, "unchanged", version, None, 0, messages)
    drift = None
    if not new.empty:
        previous = read_live_forecasts(db, name)
        if previous is None or int(previous["version"].iloc[0]) != version:
            previous = art.forecast()
        drift = check_drift(
            previous, new, train, art.meta["metrics"], new,
            season_length=season, ratio=ratio, min_points=min_points, psi_threshold=psi_threshold,
            ks_min=ks_min,
        )
    if retrain or (drift is not None and drift.drift):
        why = "forced (--retrain)" if retrain else drift.summary()
        messages.append(f"retrained because: {why}")
        _, new_art, _ = train_version(
            db, model_name, name=name, h=h, frames=frames, season_length=season,
            notes=f"retrained: {why}", history_days=history_days, covariates=covariates,
            country=country, **_extra_params(art),
        )
        return UpdateResult(name, "retrained", new_art.version, drift, len(new), messages)

    model = load_model(art)
    known = new[new[ID].isin(model.last_ds_.index)]
    if set(df[ID]) == set(train[ID]) and incremental_update(model, known, static):
        fc = model.predict(h, X_future=frames.x_future())
        write_live_forecasts(db, name, version, fc)
        messages.append("forecasts refreshed with the same trained model (no retraining)")
        return UpdateResult(name, "refreshed", version, drift, len(new), messages)
    _, new_art, _ = train_version(
        db, model_name, name=name, h=h, frames=frames, season_length=season,
        notes="refitted on new data (no drift)", history_days=history_days, covariates=covariates,
        country=country, **_extra_params(art),
    )
    return UpdateResult(name, "refitted", new_art.version, drift, len(new), messages)


def _extra_params(art: Artefact) -> dict[str, object]:
    """Constructor arguments of a stored version other than season and frequency (reused on retrain)."""
    return {k: v for k, v in art.meta["spec"]["kwargs"].items() if k not in ("season_length", "freq")}


# -- demo ------------------------------------------------------------------------------------
# Lighter than the defaults (60 trees at a higher learning rate; daily data: the last 200 days) so
# the whole step (backtest fit, final fit, SHAP) stays under 2 minutes on 2 cores for 300 series.
DEMO_PARAMS = {"n_estimators": 60, "learning_rate": 0.1, "num_leaves": 31}
DEMO_HISTORY_DAYS = 200


def demo_step(db: Path, out: Path, h: int | None = None, n_items: int = 3) -> dict[str, str]:
    """Train (or reuse) the LightGBM model on the warehouse as a versioned artefact and explain it.

    ``h`` defaults to the data's usual horizon (28 days, 13 weeks or 6 months); weekly and monthly
    data keep their whole history (200 days would leave a monthly model nothing to learn from).
    Writes ``out/explain_global.csv`` (mean |SHAP| per feature) and ``out/explain_items.csv``
    (top drivers of the first forecast period for a few items); stores both in ``explanations``.
    """
    out.mkdir(parents=True, exist_ok=True)
    with Warehouse(db, read_only=True) as wh:
        daily = kind(wh.frequency()) == "D"
    model, art, x_future = ensure_trained(
        db, "lightgbm", h=h, params=DEMO_PARAMS, history_days=DEMO_HISTORY_DAYS if daily else None
    )
    shap = shap_forecast(model, art.meta["forecast"]["h"], X_future=x_future)
    glob = global_importance(shap)
    write_csv(glob, out / "explain_global.csv")
    totals = (
        art.forecast().groupby(ID)[FORECAST].sum().sort_values(ascending=False).head(n_items).index
    )
    items = pd.concat([top_drivers(shap, uid) for uid in totals], ignore_index=True)
    write_csv(items, out / "explain_items.csv")
    run_id = store_explanations(db, shap[shap["feature"] != BASE], model="lightgbm", kind="shap")
    store_explanations(db, glob, model="lightgbm", kind="shap_global", run_id=run_id)
    top = ", ".join(f"{r.feature} ({r.importance:.3g})" for r in glob.head(3).itertuples())
    return {
        "model version": f"lightgbm {art.label} ({art.path})",
        "top features (mean |SHAP|)": top,
        "global importance": str(out / "explain_global.csv"),
        "item drivers": str(out / "explain_items.csv"),
        "explanations run": run_id,
        "metrics": json.dumps(art.meta["metrics"]),
    }
