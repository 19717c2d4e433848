"""Versioned model artefacts: every trained model is a folder you can list, compare and roll back to.

Layout, next to the warehouse file ``shop.duckdb``::

    shop.duckdb.models/<name>/v0003/meta.json       spec, data range, metrics, code version, hashes
                                   /train.parquet   the exact training frame (and static.parquet)
                                   /forecast.parquet the forecasts this version produced
                                   /booster_<m>.txt LightGBM trees in LightGBM's own text format
                     <name>/ACTIVE                  the version in use ("v0003")

Why this format: nothing here is a pickle, so loading an artefact never runs code from a file.
A model is rebuilt from its registry name and constructor arguments and re-fitted on the stored
training frame, which is deterministic (statsforecast fits inside ``predict`` anyway and is
cheap). For gradient-boosted models the stored LightGBM trees then replace the re-fitted ones, so
the trees of record are the ones saved at training time. Every file's SHA-256 is kept in
``meta.json`` and checked before anything is loaded; artefacts are only ever read from this
local folder, never from uploads.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as pkg_version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, NotReadyError
from trendcast.models.base import ID, TIME, Forecaster

META = "meta.json"
ACTIVE = "ACTIVE"
TRAIN, STATIC, FORECAST_FILE, XFUTURE = (
    "train.parquet",
    "static.parquet",
    "forecast.parquet",
    "xfuture.parquet",
)


# -- where and what --------------------------------------------------------------------------
def store_root(db: str | Path) -> Path:
    """Folder holding every model artefact of warehouse ``db`` (``<db>.models``)."""
    db = Path(db)
    return db.with_name(db.name + ".models")


def code_version() -> str:
    """trendcast's package version plus ``git describe`` when run from a checkout."""
    try:
        ver = pkg_version("trendcast")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        ver = "unknown"
    try:
        git = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        if git.returncode == 0 and git.stdout.strip():
            ver += f"+git.{git.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return ver


def _vname(version: int) -> str:
    return f"v{version:04d}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def model_spec(model: Forecaster) -> dict[str, Any]:
    """Registry name and constructor arguments: enough to build an unfitted twin of ``model``.

    Reads the arguments named in each class's ``__init__`` back from the instance (subclasses
    keep them as attributes, e.g. ``window``), plus the free-form ``params``.
    """
    if not model.name:
        raise ConfigError(f"{type(model).__name__} has no registry name; cannot store it.")
    kwargs: dict[str, Any] = {}
    for cls in type(model).__mro__:
        init = cls.__dict__.get("__init__")
        if init is None or cls is object:
            continue
        for pname, param in inspect.signature(init).parameters.items():
            if pname == "self" or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                continue
            if pname not in kwargs and hasattr(model, pname):
                value = getattr(model, pname)
                if _jsonable(value):
                    kwargs[pname] = value
    for key, value in getattr(model, "params", {}).items():
        if _jsonable(value):
            kwargs.setdefault(key, value)
    return {"model": model.name, "kwargs": kwargs}


def build_model(spec: dict[str, Any]) -> Forecaster:
    """An unfitted model from a spec written by :func:`model_spec` (registry lookup only)."""
    from trendcast.models.registry import model_class

    return model_class(spec["model"])(**spec["kwargs"])


def find_mlforecast(model: object) -> Any | None:
    """The fitted ``MLForecast`` inside a trendcast model, if it has one (gradient-boosted models).

    Looks at the model's attributes and one level into dict attributes (models that train per
    horizon keep a cache of them); the most recently added one wins.
    """
    from mlforecast import MLForecast

    if isinstance(model, MLForecast):
        return model
    found = None
    for value in vars(model).values():
        candidates = value.values() if isinstance(value, dict) else [value]
        for item in candidates:
            if isinstance(item, MLForecast) and hasattr(item, "models_"):
                found = item
    return found


def lgb_estimators(model: object) -> dict[str, Any]:
    """LightGBM estimators fitted by the model's MLForecast, by mlforecast model name."""
    import lightgbm as lgb

    mlf = find_mlforecast(model)
    if mlf is None or not hasattr(mlf, "models_"):
        return {}
    out: dict[str, Any] = {}
    for key, est in mlf.models_.items():
        if isinstance(est, dict):  # direct strategy: one model per horizon step
            for step, sub in est.items():
                if isinstance(sub, lgb.LGBMModel):
                    out[f"{key}__h{step}"] = sub
        elif isinstance(est, lgb.LGBMModel):
            out[key] = est
    return out


def _mlforecast_config(mlf: Any) -> dict[str, Any]:
    """Human-readable description of the features mlforecast builds (for the record and compare)."""
    ts = mlf.ts
    return {
        "freq": str(ts.freq),
        "lags": [int(x) for x in (ts.lags or [])],
        "lag_features": list(getattr(ts, "transforms", {}).keys()),
        "date_features": [d if isinstance(d, str) else getattr(d, "__name__", str(d)) for d in ts.date_features],
        "target_transforms": [type(t).__name__ for t in (ts.target_transforms or [])],
        "static_features": list(getattr(ts, "static_features_", pd.DataFrame()).columns[1:]),
        "features_order": list(getattr(ts, "features_order_", [])),
    }


# -- the artefact object ---------------------------------------------------------------------
@dataclass
class Artefact:
    """One stored version: its folder and metadata."""

    name: str
    version: int
    path: Path
    meta: dict[str, Any]

    @property
    def label(self) -> str:
        return _vname(self.version)

    def verify(self) -> None:
        """Raise unless every file listed in the metadata still has its recorded SHA-256."""
        for fname, digest in self.meta.get("files", {}).items():
            fpath = self.path / fname
            if not fpath.exists() or _sha256(fpath) != digest:
                raise ConfigError(
                    f"Artefact {self.name} {self.label} is damaged: {fname} is missing or was "
                    "modified after it was saved. Refusing to load it."
                )

    def read(self, fname: str) -> pd.DataFrame:
        """A stored parquet frame (verified first)."""
        self.verify()
        return pd.read_parquet(self.path / fname)

    def forecast(self) -> pd.DataFrame:
        """The forecasts this version produced when it was trained."""
        return self.read(FORECAST_FILE)

    def train(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """The exact training frame and static frame (None if the model had none)."""
        static = self.read(STATIC) if (self.path / STATIC).exists() else None
        return self.read(TRAIN), static


# -- save ------------------------------------------------------------------------------------
def _versions(folder: Path) -> list[int]:
    if not folder.exists():
        return []
    return sorted(int(p.name[1:]) for p in folder.iterdir() if p.is_dir() and p.name[1:].isdigit())


def save_artefact(
    db: str | Path,
    name: str,
    model: Forecaster,
    train: pd.DataFrame,
    static_df: pd.DataFrame | None = None,
    *,
    forecast: pd.DataFrame,
    h: int,
    quantiles: list[float] | None = None,
    X_future: pd.DataFrame | None = None,
    metrics: dict[str, float] | None = None,
    notes: str = "",
    activate: bool = True,
) -> Artefact:
    """Store a fitted ``model`` as the next version of ``name`` and (by default) make it active.

    ``forecast`` is what the model predicted for ``h`` steps with ``quantiles`` and ``X_future``;
    keeping it lets a rollback prove it restores exactly the same numbers.
    """
    folder = store_root(db) / name
    version = (_versions(folder) or [0])[-1] + 1
    path = folder / _vname(version)
    tmp = folder / f".tmp-{_vname(version)}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        train.to_parquet(tmp / TRAIN, index=False)
        if static_df is not None:
            static_df.to_parquet(tmp / STATIC, index=False)
        forecast.to_parquet(tmp / FORECAST_FILE, index=False)
        if X_future is not None:
            X_future.to_parquet(tmp / XFUTURE, index=False)
        boosters = {}
        for key, est in lgb_estimators(model).items():
            fname = f"booster_{key}.txt"
            est.booster_.save_model(str(tmp / fname))
            boosters[key] = fname
        mlf = find_mlforecast(model)
        ds = pd.to_datetime(train[TIME])
        meta = {
            "name": name,
            "version": version,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "code_version": code_version(),
            "spec": model_spec(model),
            "format": "lightgbm-text+refit" if boosters else "refit",
            "boosters": boosters,
            "mlforecast": _mlforecast_config(mlf) if mlf is not None else None,
            "data": {
                "first_ds": str(ds.min().date()),
                "last_ds": str(ds.max().date()),
                "n_series": int(train[ID].nunique()),
                "n_rows": len(train),
                "columns": [str(c) for c in train.columns],
            },
            "forecast": {"h": int(h), "quantiles": list(quantiles or [])},
            "metrics": {k: float(v) for k, v in (metrics or {}).items()},
            "notes": notes,
            "pickle": False,
        }
        meta["files"] = {p.name: _sha256(p) for p in sorted(tmp.iterdir())}
        (tmp / META).write_text(json.dumps(meta, indent=2))
        tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    art = Artefact(name, version, path, meta)
    if activate:
        set_active(db, name, version)
    return art


# -- read ------------------------------------------------------------------------------------
def load_artefact(db: str | Path, name: str, version: int | None = None) -> Artefact:
    """Version ``version`` of ``name`` (default: the active one)."""
    folder = store_root(db) / name
    if version is None:
        version = active_version(db, name)
        if version is None:
            raise NotReadyError(f"No trained model '{name}' yet: run `trendcast update` first.")
    path = folder / _vname(version)
    if not (path / META).exists():
        have = ", ".join(_vname(v) for v in _versions(folder)) or "none"
        raise ConfigError(f"Model '{name}' has no version {_vname(version)} (have: {have}).")
    return Artefact(name, version, path, json.loads((path / META).read_text()))


def active_version(db: str | Path, name: str) -> int | None:
    marker = store_root(db) / name / ACTIVE
    if not marker.exists():
        return None
    return int(marker.read_text().strip().lstrip("v"))


def set_active(db: str | Path, name: str, version: int) -> None:
    folder = store_root(db) / name
    if not (folder / _vname(version) / META).exists():
        raise ConfigError(f"Model '{name}' has no version {_vname(version)}.")
    tmp = folder / f".{ACTIVE}.tmp"
    tmp.write_text(_vname(version))
    tmp.replace(folder / ACTIVE)  # atomic: a reader never sees a half-written marker


PENDING = "ACTIVE.pending"  # a version being activated: its live forecasts may not be stored yet


def activate(db: str | Path, name: str, version: int, commit: Callable[[], None]) -> None:
    """Make ``version`` active together with what ``commit`` stores (its live forecasts).

    ``commit`` runs ONE warehouse transaction; that commit is the moment of activation. The
    ``ACTIVE`` marker follows it, with an ``ACTIVE.pending`` note written first, so a process
    killed anywhere in between leaves enough to finish or undo the step
    (:func:`repair_activation`): never a marker pointing at one version while the warehouse
    serves another's forecasts.
    """
    folder = store_root(db) / name
    if not (folder / _vname(version) / META).exists():
        raise ConfigError(f"Model '{name}' has no version {_vname(version)}.")
    _write_atomic(folder / PENDING, _vname(version))
    commit()
    set_active(db, name, version)
    (folder / PENDING).unlink(missing_ok=True)


def repair_activation(db: str | Path, name: str,
                      stored_version: Callable[[], int | None]) -> str | None:
    """Finish or undo an activation a crash interrupted; a sentence saying which, or None.

    ``stored_version()`` is the version whose live forecasts the warehouse holds: when it is
    the pending one the transaction committed and the marker is moved on; otherwise it never
    committed and the previous version stays active.
    """
    folder = store_root(db) / name
    pending = folder / PENDING
    if not pending.exists():
        return None
    text = pending.read_text().strip()
    version = int(text.lstrip("v")) if text.lstrip("v").isdigit() else None
    stored = stored_version()
    if version is not None and stored == version and (folder / _vname(version) / META).exists():
        set_active(db, name, version)
        message = f"finished activating {name} {_vname(version)} (an earlier run was interrupted)"
    else:
        message = (f"{name} {text} was never activated (an earlier run was interrupted before its "
                   "forecasts were stored); the active version is unchanged")
    pending.unlink(missing_ok=True)
    return message


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def model_names(db: str | Path) -> list[str]:
    root = store_root(db)
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.exists() else []


def list_artefacts(db: str | Path, name: str | None = None) -> pd.DataFrame:
    """One row per stored version: name, version, active, created_at, model, data range, metrics."""
    rows = []
    for nm in [name] if name else model_names(db):
        active = active_version(db, nm)
        for v in _versions(store_root(db) / nm):
            meta = load_artefact(db, nm, v).meta
            rows.append(
                {
                    "name": nm,
                    "version": _vname(v),
                    "active": v == active,
                    "created_at": meta["created_at"],
                    "model": meta["spec"]["model"],
                    "data_from": meta["data"]["first_ds"],
                    "data_to": meta["data"]["last_ds"],
                    "n_series": meta["data"]["n_series"],
                    **{f"metric_{k}": val for k, val in meta["metrics"].items()},
                    "notes": meta.get("notes", ""),
                }
            )
    return pd.DataFrame(rows)


def compare_artefacts(db: str | Path, name: str, versions: list[int] | None = None) -> pd.DataFrame:
    """Metrics, data range and settings side by side: one row per field, one column per version."""
    versions = versions or _versions(store_root(db) / name)
    cols: dict[str, dict[str, Any]] = {}
    for v in versions:
        meta = load_artefact(db, name, v).meta
        col = {f"metric {k}": val for k, val in meta["metrics"].items()}
        col |= {
            "model": meta["spec"]["model"],
            "data from": meta["data"]["first_ds"],
            "data to": meta["data"]["last_ds"],
            "series": meta["data"]["n_series"],
            "rows": meta["data"]["n_rows"],
            "created at": meta["created_at"],
            "code version": meta["code_version"],
            "settings": json.dumps(meta["spec"]["kwargs"], sort_keys=True),
        }
        cols[_vname(v)] = col
    return pd.DataFrame(cols)


# -- load a working model ----------------------------------------------------------------------
def load_model(art: Artefact) -> Forecaster:
    """Rebuild the fitted model of ``art``: verify hashes, refit on the stored frame, put back trees.

    Raises when a file was tampered with. The result predicts exactly what the version predicted
    when it was saved (see :func:`check_reproduces`).
    """
    import lightgbm as lgb

    art.verify()
    train, static = art.train()
    model = build_model(art.meta["spec"])
    model.fit(train, static_df=static)
    stored = art.meta.get("boosters", {})
    if stored:
        if not lgb_estimators(model):  # models that train lazily, on their first predict
            predict_like(art, model)
        fitted = lgb_estimators(model)
        if set(fitted) != set(stored):
            raise ConfigError(
                f"Artefact {art.name} {art.label} holds trees for {sorted(stored)} but the model "
                f"now builds {sorted(fitted)}; the model code changed since it was saved."
            )
        for key, fname in stored.items():
            fitted[key]._Booster = lgb.Booster(model_file=str(art.path / fname))
    return model


def predict_like(art: Artefact, model: Forecaster) -> pd.DataFrame:
    """Re-run the prediction the version made at save time (same h, quantiles, X_future)."""
    x_future = art.read(XFUTURE) if (art.path / XFUTURE).exists() else None
    fc = art.meta["forecast"]
    return model.predict(fc["h"], X_future=x_future, quantiles=fc["quantiles"] or None)


def check_reproduces(art: Artefact, model: Forecaster | None = None) -> pd.DataFrame:
    """Predict again with the loaded version and insist the numbers equal the stored ones bit for bit."""
    model = model or load_model(art)
    again = predict_like(art, model)
    stored = art.forecast()
    same = again.shape == stored.shape and all(
        np.array_equal(again[c].to_numpy(), stored[c].to_numpy()) for c in stored.columns
    )
    if not same:
        raise ConfigError(
            f"Model {art.name} {art.label} no longer reproduces its stored forecasts "
            "(library versions changed?); retrain instead of rolling back."
        )
    return again


def rollback(
    db: str | Path,
    name: str,
    to: int | None = None,
    on_forecast: Callable[[Artefact, pd.DataFrame], None] | None = None,
) -> Artefact:
    """Make version ``to`` (default: the one before the active version) active again.

    The version is reloaded and must reproduce its stored forecasts exactly before it is
    activated; ``on_forecast`` receives those forecasts (e.g. to write them to the warehouse).
    """
    current = active_version(db, name)
    versions = _versions(store_root(db) / name)
    if to is None:
        older = [v for v in versions if current is not None and v < current]
        if not older:
            raise ConfigError(f"Model '{name}' has no version older than the active one to roll back to.")
        to = older[-1]
    art = load_artefact(db, name, to)
    forecast = check_reproduces(art)
    if on_forecast is not None:
        activate(db, name, to, lambda: on_forecast(art, forecast))
    else:
        set_active(db, name, to)
    return art
