"""Price elasticity from sales history, what-if curves and a recommended price.

Model (per item, all its stores pooled): ``log E[units] = a_store + e * log(price) + b * promo
+ trend + day-of-week + month``, i.e. constant elasticity ``e`` with a multiplicative promotion
uplift ``exp(b)``, controlling for seasonality and a log-linear trend.

Default estimator: Poisson quasi-maximum likelihood (scikit-learn ``PoissonRegressor`` without
penalty) with heteroscedasticity-robust "sandwich" standard errors. It is consistent for any
count distribution with that mean (overdispersed negative binomial included) and keeps zero-
sales days, which a log-log OLS can only take as ``log1p(units)`` - biasing the elasticity
towards zero for slow movers (``method="ols"`` is kept for comparison). Standard errors ignore
day-to-day autocorrelation, so intervals are somewhat too narrow.

Items whose regular (non-promotion) price barely moves cannot identify an elasticity: when the
standard deviation of the log regular price (about the price's coefficient of variation) is
below ``min_log_price_sd`` or the item has too few selling days, the category's pooled estimate
(one elasticity, item x store intercepts) is used instead and the row says so.

With ``shrink=True`` (default) every item estimate is also pulled towards its category's pooled
estimate in proportion to its own uncertainty (empirical Bayes: precision-weighted average with
the between-item variance estimated by moments), which cuts the error of noisy slow movers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from trendcast.errors import ConfigError, InputError


@dataclass(frozen=True)
class ElasticityConfig:
    """Estimation settings; see the module docstring for what they control."""

    method: str = "poisson"
    min_log_price_sd: float = 0.03
    min_selling_days: int = 30
    confidence: float = 0.95
    shrink: bool = True
    season: str = "month"

    def __post_init__(self) -> None:
        if self.method not in ("poisson", "ols"):
            raise ConfigError(f"Elasticity method must be 'poisson' or 'ols'; got '{self.method}'.")
        if not 0 < self.confidence < 1:
            raise ConfigError(f"Confidence must be between 0 and 1; got {self.confidence}.")
        if self.season not in ("month", "fourier"):
            raise ConfigError(f"Season control must be 'month' (dummies) or 'fourier'; got '{self.season}'.")
        if self.min_log_price_sd < 0 or self.min_selling_days < 0:
            raise ConfigError("Pooling thresholds cannot be negative.")


# -- regression -----------------------------------------------------------------------------


def design(df: pd.DataFrame, group: str, season: str = "month") -> tuple[np.ndarray, list[str]]:
    """Columns ``log_price, promo, trend`` plus day-of-week, month and ``group`` dummies (no intercept)."""
    ds = pd.to_datetime(df["ds"])
    parts = {
        "log_price": np.log(df["price"].to_numpy(float)),
        "promo": df["promo"].to_numpy(float),
        "trend": ((ds - ds.min()).dt.days / 365.25).to_numpy(float),
    }
    frame = pd.DataFrame(parts)
    if season == "fourier":
        angle = 2 * np.pi * ds.dt.dayofyear.to_numpy(float) / 365.25
        for k in (1, 2):
            frame[f"sin{k}"], frame[f"cos{k}"] = np.sin(k * angle), np.cos(k * angle)
    dummies = [
        pd.get_dummies(ds.dt.dayofweek, prefix="dow", drop_first=True),
        pd.get_dummies(ds.dt.month if season == "month" else pd.Series(0, index=ds.index), prefix="month", drop_first=True),
        pd.get_dummies(df[group].astype(str), prefix="g", drop_first=True),
    ]
    frame = pd.concat([frame.reset_index(drop=True), *[d.reset_index(drop=True) for d in dummies]], axis=1)
    frame = frame.loc[:, frame.std() > 0] if len(frame) > 1 else frame
    for must in ("log_price", "promo"):
        if must not in frame.columns:
            frame.insert(0 if must == "log_price" else 1, must, parts[must])
    return frame.to_numpy(float), list(frame.columns)


def fit_log_linear(y: np.ndarray, X: np.ndarray, method: str = "poisson") -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and their covariance (intercept first, then the columns of ``X``).

    BLAS runs single-threaded here: these matrices are small, and on a shared machine thread
    contention made the same fit 10-30x slower.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _fit(y, X, method)


def _fit(y: np.ndarray, X: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    Xc = np.column_stack([np.ones(len(X)), X])
    if method == "ols":
        z = np.log1p(y)
        beta, *_ = np.linalg.lstsq(Xc, z, rcond=None)
        resid = z - Xc @ beta
        dof = max(len(z) - Xc.shape[1], 1)
        cov = (resid @ resid / dof) * np.linalg.pinv(Xc.T @ Xc)
        return beta, cov
    beta = _poisson_newton(Xc, y)
    mu = np.exp(np.clip(Xc @ beta, -30, 30))
    bread = np.linalg.pinv(Xc.T @ (Xc * mu[:, None]))
    meat = Xc.T @ (Xc * ((y - mu) ** 2)[:, None])
    return beta, bread @ meat @ bread


def _poisson_newton(Xc: np.ndarray, y: np.ndarray, max_iter: int = 50, tol: float = 1e-9) -> np.ndarray:
    """Poisson log-link maximum likelihood by Newton-Raphson (= IRLS) with step halving.

    A few dozen 30x30 solves: much faster than a general-purpose solver for these small designs.
    """
    beta = np.zeros(Xc.shape[1])
    beta[0] = np.log(max(float(y.mean()), 1e-6))

    def loglik(b: np.ndarray) -> float:
        eta = np.clip(Xc @ b, -30, 30)
        return float(y @ eta - np.exp(eta).sum())

    current = loglik(beta)
    for _ in range(max_iter):
        mu = np.exp(np.clip(Xc @ beta, -30, 30))
        grad = Xc.T @ (y - mu)
        hess = Xc.T @ (Xc * mu[:, None])
        step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-4:
            cand = beta + t * step
            new = loglik(cand)
            if new >= current - 1e-12:
                break
            t /= 2
        beta, gain, current = cand, new - current, new
        if abs(gain) < tol * (1 + abs(current)):
            break
    return beta


def _estimate(df: pd.DataFrame, group: str, cfg: ElasticityConfig) -> dict[str, float]:
    X, names = design(df, group, cfg.season)
    beta, cov = fit_log_linear(df["y"].to_numpy(float), X, cfg.method)
    z = stats.norm.ppf(0.5 + cfg.confidence / 2)
    out: dict[str, float] = {}
    for name, key in (("log_price", "elasticity"), ("promo", "promo_coef")):
        j = names.index(name) + 1
        se = float(np.sqrt(max(cov[j, j], 0.0)))
        out[key], out[f"{key}_se"] = float(beta[j]), se
        out[f"{key}_low"], out[f"{key}_high"] = float(beta[j] - z * se), float(beta[j] + z * se)
    out["n_obs"] = float(len(df))
    return out


def _price_variation(g: pd.DataFrame) -> float:
    regular = g.loc[g["promo"] == 0, "price"]
    return float(np.log(regular).std()) if len(regular) > 1 else 0.0


def repair_unsold_prices(panel: pd.DataFrame) -> pd.DataFrame:
    """Price and promotion flag for days without sales, where the panel only guessed them.

    The sales panel fills a day with no sales row by carrying the last price forward, which
    right after a promotion is the *promotion* price with ``promo = 0``: zero sales then look
    like a reaction to a low price and push the elasticity towards zero or above. Zero-sales
    days therefore take the price and promotion flag the item had in its other stores that
    day (prices are usually set per item), else the series' last regular (non-promotion)
    price seen on a selling day, without promotion.
    """
    df = panel.copy()
    sold = df["y"] > 0
    if sold.all():
        return df
    seen = df[sold].groupby(["item_id", "ds"]).agg(price=("price", "median"), promo=("promo", "max"))
    keys = pd.MultiIndex.from_frame(df[["item_id", "ds"]])
    day_price = pd.Series(seen["price"].reindex(keys).to_numpy(), index=df.index)
    day_promo = pd.Series(seen["promo"].reindex(keys).to_numpy(), index=df.index)
    regular = df["price"].where(sold & (df["promo"] == 0))
    regular = regular.groupby([df["store_id"], df["item_id"]]).transform(lambda s: s.ffill().bfill())
    unsold = ~sold
    df.loc[unsold, "price"] = day_price[unsold].fillna(regular[unsold]).fillna(df.loc[unsold, "price"])
    df.loc[unsold, "promo"] = day_promo[unsold].fillna(0).astype(df["promo"].dtype)
    return df


def estimate_elasticities(panel: pd.DataFrame, config: ElasticityConfig | None = None) -> pd.DataFrame:
    """Elasticity and promotion uplift per item, with confidence intervals.

    ``panel``: ``unique_id, ds, y, item_id, store_id, category, price, promo``. Returns one row
    per item: ``elasticity`` (+ ``_se``, ``_low``, ``_high``), ``promo_uplift = exp(b) - 1`` with
    its interval, ``basis`` ("item" or "category pooled") and the price variation seen.
    """
    cfg = config or ElasticityConfig()
    need = {"ds", "y", "item_id", "store_id", "category", "price", "promo"}
    if missing := need - set(panel.columns):
        raise InputError(f"Sales panel lacks {sorted(missing)}; elasticities need prices and promotions.")
    df = panel.dropna(subset=["price"])
    df = repair_unsold_prices(df[df["price"] > 0])
    if df.empty:
        raise InputError("No positive prices in the sales history: cannot estimate price elasticity.")
    df = df.assign(series=df["store_id"].astype(str) + "/" + df["item_id"].astype(str))
    pooled = {str(c): _estimate(g, "series", cfg) for c, g in df.groupby("category", sort=True)}
    rows = []
    for item, g in df.groupby("item_id", sort=True):
        sd = _price_variation(g)
        selling = int((g["y"] > 0).sum())
        cat = str(g["category"].iloc[0])
        if sd >= cfg.min_log_price_sd and selling >= cfg.min_selling_days:
            est, basis = _estimate(g, "store_id", cfg), "item"
        else:
            est, basis = dict(pooled[cat]), "category pooled"
        rows.append({"item_id": item, "category": cat, "basis": basis, "log_price_sd": round(sd, 4), "selling_days": selling, **est})
    out = pd.DataFrame(rows)
    if cfg.shrink:
        out = _shrink(out, pooled, cfg)
    for col in ("promo_coef", "promo_coef_low", "promo_coef_high"):
        out[col.replace("promo_coef", "promo_uplift")] = np.expm1(out[col])
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(4)
    return out


def _shrink(out: pd.DataFrame, pooled: dict[str, dict[str, float]], cfg: ElasticityConfig) -> pd.DataFrame:
    """Precision-weighted average of each item estimate with its category's pooled estimate."""
    out = out.copy()
    z = stats.norm.ppf(0.5 + cfg.confidence / 2)
    for key in ("elasticity", "promo_coef"):
        for cat, idx in out[out["basis"] == "item"].groupby("category").groups.items():
            est, se = out.loc[idx, key], out.loc[idx, f"{key}_se"]
            tau2 = max(float(est.var(ddof=1)) - float((se**2).mean()), 0.01) if len(idx) > 2 else 0.25
            w = (1 / se**2) / (1 / se**2 + 1 / tau2)
            prior = pooled[cat][key]
            out.loc[idx, key] = w * est + (1 - w) * prior
            out.loc[idx, f"{key}_se"] = np.sqrt(1 / (1 / se**2 + 1 / tau2))
        out[f"{key}_low"] = out[key] - z * out[f"{key}_se"]
        out[f"{key}_high"] = out[key] + z * out[f"{key}_se"]
    return out


def category_elasticities(panel: pd.DataFrame, config: ElasticityConfig | None = None) -> pd.DataFrame:
    """One pooled elasticity and promotion uplift per category (item x store intercepts)."""
    cfg = config or ElasticityConfig()
    df = repair_unsold_prices(panel.dropna(subset=["price"]).query("price > 0"))
    df = df.assign(series=df["store_id"].astype(str) + "/" + df["item_id"].astype(str))
    rows = [{"category": c, **_estimate(g, "series", cfg)} for c, g in df.groupby("category", sort=True)]
    out = pd.DataFrame(rows)
    for col in ("promo_coef", "promo_coef_low", "promo_coef_high"):
        out[col.replace("promo_coef", "promo_uplift")] = np.expm1(out[col])
    return out


# -- what-if and recommendation ----------------------------------------------------------------


def check_bounds(low: float, high: float) -> None:
    if low <= 0 or high <= 0:
        raise ConfigError(f"Price bounds must be positive; got {low} .. {high}.")
    if low > high:
        raise ConfigError(f"Minimum price {low} is above maximum price {high}: the bounds are reversed.")


def what_if(
    elasticity: float,
    current_price: float,
    base_demand: float,
    unit_cost: float | None = None,
    low: float | None = None,
    high: float | None = None,
    points: int = 21,
    elasticity_range: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Demand, revenue and margin over a price grid: ``demand = base * (p / current) ** e``.

    ``elasticity_range`` (the CI) adds ``demand_low``/``demand_high`` bands.
    """
    low = current_price * 0.8 if low is None else low
    high = current_price * 1.2 if high is None else high
    check_bounds(low, high)
    prices = np.linspace(low, high, points)
    ratio = prices / current_price
    out = pd.DataFrame({"price": prices, "demand": base_demand * ratio**elasticity})
    out["revenue"] = out["price"] * out["demand"]
    if unit_cost is not None:
        out["margin"] = (out["price"] - unit_cost) * out["demand"]
    if elasticity_range is not None:
        a, b = base_demand * ratio ** elasticity_range[0], base_demand * ratio ** elasticity_range[1]
        out["demand_low"], out["demand_high"] = np.minimum(a, b), np.maximum(a, b)
    return out


def optimal_price(elasticity: float, low: float, high: float, unit_cost: float | None = None, objective: str = "margin") -> float:
    """Best price within ``[low, high]`` for a constant-elasticity demand curve (closed form).

    Margin ``(p - c) p^e`` peaks at ``c e / (1 + e)`` when ``e < -1`` and grows with price
    otherwise; revenue ``p^(1+e)`` falls with price when ``e < -1`` and rises when ``e > -1``.
    """
    check_bounds(low, high)
    if objective not in ("margin", "revenue"):
        raise ConfigError(f"Objective must be 'margin' or 'revenue'; got '{objective}'.")
    if objective == "margin":
        if unit_cost is None or not np.isfinite(unit_cost):
            raise ConfigError("Maximising margin needs the unit cost (products.unit_cost).")
        best = unit_cost * elasticity / (1 + elasticity) if elasticity < -1 else high
    else:
        best = low if elasticity < -1 else high if elasticity > -1 else (low + high) / 2
    return float(np.clip(best, low, high))


def recommend_prices(
    panel: pd.DataFrame,
    elasticities: pd.DataFrame,
    products: pd.DataFrame | None = None,
    objective: str = "margin",
    max_change: float = 0.2,
    bounds: dict[str, tuple[float, float]] | None = None,
    recent_days: int = 28,
) -> pd.DataFrame:
    """Recommended price per item within ``current x (1 +/- max_change)`` (or explicit ``bounds``).

    Base demand is the mean daily units (all stores) on regular-price days of the last
    ``recent_days``; the current price is the latest regular price. Items whose elasticity
    interval reaches zero or above keep their price (the data does not show demand falling
    with price, so any move would be a guess).
    """
    if not 0 < max_change < 1:
        raise ConfigError(f"max_change must be between 0 and 1 (0.2 = +/-20%); got {max_change}.")
    last = panel["ds"].max()
    recent = panel[(panel["ds"] > last - pd.Timedelta(days=recent_days)) & (panel["promo"] == 0)]
    daily = recent.groupby(["item_id", "ds"])["y"].sum().groupby("item_id").mean()
    regular = panel[panel["promo"] == 0].sort_values("ds").groupby("item_id")["price"].last()
    cost = products.set_index("item_id")["unit_cost"] if products is not None and "unit_cost" in products else pd.Series(dtype=float)
    rows = []
    for r in elasticities.itertuples():
        price = float(regular.get(r.item_id, np.nan))
        if not np.isfinite(price):
            continue
        low, high = (bounds or {}).get(r.item_id, (price * (1 - max_change), price * (1 + max_change)))
        c = float(cost.get(r.item_id, np.nan))
        obj = objective if (objective == "revenue" or np.isfinite(c)) else "revenue"
        check_bounds(low, high)
        if r.elasticity_high >= 0:  # demand not shown to fall with price: no basis to move it
            best, obj = float(np.clip(price, low, high)), "keep (no evidence demand falls with price)"
        else:
            best = optimal_price(r.elasticity, low, high, c if np.isfinite(c) else None, obj)
        base = float(daily.get(r.item_id, 0.0))
        demand_now, demand_new = base, base * (best / price) ** r.elasticity
        rows.append(
            {
                "item_id": r.item_id,
                "category": r.category,
                "elasticity": round(r.elasticity, 3),
                "current_price": round(price, 2),
                "recommended_price": round(best, 2),
                "objective": obj,
                "daily_units_now": round(demand_now, 2),
                "daily_units_new": round(demand_new, 2),
                "daily_revenue_change": round(best * demand_new - price * demand_now, 2),
                "daily_margin_change": round((best - c) * demand_new - (price - c) * demand_now, 2) if np.isfinite(c) else np.nan,
            }
        )
    return pd.DataFrame(rows)



def what_if_curves(
    recommendations: pd.DataFrame,
    elasticities: pd.DataFrame,
    products: pd.DataFrame | None = None,
    max_change: float = 0.2,
    points: int = 21,
) -> pd.DataFrame:
    """:func:`what_if` for every item of :func:`recommend_prices`, stacked: ``item_id, price,
    demand, revenue[, margin], demand_low, demand_high`` (daily, all stores) over
    ``current x (1 +/- max_change)``; the demand band comes from the elasticity's interval."""
    has_cost = products is not None and "unit_cost" in products
    cost = products.set_index("item_id")["unit_cost"] if has_cost else pd.Series(dtype=float)
    est = elasticities.set_index("item_id")
    frames = []
    for r in recommendations.itertuples():
        e = est.loc[r.item_id]
        c = float(cost.get(r.item_id, np.nan))
        price = float(r.current_price)
        curve = what_if(
            float(e["elasticity"]), price, float(r.daily_units_now),
            unit_cost=c if np.isfinite(c) else None,
            low=price * (1 - max_change), high=price * (1 + max_change), points=points,
            elasticity_range=(float(e["elasticity_low"]), float(e["elasticity_high"])),
        )
        curve.insert(0, "item_id", r.item_id)
        frames.append(curve)
    return pd.concat(frames, ignore_index=True).round(4) if frames else pd.DataFrame()
