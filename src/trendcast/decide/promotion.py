"""Promotions: how much a promotion lifts sales, and the forecast under a planned calendar.

The uplift comes from the same regression as the price elasticity
(:mod:`trendcast.decide.pricing`): ``exp(b) - 1`` on top of the promotion's price cut, with a
confidence interval from ``b``'s standard error. The forecast under a plan treats promotion
and price as future-known covariates: the model is trained on history with ``price`` and
``promo`` columns and predicts with the planned values in ``X_future``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.data.periods import period_label
from trendcast.decide.pricing import (
    ElasticityConfig,
    category_elasticities,
    estimate_elasticities,
    require_history,
)
from trendcast.errors import InputError
from trendcast.features.frequency import check_freq, season_length

UPLIFT_COLUMNS = ["promo_uplift", "promo_uplift_low", "promo_uplift_high"]


def promo_uplift(panel: pd.DataFrame, config: ElasticityConfig | None = None, by: str = "item") -> pd.DataFrame:
    """Uplift of a promotion day (beyond its price cut) per item or per category, with CI.

    Stops with what is missing when the history has no prices or no promotion day at all;
    discontinued items and items without a promotion in their evidence get NaN (``basis`` says).
    """
    require_history(panel, promo=True)
    if by == "category":
        est = category_elasticities(panel, config)
        return est[["category", *UPLIFT_COLUMNS, "n_obs"]]
    est = estimate_elasticities(panel, config)
    return est[["item_id", "category", "basis", *UPLIFT_COLUMNS]]


def future_covariates(panel: pd.DataFrame, plan: pd.DataFrame, horizon_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """``unique_id, ds, price, promo`` for every series, the same number of periods after each
    series' last period (enough to reach the plan's end for the series that ends first); plan
    dates count for the period of the data's frequency they fall in.

    Days not in the plan have no promotion and the latest regular price. A planned promotion
    without a price gets the item's typical historical promotion discount.
    """
    if not {"item_id", "date", "promo"} <= set(plan.columns):
        raise InputError("A promotion plan needs columns item_id, date, promo (and optionally store_id, price).")
    freq = check_freq(panel.attrs.get("freq", "D"))
    step = pd.tseries.frequencies.to_offset(freq)
    plan = plan.copy()
    plan["ds"] = period_label(plan["date"], freq).astype("datetime64[ns]")
    if "store_id" in plan.columns:
        plan["store_id"] = plan["store_id"].fillna("").astype(str)
    agg = {"promo": "max", **({"price": "mean"} if "price" in plan.columns else {})}
    plan = plan.groupby([c for c in ("item_id", "store_id", "ds") if c in plan.columns], as_index=False).agg(agg)
    last = panel.groupby("unique_id")["ds"].max()
    end = horizon_end or plan["ds"].max()
    if end <= last.min():
        raise InputError(f"The plan ends on {end.date()}, before the first day to forecast; plan future dates.")
    keys = panel.groupby("unique_id")[["item_id", "store_id"]].first()
    regular = panel[panel["promo"] == 0].groupby("unique_id")["price"].last()
    promo_price = panel[panel["promo"] == 1].groupby("unique_id")["price"].median()
    reg_at_promo = panel.groupby("unique_id")["price"].median()
    discount = (promo_price / reg_at_promo).clip(upper=1.0)
    h = len(pd.date_range(last.min() + step, end, freq=freq))  # the same h periods for every series
    frames = []
    for uid, day in last.items():
        dates = pd.date_range(day + step, periods=h, freq=freq)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": dates, "item_id": keys.loc[uid, "item_id"], "store_id": keys.loc[uid, "store_id"]}))
    fut = pd.concat(frames, ignore_index=True)
    fut["price"] = fut["unique_id"].map(regular).fillna(fut["unique_id"].map(reg_at_promo))
    if "store_id" in plan.columns:
        fut = fut.merge(plan[["item_id", "store_id", "ds", "promo", *(["price"] if "price" in plan else [])]], on=["item_id", "store_id", "ds"], how="left", suffixes=("", "_plan"))
    else:
        fut = fut.merge(plan[["item_id", "ds", "promo", *(["price"] if "price" in plan else [])]], on=["item_id", "ds"], how="left", suffixes=("", "_plan"))
    fut["promo"] = fut["promo"].fillna(0).astype(int)
    fut["regular_price"] = fut["price"]
    given = pd.Series(False, index=fut.index)
    if "price_plan" in fut.columns:
        given = fut["price_plan"].notna()
        fut["price"] = fut["price_plan"].where(given, fut["price"])
        fut = fut.drop(columns="price_plan")
    cut = (fut["promo"] == 1) & ~given
    fut.loc[cut, "price"] = fut.loc[cut, "price"] * fut.loc[cut, "unique_id"].map(discount).fillna(1.0)
    return fut[["unique_id", "ds", "item_id", "store_id", "price", "promo", "regular_price"]]


def promo_forecast(panel: pd.DataFrame, plan: pd.DataFrame, model: str = "lightgbm", quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
    """Forecast under the planned promotions and without them (same fitted model).

    Returns ``unique_id, ds, item_id, store_id, price, promo, forecast, forecast_no_promo,
    uplift_units`` plus quantile columns of the planned scenario. Models that cannot use
    future covariates (see their Capabilities) give the same forecast for both scenarios.
    """
    from trendcast.models import make_model

    fut = future_covariates(panel, plan)
    h = int(fut.groupby("unique_id").size().max())
    freq = check_freq(panel.attrs.get("freq", "D"))
    m = make_model(model, freq=freq, season_length=season_length(freq, int(panel.groupby("unique_id").size().max())))
    m.fit(panel[["unique_id", "ds", "y", "price", "promo"]])
    planned = m.predict(h, X_future=fut[["unique_id", "ds", "price", "promo"]], quantiles=list(quantiles))
    base_x = fut[["unique_id", "ds", "regular_price"]].rename(columns={"regular_price": "price"})
    base_x["promo"] = 0
    baseline = m.predict(h, X_future=base_x, quantiles=None)[["unique_id", "ds", "forecast"]]
    out = fut.merge(planned, on=["unique_id", "ds"]).merge(baseline.rename(columns={"forecast": "forecast_no_promo"}), on=["unique_id", "ds"])
    out["uplift_units"] = out["forecast"] - out["forecast_no_promo"]
    out.attrs["capabilities"] = str(type(m).capabilities)
    out.attrs["uses_covariates"] = bool(np.any(out["uplift_units"].abs() > 1e-9))
    return out
