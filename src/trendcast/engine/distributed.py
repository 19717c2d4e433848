"""Run forecasts on Dask, Spark or Ray through Fugue, with the same output as the local models.

Statistical models (``auto_ets``, ``auto_arima``, ``seasonal_naive``, ...): the statsforecast
model object comes from the registry model itself; the series are split into a few partitions
and a Fugue ``transform`` runs ``StatsForecast.forecast`` on each partition on the engine
(series are independent, so results equal the local ones). We do not hand the distributed
frame to statsforecast's own Fugue backend because it makes one task per *series*, which
measured 10-70x slower than local here (benchmarks/scale.py). ``engine="local"`` runs the
registry :class:`Forecaster` unchanged.

Gradient boosting (``lightgbm``): one mlforecast feature set (:data:`LGBM_FEATURES`) for every
engine so they are comparable:

- local: ``MLForecast`` with ``LGBMRegressor``;
- dask: ``DistributedMLForecast`` with mlforecast's ``DaskLGBMForecast`` (LightGBM's own
  distributed training over the Dask workers: one global model);
- spark and ray: mlforecast's Spark LightGBM needs SynapseML jars from Maven and its Ray one needs
  ``lightgbm_ray``; neither is installable offline, so there each *partition of series* trains
  its own LightGBM model inside a Fugue ``transform``. With ``partitions=1`` this is exactly the
  local model; with more partitions it trades pooling across all series for parallelism.

Quantiles are supported for statistical models; LightGBM here gives point forecasts.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError
from trendcast.models.base import (
    FORECAST,
    ID,
    TARGET,
    TIME,
    Forecaster,
    check_quantiles,
    quantile_column,
)

ENGINES = ("local", "dask", "spark", "ray")
GBM_MODELS = ("lightgbm",)
PART = "_partition"

def _lgbm_spec(freq: str, season_length: int) -> Any:
    """The registry's LightGBM model: its regressor settings and target features are the ones
    every engine uses, so local and distributed forecasts come from one configuration."""
    from trendcast.models.gbm import LightGBMModel

    return LightGBMModel(season_length=season_length, freq=freq)


def _lgbm_features(freq: str = "D", season_length: int = 7) -> dict[str, Any]:
    """Target lags and rolling statistics of :class:`LightGBMModel`, plus date features
    (the distributed paths take no future frame, so the calendar comes from the dates)."""
    return {**_lgbm_spec(freq, season_length).feature_config(), "date_features": ["dayofweek", "month"]}


LGBM_FEATURES = ("the lags and rolling statistics of the local `lightgbm` model at the data's "
                 "frequency; day of week; month")


# -- engines ---------------------------------------------------------------------------------
def check_engine(engine: str) -> str:
    """Validate an engine name and that its library is importable, with an install hint if not."""
    engine = engine.lower()
    if engine not in ENGINES:
        raise ConfigError(f"Unknown engine '{engine}'. Choose one of: {', '.join(ENGINES)}.")
    needs = {"dask": ("dask.distributed", "dask[distributed]"), "spark": ("pyspark", "pyspark"),
             "ray": ("ray", "ray")}
    if engine in needs:
        module, package = needs[engine]
        try:
            __import__(module)
        except ImportError:
            raise ConfigError(
                f"The {engine} engine needs {package}: install it with `pip install '{package}'`"
                + (" (and Java 17 for Spark)." if engine == "spark" else ".")
            ) from None
    return engine


@contextmanager
def _dask_client() -> Iterator[Any]:
    """The running Dask client, or a temporary in-process cluster for this call."""
    from dask.distributed import Client, LocalCluster, default_client

    try:
        client = default_client()
    except ValueError:  # no client yet: start one below
        client = None
    if client is not None:
        yield client
        return
    with (
        LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _spark_session() -> Any:
    """The active Spark session, or a local one (``local[*]``, few shuffle partitions)."""
    from pyspark.sql import SparkSession

    # Spark's Python workers must run this interpreter (with pandas, statsforecast, ...).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (
        SparkSession.builder.master("local[*]")
        .appName("trendcast")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


def _ray_init() -> None:
    import ray

    if not ray.is_initialized():
        ray.init(include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)


def _to_engine(df: pd.DataFrame, engine: str, partitions: int | None, client: Any = None) -> Any:
    """A distributed frame for ``engine``, split by series into ``partitions`` parts."""
    if engine == "dask":
        import dask.dataframe as dd

        return dd.from_pandas(df, npartitions=partitions or 2, sort=False)
    if engine == "spark":
        spark = _spark_session()
        # Arrow makes pandas -> Spark a columnar copy instead of a row-by-row conversion.
        spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
        sdf = spark.createDataFrame(df)
        return sdf.repartition(partitions or 2, ID)
    if engine == "ray":
        import ray.data

        _ray_init()
        return ray.data.from_pandas(df).repartition(partitions or 2)
    raise ConfigError(f"No distributed frame for engine '{engine}'.")


def _to_pandas(result: Any) -> pd.DataFrame:
    import fugue.api as fa

    out = fa.as_pandas(result)
    out[TIME] = pd.to_datetime(out[TIME]).astype("datetime64[ns]")
    return out


# -- statistical -----------------------------------------------------------------------------
def _stats_partition(part: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """Fugue transformer: statsforecast on one partition of many series (``h`` rides in spec).

    statsforecast's own Fugue backend partitions *by series*, which costs a StatsForecast
    object and a task per series (about 20 ms each); a partition of many series runs the same
    per-series fits in one call, so results are identical and overhead is per partition.
    """
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    from trendcast.models.stats import _pick

    sf = StatsForecast(models=[spec["model"]], freq=spec["freq"], fallback_model=Naive(), n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = sf.forecast(
            df=part[[ID, TIME, TARGET]], h=spec["h"], level=spec["levels"] or None,
            prediction_intervals=spec["intervals"],
        )
    out = _pick(raw.reset_index() if ID not in raw.columns else raw, spec["alias"], spec["quantiles"])
    out[ID] = out[ID].astype(str)
    return out.rename(columns=_safe_names(spec["quantiles"]))


def _safe_names(quantiles: list[float]) -> dict[str, str]:
    """``q0.1`` -> ``q0_1``: Spark reads a dot in a column name as a struct field access."""
    return {quantile_column(q): quantile_column(q).replace(".", "_") for q in quantiles}


def _schema(quantiles: list[float]) -> str:
    """Fugue schema of a forecast frame (quantile columns under their Spark-safe names)."""
    cols = [f"{ID}:str", f"{TIME}:datetime", f"{FORECAST}:double"]
    return ",".join(cols + [f"{safe}:double" for safe in _safe_names(quantiles).values()])


def _stats_forecast(
    df: pd.DataFrame, model: Forecaster, h: int, engine: str, quantiles: list[float], partitions: int | None
) -> pd.DataFrame:
    from statsforecast.utils import ConformalIntervals

    from trendcast.models.stats import _levels

    sf_model = model._sf_model(0)
    levels = _levels(quantiles)
    intervals = None
    if levels and not getattr(model, "native_intervals", True):
        intervals = ConformalIntervals(h=h, n_windows=getattr(model, "conformal_windows", 2))
    spec = {"model": sf_model, "alias": sf_model.alias, "freq": model.freq, "h": h,
            "levels": levels, "intervals": intervals, "quantiles": quantiles}
    data = df[[ID, TIME, TARGET]].astype({TARGET: float})
    out = _by_partition(data, _stats_partition, _schema(quantiles), engine, partitions,
                        {"spec": spec})
    return out.rename(columns={v: k for k, v in _safe_names(quantiles).items()})


def _parallelism(engine: str, client: Any = None) -> int:
    """How many tasks the engine runs at once: the default number of partitions."""
    if engine == "dask" and client is not None:
        return max(1, sum(client.nthreads().values()))
    if engine == "spark":
        return max(1, int(_spark_session().sparkContext.defaultParallelism))
    if engine == "ray":
        import ray

        return max(1, int(ray.cluster_resources().get("CPU", 2)))
    return 2


def _by_partition(
    data: pd.DataFrame, fn: Any, schema: str, engine: str, n: int | None, params: dict[str, Any]
) -> pd.DataFrame:
    """Run ``fn(part, **params)`` on ``n`` partitions of whole series on ``engine`` via Fugue.

    ``n=None``: one partition per task slot of the engine (cores of the Dask workers, Spark's
    default parallelism, Ray's CPUs).
    """
    import fugue.api as fa

    def run(part: pd.DataFrame) -> pd.DataFrame:
        return fn(part.drop(columns=[PART]), **params)

    def split(n_parts: int) -> pd.DataFrame:
        codes = pd.Series(pd.factorize(data[ID], sort=True)[0], index=data.index)
        return data.assign(**{PART: (codes % max(1, n_parts)).astype("int64")})

    if engine == "dask":
        with _dask_client() as client:
            n = n or _parallelism(engine, client)
            out = fa.transform(_to_engine(split(n), engine, n), run, schema=schema,
                               partition={"by": PART}, engine=client)
            return _to_pandas(out)
    if engine == "ray":
        _ray_init()
    n = n or _parallelism(engine)
    out = fa.transform(_to_engine(split(n), engine, n), run, schema=schema, partition={"by": PART},
                       engine=_spark_session() if engine == "spark" else "ray")
    return _to_pandas(out)


# -- gradient boosting -------------------------------------------------------------------------
def _lgbm_local(df: pd.DataFrame, h: int, freq: str = "D", season_length: int = 7) -> pd.DataFrame:
    """One global LightGBM over every series in ``df`` (also the per-partition worker)."""
    from mlforecast import MLForecast

    spec = _lgbm_spec(freq, season_length)
    mlf = MLForecast(models={"lgb": spec.regressor(n_jobs=1)}, freq=freq,
                     **_lgbm_features(freq, season_length))
    mlf.fit(df[[ID, TIME, TARGET]], static_features=[])
    out = mlf.predict(h).rename(columns={"lgb": FORECAST})
    out[ID] = out[ID].astype(str)
    return out[[ID, TIME, FORECAST]]


def _lgbm_partition(part: pd.DataFrame, h: int, freq: str = "D", season_length: int = 7) -> pd.DataFrame:
    """Fugue transformer: train and forecast one partition of series."""
    return _lgbm_local(part, h, freq, season_length)


def _lgbm_forecast(
    df: pd.DataFrame, h: int, engine: str, partitions: int | None, freq: str = "D", season_length: int = 7
) -> pd.DataFrame:
    data = df[[ID, TIME, TARGET]].astype({TARGET: float})
    if engine == "local":
        return _lgbm_local(data, h, freq, season_length)
    if engine == "dask":
        from mlforecast.distributed import DistributedMLForecast
        from mlforecast.distributed.models.dask.lgb import DaskLGBMForecast

        params = _lgbm_spec(freq, season_length).regressor_params()
        params.pop("n_jobs")
        with _dask_client() as client:
            mlf = DistributedMLForecast(
                models={"lgb": DaskLGBMForecast(client=client, **params)},
                freq=freq,
                num_partitions=partitions or 1,
                **_lgbm_features(freq, season_length),
            )
            mlf.fit(_to_engine(data, engine, partitions or 1), static_features=[])
            out = _to_pandas(mlf.predict(h))
        return out.rename(columns={"lgb": FORECAST})[[ID, TIME, FORECAST]]
    # spark / ray: one model per partition of series, through Fugue
    return _by_partition(data, _lgbm_partition, _schema([]), engine, partitions or 1,
                         {"h": h, "freq": freq, "season_length": season_length})


# -- the entry point ---------------------------------------------------------------------------
def run_forecast(
    panel: pd.DataFrame,
    model: str,
    h: int,
    engine: str = "local",
    quantiles: Sequence[float] | None = None,
    partitions: int | None = None,
    season_length: int = 7,
    freq: str = "D",
) -> pd.DataFrame:
    """Forecast ``h`` days for every series of ``panel`` with registry model ``model`` on ``engine``.

    Returns ``unique_id, ds, forecast`` (+ ``q0.1`` ... for ``quantiles``), sorted, never negative,
    like :meth:`Forecaster.predict`. ``partitions`` is how many pieces the data is split into
    (default: the engine's choice; 1 for LightGBM so Spark/Ray match the local global model).
    """
    engine = check_engine(engine)
    qs = check_quantiles(quantiles)
    if h < 1:
        raise ConfigError(f"Horizon must be at least 1 step; got {h}.")
    df = panel.copy()
    df[ID] = df[ID].astype(str)
    df[TIME] = pd.to_datetime(df[TIME]).astype("datetime64[ns]")
    if model in GBM_MODELS:
        if qs:
            raise ConfigError(
                "Quantiles for LightGBM are produced by the local model (`trendcast forecast`); "
                "the distributed LightGBM path gives point forecasts only."
            )
        out = _lgbm_forecast(df, h, engine, partitions, freq, season_length)
    else:
        from trendcast.models.registry import make_model
        from trendcast.models.stats import StatsForecastModel

        fc = make_model(model, season_length=season_length, freq=freq)
        if engine == "local":
            return fc.fit(df[[ID, TIME, TARGET]]).predict(h, quantiles=qs or None)
        if not isinstance(fc, StatsForecastModel):
            raise ConfigError(
                f"Model '{model}' runs locally only; distributed engines support statsforecast "
                f"models and {', '.join(GBM_MODELS)}."
            )
        out = _stats_forecast(df, fc, h, engine, qs, partitions)
    out = out.sort_values([ID, TIME]).reset_index(drop=True)
    return Forecaster._tidy(out, qs)


def engine_frame_check(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-6) -> bool:
    """True when two forecast frames cover the same points with allclose values (used by tests)."""
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return False
    key = [ID, TIME]
    a, b = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    if not (a[key].astype(str).equals(b[key].astype(str))):
        return False
    vals = [c for c in a.columns if c not in key]
    return bool(np.allclose(a[vals].to_numpy(float), b[vals].to_numpy(float), rtol=rtol, atol=1e-8))


