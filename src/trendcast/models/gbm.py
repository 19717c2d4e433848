"""One global LightGBM model over all series, built with Nixtla's mlforecast.

Features: target lags (1, 7, 14, 28 and the season), rolling means/std of the target, calendar
and shopping-festival flags (:mod:`trendcast.features.calendar`; the month alone for monthly
data), every covariate column in the frame, and the static columns (item, store, category) as
LightGBM categoricals.

The leakage rule for covariates (what is known when):
- **future-known**: numeric columns that also appear in ``X_future`` (price, promo, ...). They
  are used as they are, on the day they describe. ``price`` also yields ``price_rel`` = price /
  the series' median training price, so one model learns elasticity across price levels.
- **past-only**: numeric columns *not* in ``X_future`` (text signals, traffic ...). A value dated
  ``d`` is only used to forecast days ``>= d + h``: the model sees ``col`` shifted by the horizon
  ``h`` (plus a 7-day mean of that shifted value), so every one of the ``h`` steps could have
  been computed at the forecast origin.
- **static**: text/categorical columns that are constant within a series, plus ``static_df``.

Because the past-only shift and the conformal intervals both depend on ``h``, and which
columns are future-known is only known from ``X_future``, the model is trained on the first
``predict`` call for a given (h, future columns) and cached; ``fit`` validates and stores data.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, InputError
from trendcast.features.calendar import add_calendar, calendar_columns
from trendcast.features.frequency import kind
from trendcast.models.base import (
    FORECAST,
    ID,
    TARGET,
    TIME,
    Capabilities,
    Forecaster,
    free_cores,
    quantile_column,
)
from trendcast.models.stats import _levels, quantile_levels

OBJECTIVES = ("tweedie", "poisson", "l2")
# default target lags and rolling windows per frequency kind (days, weeks, months)
LAGS: dict[str, tuple[int, ...]] = {"D": (1, 2, 3, 7, 14, 21, 28), "W": (1, 2, 3, 4, 8, 13, 26), "M": (1, 2, 3, 6)}
WINDOWS: dict[str, tuple[int, int]] = {"D": (7, 28), "W": (4, 13), "M": (3, 6)}
STRATEGIES = ("recursive", "direct")
ALIAS = "lgbm"


class LightGBMModel(Forecaster):
    """Global gradient boosting; see the module docstring for which covariates it uses when."""

    name = "lightgbm"
    capabilities: ClassVar[Capabilities] = Capabilities(
        future_covariates=True,
        past_covariates=True,
        static_covariates=True,
        native_quantiles=False,
        global_model=True,
    )

    def __init__(
        self,
        season_length: int = 7,
        freq: str = "D",
        objective: str = "tweedie",
        strategy: str = "recursive",
        lags: tuple[int, ...] | None = None,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 63,
        conformal_windows: int = 2,
        calendar: bool = True,
        n_jobs: int | None = None,
        seed: int = 0,
        **params: object,
    ) -> None:
        super().__init__(season_length=season_length, freq=freq, **params)
        if objective not in OBJECTIVES:
            raise ConfigError(f"LightGBM objective must be one of {OBJECTIVES}; got '{objective}'.")
        if strategy not in STRATEGIES:
            raise ConfigError(f"LightGBM strategy must be one of {STRATEGIES}; got '{strategy}'.")
        self.objective, self.strategy = objective, strategy
        self.lags = sorted({int(x) for x in (*(lags or LAGS[kind(freq)]), season_length)})
        self.windows = WINDOWS[kind(freq)]  # rolling windows: a week and four weeks of days, ...
        self.n_estimators, self.learning_rate = int(n_estimators), float(learning_rate)
        self.num_leaves, self.conformal_windows = int(num_leaves), max(2, int(conformal_windows))
        self.calendar, self.seed = bool(calendar), int(seed)
        self.n_jobs = None if n_jobs is None else int(n_jobs)
        self.lgb_params = dict(params)

    # -- Forecaster ----------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        # new frames that share the caller's columns (copy-on-write), never a copy of every row
        df = df.assign(**{TARGET: df[TARGET].astype(float)})
        if (df[TARGET] < 0).any() and self.objective != "l2":
            raise InputError(f"Objective '{self.objective}' needs y >= 0; use objective='l2'.")
        if static_df is not None:
            extra = static_df.drop_duplicates(ID).set_index(ID)
            df = df.assign(**{c: df[ID].map(extra[c]) for c in extra.columns if c not in df.columns})
        covs = [c for c in df.columns if c not in (ID, TIME, TARGET)]
        numeric = [c for c in covs if pd.api.types.is_numeric_dtype(df[c])]
        per_series = df.groupby(ID)[[c for c in covs if c not in numeric]].nunique()
        self.static_ = [c for c in per_series.columns if (per_series[c] <= 1).all()]
        self.numeric_ = numeric
        dropped = sorted(set(covs) - set(numeric) - set(self.static_))
        if dropped:
            warnings.warn(f"LightGBM ignores text columns that vary over time: {dropped}", stacklevel=3)
        self.train_ = df[[ID, TIME, TARGET, *numeric, *self.static_]]
        if "price" in numeric:
            self.ref_price_ = df.groupby(ID)["price"].median()
        self._cache: dict[tuple[object, ...], Any] = {}

    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        future_cols = self._future_known(X_future)
        train, X_df = self._design(h, X_future, future_cols)
        sizes = train.groupby(ID).size()
        short = set(sizes.index[sizes < self.conformal_windows * h + 1])
        long_train = train[~train[ID].isin(short)]
        calibrate = bool(quantiles) and bool(len(long_train))
        key = (h, tuple(future_cols), calibrate)  # no quantiles asked: no calibration fits
        if key not in self._cache:  # conformal calibration needs every series >= windows*h+1
            data = long_train if calibrate else train
            self._cache[key] = self._train(data, h, calibrate)
        mlf = self._cache[key]
        if not calibrate:  # trained on every series
            short = set()
        levels = _levels(quantiles) if calibrate else []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = mlf.predict(h, X_df=X_df[~X_df[ID].isin(short)], level=levels or None)
            out = self._columns(raw, quantiles if levels else [])
            if short and len(long_train):
                new = train[train[ID].isin(short)]
                point = mlf.predict(h, new_df=new, X_df=X_df[X_df[ID].isin(short)])
                out = pd.concat([out, self._borrow_spread(self._columns(point, []), out, quantiles)])
        for q in quantiles:  # no calibration data at all: quantiles collapse to the point
            out[quantile_column(q)] = out.get(quantile_column(q), out[FORECAST])
        return out.reset_index(drop=True)

    @staticmethod
    def _columns(raw: pd.DataFrame, quantiles: list[float]) -> pd.DataFrame:
        """mlforecast's ``lgbm``, ``lgbm-lo-80`` ... -> ``forecast``, ``q0.1`` ..."""
        out = raw[[ID, TIME]].copy()
        out[FORECAST] = raw[ALIAS].to_numpy(dtype=float)
        for q, (side, lv) in quantile_levels(quantiles).items():
            col = ALIAS if side == "mean" else f"{ALIAS}-{side}-{lv}"
            out[quantile_column(q)] = raw[col].to_numpy(dtype=float)
        return out

    @staticmethod
    def _borrow_spread(point: pd.DataFrame, calibrated: pd.DataFrame, quantiles: list[float]) -> pd.DataFrame:
        """Series too short to calibrate borrow the median relative interval of the others."""
        base = calibrated[FORECAST].clip(lower=1e-9)
        for q in quantiles:
            col = quantile_column(q)
            ratio = float(np.median((calibrated[col] - calibrated[FORECAST]) / base))
            point[col] = point[FORECAST] * (1.0 + ratio)
        return point

    # -- features ------------------------------------------------------------------------------
    def _future_known(self, X_future: pd.DataFrame | None) -> list[str]:
        if X_future is None:
            return []
        for col in (ID, TIME):
            if col not in X_future.columns:
                raise InputError(f"X_future lacks column '{col}'; it needs unique_id, ds and covariates.")
        return [c for c in self.numeric_ if c in X_future.columns]

    def _design(
        self, h: int, X_future: pd.DataFrame | None, future_cols: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Training frame and future exogenous frame, with every leakage rule applied."""
        past_cols = [c for c in self.numeric_ if c not in future_cols]
        grid = self.future_dates(h)
        if future_cols:
            fut = X_future[[ID, TIME, *future_cols]].copy()
            fut[TIME] = pd.to_datetime(fut[TIME]).astype("datetime64[ns]")
            grid = grid.merge(fut, on=[ID, TIME], how="left", indicator=True)
            gaps = grid.pop("_merge") != "both"  # an empty value is fine (LightGBM reads NaN)
            if gaps.any():
                first = grid.loc[gaps].iloc[0]
                raise InputError(
                    f"X_future has no row for {gaps.sum()} (series, period) pairs of the {h}-step "
                    f"horizon (first: {first[ID]} on {first[TIME]:%Y-%m-%d}); give every series "
                    "every period of the horizon, or leave X_future out."
                )
        hist = self.train_[[ID, TIME, TARGET, *future_cols, *past_cols]]
        both = pd.concat([hist, grid], ignore_index=True).sort_values([ID, TIME])
        dynamic: list[str] = list(future_cols)
        w = self.windows[0]
        for col in past_cols:  # known only h periods later: shift by the horizon
            shifted = both.groupby(ID, sort=False)[col].shift(h)
            both[f"{col}_lag{h}"] = shifted
            both[f"{col}_lag{h}_mean{w}"] = (
                shifted.groupby(both[ID], sort=False).rolling(w, min_periods=1).mean().to_numpy()
            )
            dynamic += [f"{col}_lag{h}", f"{col}_lag{h}_mean{w}"]
        if "price" in future_cols:
            both["price_rel"] = both["price"] / both[ID].map(self.ref_price_).replace(0, np.nan)
            dynamic.append("price_rel")
        if self.calendar:
            columns = calendar_columns(kind(self.freq))
            both = add_calendar(both, columns=columns)
            dynamic += list(columns)
        both = both.drop(columns=past_cols)
        is_future = both[TARGET].isna()
        static = self.train_.groupby(ID)[self.static_].first().astype("category")
        train = both.loc[~is_future, [ID, TIME, TARGET, *dynamic]]
        train = train.assign(**{c: train[ID].map(static[c]) for c in static.columns})  # no merge copy
        X_df = both.loc[is_future, [ID, TIME, *dynamic]].reset_index(drop=True)
        return train.reset_index(drop=True), X_df

    def training_features(self, h: int, X_future: pd.DataFrame | None = None) -> pd.DataFrame:
        """The exact table LightGBM learns from for horizon ``h`` (target ``y`` plus features)."""
        if not self.fitted_:
            raise ConfigError("Fit the model before asking for its training features.")
        train, _ = self._design(h, X_future, self._future_known(X_future))
        return self._mlforecast().preprocess(train, static_features=self.static_)

    # -- training ------------------------------------------------------------------------------
    def regressor(self, n_jobs: int | None = None) -> Any:
        """The LightGBM regressor every engine uses (local, Dask, Spark, Ray): one configuration."""
        import lightgbm as lgb

        return lgb.LGBMRegressor(**self.regressor_params(n_jobs))

    def regressor_params(self, n_jobs: int | None = None) -> dict[str, Any]:
        return dict(
            objective=self.objective,
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=self.seed,
            deterministic=True,
            force_col_wise=True,
            # threads do not change the trees (deterministic, column-wise histograms): a test pins it
            n_jobs=n_jobs or self.n_jobs or free_cores(),
            verbosity=-1,
            **self.lgb_params,
        )

    def feature_config(self) -> dict[str, Any]:
        """mlforecast's target features: lags and rolling statistics at the data's frequency."""
        from mlforecast.lag_transforms import (
            ExponentiallyWeightedMean,
            RollingMean,
            RollingStd,
            SeasonalRollingMean,
        )

        short, long = self.windows
        season = self.season_length
        transforms: dict[int, list[Any]] = {
            1: [
                RollingMean(window_size=short),
                RollingMean(window_size=long),
                RollingStd(window_size=long),
                ExponentiallyWeightedMean(alpha=0.3),
            ],
        }
        if season > 1:  # no season (short history): no seasonal mean
            transforms[season] = [SeasonalRollingMean(season_length=season, window_size=4)]
        return {"lags": self.lags, "lag_transforms": transforms}

    def _mlforecast(self) -> Any:
        from mlforecast import MLForecast

        return MLForecast(
            models={ALIAS: self.regressor()}, freq=self.freq, num_threads=1, **self.feature_config()
        )

    def _train(self, train: pd.DataFrame, h: int, with_intervals: bool) -> Any:
        from mlforecast.utils import PredictionIntervals

        mlf = self._mlforecast()
        intervals = None
        if with_intervals:
            intervals = PredictionIntervals(n_windows=self.conformal_windows, h=h)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mlf.fit(
                train,
                static_features=self.static_,
                dropna=False,
                max_horizon=h if self.strategy == "direct" else None,
                prediction_intervals=intervals,
            )
        return mlf
