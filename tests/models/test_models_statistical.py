"""The statistical wrappers forecast what the statsforecast model they name forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.models import make_model
from trendcast.models.base import ID, TIME


def test_dynamic_theta_is_statsforecasts_dynamic_optimized_theta(small_panel: pd.DataFrame) -> None:
    from statsforecast import StatsForecast
    from statsforecast.models import DynamicOptimizedTheta

    ids = sorted(small_panel[ID].unique())[:4]
    train = small_panel[small_panel[ID].isin(ids)][[ID, TIME, "y"]].reset_index(drop=True)
    ours = make_model("dynamic_theta", season_length=7).fit(train).predict(14).sort_values([ID, TIME])
    sf = StatsForecast(models=[DynamicOptimizedTheta(season_length=7)], freq="D", n_jobs=1)
    theirs = sf.forecast(df=train, h=14).sort_values([ID, TIME])
    assert len(ours) == 4 * 14
    np.testing.assert_allclose(ours["forecast"].to_numpy(), theirs["DynamicOptimizedTheta"].to_numpy())
    # and it is not AutoTheta under another name: the variant choice per series changes forecasts
    auto = make_model("auto_theta", season_length=7).fit(train).predict(14).sort_values([ID, TIME])
    assert not np.allclose(auto["forecast"].to_numpy(), ours["forecast"].to_numpy())
