"""Statistical models from statsforecast: baselines, exponential smoothing, ARIMA, Theta, MSTL
and the Croston family for intermittent demand. Each class only says which statsforecast model
it wraps; :class:`~trendcast.models.stats.StatsForecastModel` does the rest.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from trendcast.features.frequency import YEAR, kind
from trendcast.models.base import Capabilities
from trendcast.models.stats import StatsForecastModel

_UNI = Capabilities(native_quantiles=True)
_CONFORMAL = Capabilities(native_quantiles=False)
_INTERMITTENT = Capabilities(native_quantiles=False, intermittent=True)


class NaiveModel(StatsForecastModel):
    """Tomorrow equals today: the floor every other model must beat."""

    name = "naive"
    capabilities = _UNI

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import Naive

        return Naive()


class SeasonalNaiveModel(StatsForecastModel):
    """Same day last season (last week for daily data with ``season_length=7``)."""

    name = "seasonal_naive"
    capabilities = _UNI

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import SeasonalNaive

        return SeasonalNaive(season_length=self.season_length)


class MovingAverageModel(StatsForecastModel):
    """Mean of the last ``window`` steps (default 28 days); intervals are conformal."""

    name = "moving_average"
    capabilities = _CONFORMAL
    native_intervals = False

    def __init__(self, window: int = 28, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = int(window)

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import WindowAverage

        return WindowAverage(window_size=self.window)


class AutoETSModel(StatsForecastModel):
    """Exponential smoothing with error/trend/season chosen per series by AICc."""

    name = "auto_ets"
    capabilities = _UNI

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import AutoETS

        return AutoETS(season_length=self.season_length)


class AutoARIMAModel(StatsForecastModel):
    """Seasonal ARIMA with orders chosen per series (stepwise search)."""

    name = "auto_arima"
    capabilities = _UNI

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import AutoARIMA

        return AutoARIMA(season_length=self.season_length)


class AutoThetaModel(StatsForecastModel):
    """Theta method (M3 winner) with the variant chosen per series."""

    name = "auto_theta"
    capabilities = _UNI

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import AutoTheta

        return AutoTheta(season_length=self.season_length)


class DynamicThetaModel(StatsForecastModel):
    """Dynamic optimised Theta (Fiorucci et al., 2016): one Theta variant for every series.

    Why it is here: AutoTheta fits all four variants and keeps the best in-sample fit per series,
    at about three times the cost; on shops of many series that choice did not pay (held-out
    WRMSSE, ``benchmarks/theta_variants.py``), on a single aggregate series it sometimes did.
    """

    name = "dynamic_theta"
    capabilities = _UNI

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import DynamicOptimizedTheta

        return DynamicOptimizedTheta(season_length=self.season_length)


class MSTLModel(StatsForecastModel):
    """Multiple seasonal-trend decomposition (weekly + yearly) with an AutoETS trend.

    The yearly season is only used for series with at least two years of history, because STL
    needs two full cycles; shorter series use the weekly season alone, and series shorter than
    two weeks fall back to a non-seasonal AutoETS.
    """

    name = "mstl"
    capabilities = _UNI

    def __init__(self, yearly_season: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # the year in periods of the data: 365 days, 52 weeks, 12 months
        self.yearly_season = int(yearly_season or YEAR[kind(self.freq)])

    def _groups(self, lengths: pd.Series) -> pd.Series:
        two_years, two_weeks = 2 * self.yearly_season, 2 * self.season_length
        return lengths.map(lambda n: 2 if n >= two_years else 1 if n >= two_weeks else 0)

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import MSTL, AutoETS

        if key == 0:
            return AutoETS(season_length=1, alias="MSTL")
        seasons = [self.season_length, self.yearly_season] if key == 2 else [self.season_length]
        seasons = sorted(set(seasons))  # weekly/monthly data: the main season is the year
        return MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))


class CrostonModel(StatsForecastModel):
    """Croston's method with optimised smoothing: demand size and interval smoothed apart."""

    name = "croston"
    capabilities = _INTERMITTENT
    native_intervals = False

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import CrostonOptimized

        return CrostonOptimized()


class TSBModel(StatsForecastModel):
    """Teunter-Syntetos-Babai: smooths demand probability, so it decays for dying items."""

    name = "tsb"
    capabilities = _INTERMITTENT
    native_intervals = False

    def __init__(self, alpha_d: float = 0.1, alpha_p: float = 0.1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha_d, self.alpha_p = float(alpha_d), float(alpha_p)

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import TSB

        return TSB(alpha_d=self.alpha_d, alpha_p=self.alpha_p)


class ADIDAModel(StatsForecastModel):
    """Aggregate-disaggregate intermittent demand approach (temporal aggregation)."""

    name = "adida"
    capabilities = _INTERMITTENT
    native_intervals = False

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import ADIDA

        return ADIDA()


class IMAPAModel(StatsForecastModel):
    """Intermittent multiple aggregation prediction algorithm (ADIDA over several levels)."""

    name = "imapa"
    capabilities = _INTERMITTENT
    native_intervals = False

    def _sf_model(self, key: object) -> Any:
        from statsforecast.models import IMAPA

        return IMAPA()
