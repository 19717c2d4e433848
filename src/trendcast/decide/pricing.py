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

Only a series' selling life is evidence: the warehouse zero-fills every period up to the last
date, so an item launched late or discontinued carries months of zero rows at a constant price
and without promotions. Those rows made demand look like it vanished at that price, which broke
the category's pooled fit and, through shrinkage, every item of the category. Periods before a
series' first sale are dropped, and so are the periods after its last sale once the silence is
too long to be chance at its usual selling rate (see :func:`selling_life`). An item all of whose
series have stopped is marked ``discontinued`` and gets no estimate and no recommendation.

Where no series of an item or its category has any regular-price variation, the price cannot
be told apart from the item x store intercepts (the fit used to return a meaningless, narrow
estimate): the row says ``no price variation``, the elasticity is missing and the price is kept.
Promotion uplift is likewise missing where the history has no promotion days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from trendcast.errors import ConfigError, InputError
from trendcast.features.frequency import check_freq, periods_from_days, recent_periods

NO_VARIATION_LOG_SD = 1e-3
"""Within-series sd of the log regular price below which a price counts as never changing
(0.1%: cent rounding on a 10.00 price), so a fit cannot identify an elasticity from it."""

CONFOUNDED = 0.8
"""Share of the price's within-series variation explained by season, trend and promotions above
which a recommendation says why the price's own effect cannot be seen."""

UNIDENTIFIED = 0.999
"""Above this share the price adds (almost) nothing the season, trend and promotions do not
already say: the fit would return an arbitrary elasticity with a falsely narrow interval (a
singular design), so there is no estimate, as when the price never moved."""


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


def design(df: pd.DataFrame, group: str, season: str = "month",
           price: bool = True) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Columns ``log_price, promo, trend`` plus day-of-week and month dummies, and the row's
    ``group`` as an integer code (each group gets its own intercept in the fit).

    Constant columns are left out (a promotion flag that is always 0 says nothing); so is
    ``log_price`` with ``price=False``, when it does not vary within any group and would only
    duplicate the group intercepts. The groups are codes rather than dummy columns: a category
    of 500 item x store series over three years made a 530,000 x 520 matrix (2 GB) that took
    minutes to fit.
    """
    ds = pd.to_datetime(df["ds"])
    parts = {
        **({"log_price": np.log(df["price"].to_numpy(float))} if price else {}),
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
    ]
    frame = pd.concat([frame.reset_index(drop=True), *[d.reset_index(drop=True) for d in dummies]], axis=1)
    frame = frame.loc[:, frame.std() > 0] if len(frame) > 1 else frame
    groups = pd.factorize(df[group].astype(str))[0]
    return frame.to_numpy(float), list(frame.columns), groups


def fit_log_linear(y: np.ndarray, X: np.ndarray, groups: np.ndarray,
                   method: str = "poisson") -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of the columns of ``X`` and their covariance, with one intercept per group.

    The intercepts are concentrated out instead of estimated as dummies: for Poisson, each
    group's intercept given the slopes is ``log(sum y / sum exp(X b))``, which leaves Newton
    steps on the slopes alone with the columns centred within groups (weighted by the fitted
    means); for OLS, centring within groups is the same fit (Frisch-Waugh-Lovell). Both give
    the slopes and robust covariance the dummy regression gives, at the size of ``X``.

    BLAS runs single-threaded here: these matrices are small, and on a shared machine thread
    contention made the same fit 10-30x slower.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _fit(y, X, groups, method)


def _centred(X: np.ndarray, groups: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """``X`` minus its (``w``-weighted) mean within each group."""
    n = int(groups.max()) + 1
    w = np.ones(len(X)) if w is None else w
    total = np.bincount(groups, w, n)
    means = np.stack([np.bincount(groups, w * X[:, j], n) for j in range(X.shape[1])], axis=1)
    return X - (means / np.where(total > 0, total, 1.0)[:, None])[groups]


def _fit(y: np.ndarray, X: np.ndarray, groups: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    k = X.shape[1]
    if k == 0 or not (y > 0).any():  # nothing to estimate, or no sale to learn from
        return np.full(k, np.nan), np.full((k, k), np.nan)
    if method == "ols":
        z = np.log1p(y)
        Xw, zw = _centred(X, groups), _centred(z[:, None], groups)[:, 0]
        beta, *_ = np.linalg.lstsq(Xw, zw, rcond=None)
        resid = zw - Xw @ beta
        dof = max(len(z) - X.shape[1] - (int(groups.max()) + 1), 1)
        return beta, (resid @ resid / dof) * np.linalg.pinv(Xw.T @ Xw)
    sold = np.bincount(groups, y)[groups] > 0  # a group that never sold has intercept -inf: no evidence
    y, X, groups = y[sold], X[sold], np.unique(groups[sold], return_inverse=True)[1]
    beta = _poisson_newton(X, y, groups)
    mu = _poisson_means(X @ beta, y, groups)
    Xw = _centred(X, groups, mu)
    bread = np.linalg.pinv(Xw.T @ (Xw * mu[:, None]))
    meat = Xw.T @ (Xw * ((y - mu) ** 2)[:, None])
    return beta, bread @ meat @ bread


def _poisson_means(eta: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Fitted means with each group's intercept at its optimum given ``eta = X b``: the group's
    means then add up to its sales."""
    n = int(groups.max()) + 1
    top = np.full(n, -np.inf)
    np.maximum.at(top, groups, eta)
    e = np.exp(eta - top[groups])
    return np.bincount(groups, y, n)[groups] * e / np.bincount(groups, e, n)[groups]


def _poisson_newton(X: np.ndarray, y: np.ndarray, groups: np.ndarray, max_iter: int = 50,
                    tol: float = 1e-9) -> np.ndarray:
    """Poisson log-link maximum likelihood of the slopes, group intercepts concentrated out,
    by Newton-Raphson with step halving: a few dozen small solves."""
    beta = np.zeros(X.shape[1])

    def loglik(b: np.ndarray) -> tuple[float, np.ndarray]:
        mu = _poisson_means(X @ b, y, groups)
        pos = y > 0
        return float(y[pos] @ np.log(mu[pos]) - mu.sum()), mu

    current, mu = loglik(beta)
    for _ in range(max_iter):
        Xw = _centred(X, groups, mu)
        step = np.linalg.lstsq(Xw.T @ (Xw * mu[:, None]), X.T @ (y - mu), rcond=None)[0]
        t = 1.0
        while t > 1e-4:
            cand = beta + t * step
            new, cand_mu = loglik(cand)
            if new >= current - 1e-12:
                break
            t /= 2
        beta, gain, current, mu = cand, new - current, new, cand_mu
        if abs(gain) < tol * (1 + abs(current)):
            break
    return beta


def _estimate(df: pd.DataFrame, group: str, cfg: ElasticityConfig) -> dict[str, float]:
    """Elasticity and promotion coefficient with intervals; NaN for one the data cannot show
    (price never moving within a ``group``, no promotion day)."""
    X, names, groups = design(df, group, cfg.season, price=_price_variation(df, group) >= NO_VARIATION_LOG_SD)
    confounding = _confounding(X, groups, names.index("log_price")) if "log_price" in names else np.nan
    if confounding >= UNIDENTIFIED:
        X, names = np.delete(X, names.index("log_price"), axis=1), [n for n in names if n != "log_price"]
    beta, cov = fit_log_linear(df["y"].to_numpy(float), X, groups, cfg.method)
    z = stats.norm.ppf(0.5 + cfg.confidence / 2)
    out: dict[str, float] = {}
    for name, key in (("log_price", "elasticity"), ("promo", "promo_coef")):
        if name not in names:
            out.update({key: np.nan, f"{key}_se": np.nan, f"{key}_low": np.nan, f"{key}_high": np.nan})
            continue
        j = names.index(name)
        se = float(np.sqrt(max(cov[j, j], 0.0)))
        out[key], out[f"{key}_se"] = float(beta[j]), se
        out[f"{key}_low"], out[f"{key}_high"] = float(beta[j] - z * se), float(beta[j] + z * se)
    out["price_confounding"] = confounding
    out["n_obs"] = float(len(df))
    return out


def _confounding(X: np.ndarray, groups: np.ndarray, j: int) -> float:
    """Share (R²) of column ``j``'s variation within groups that the other columns explain.

    Near 1 when the price only moved together with the season, the trend or promotions: the
    fit then cannot tell the price's effect from theirs, and a wide elasticity interval says
    that rather than "demand does not react to price"."""
    Xw = _centred(X, groups)
    target, rest = Xw[:, j], np.delete(Xw, j, axis=1)
    total = float(target @ target)
    if total <= 0:
        return 1.0
    resid = target - rest @ np.linalg.lstsq(rest, target, rcond=None)[0]
    return float(np.clip(1 - (resid @ resid) / total, 0.0, 1.0))


def _price_variation(g: pd.DataFrame, group: str = "store_id") -> float:
    """Sd of the log regular price within each ``group`` (store, or store x item): prices that
    only differ between stores or items are absorbed by their intercepts and show nothing."""
    regular = g.loc[g["promo"] == 0, ["price", group]]
    if len(regular) < 2:
        return 0.0
    log_price = np.log(regular["price"])
    return float((log_price - log_price.groupby(regular[group]).transform("mean")).std())


def selling_life(panel: pd.DataFrame, chance: float = 1e-3, min_quiet_days: int = 28) -> tuple[pd.DataFrame, pd.Series]:
    """The rows of each series within its selling life, and the last sale of discontinued items.

    A series lives from its first sale to its last one, or to the end of the data while it may
    still be selling: it has stopped when the quiet spell since its last sale lasts at least
    ``min_quiet_days`` (and 2 periods) and is so long that at its usual rate (share of selling
    periods in its life) it would happen by chance less than ``chance``, so neither a slow
    mover's usual gaps nor a short stock-out count as a stop. Returns ``(rows to use, last sale
    per item whose every series has stopped or never sold)``.
    """
    freq = check_freq(panel.attrs.get("freq", "D"))
    end = panel["ds"].max()
    sold = panel[panel["y"] > 0]
    first, last = sold.groupby("unique_id")["ds"].min(), sold.groupby("unique_id")["ds"].max()
    first_row, last_row = panel["unique_id"].map(first), panel["unique_id"].map(last)
    life = (panel["ds"] >= first_row) & (panel["ds"] <= last_row)
    rate = sold.groupby("unique_id").size() / life.groupby(panel["unique_id"]).sum()[first.index]
    periods = {d: len(pd.date_range(d, end, freq=freq)) - 1 for d in last.unique()}
    quiet = last.map(periods)
    stopped = (quiet >= max(2, periods_from_days(min_quiet_days, freq))) & ((1 - rate) ** quiet < chance)
    running = stopped.index[~stopped]
    keep = life | ((panel["ds"] > last_row) & panel["unique_id"].isin(running))
    alive = panel.loc[panel["unique_id"].isin(running), "item_id"].unique()
    last_sale = sold.groupby("item_id")["ds"].max().reindex(panel["item_id"].unique())
    return panel[keep], last_sale[~last_sale.index.isin(alive)]


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


def require_history(panel: pd.DataFrame, promo: bool = False) -> None:
    """Stop with what the sales file lacks: prices (always), promotion days (with ``promo``)."""
    need = {"ds", "y", "item_id", "store_id", "category", "price", "promo"}
    if missing := need - set(panel.columns):
        raise InputError(f"Sales panel lacks {sorted(missing)}; elasticities need prices and promotions.")
    lacks = []
    if panel["price"].isna().all():
        lacks.append("no price column (or it is empty): add a 'price' column with the unit selling price of each row")
    elif not (panel["price"] > 0).any():
        lacks.append("no positive price: the 'price' column must hold the unit selling price of each row")
    if promo and not (panel["promo"] > 0).any():
        lacks.append("no promotion days (no 'promo' column, or it is always 0): add a 'promo' column, 1 on promotion days, else 0")
    if lacks:
        what = "promotion uplift" if promo else "price elasticity"
        raise InputError(f"The sales history has {'; and '.join(lacks)}; then ingest the sales file again to estimate {what}.")


def _prepare(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Selling-life rows with a positive price, unsold days' prices repaired, a ``series`` key;
    and the last sale of discontinued items (:func:`selling_life`)."""
    require_history(panel)
    df, gone = selling_life(panel.dropna(subset=["price"]).query("price > 0"))
    df = repair_unsold_prices(df)
    return df.assign(series=df["store_id"].astype(str) + "/" + df["item_id"].astype(str)), gone


def estimate_elasticities(panel: pd.DataFrame, config: ElasticityConfig | None = None) -> pd.DataFrame:
    """Elasticity and promotion uplift per item, with confidence intervals.

    ``panel``: ``unique_id, ds, y, item_id, store_id, category, price, promo`` (``attrs['freq']``
    its period). Returns one row per item: ``elasticity`` (+ ``_se``, ``_low``, ``_high``),
    ``promo_uplift = exp(b) - 1`` with its interval, ``basis`` and the price variation seen.
    ``basis`` is "item", "category pooled", "no price variation" (no elasticity: the price
    never moved in the item's category), "price moved only with the season" (no elasticity:
    every price change came with the season, trend or promotions, see :data:`UNIDENTIFIED`) or
    "discontinued" (no estimate; ``last_sale`` says since when). A missing estimate is NaN.
    """
    cfg = config or ElasticityConfig()
    df, gone = _prepare(panel)
    pooled = {str(c): _estimate(g, "series", cfg) for c, g in df.groupby("category", sort=True)}
    rows = []
    lives = dict(tuple(df.groupby("item_id", sort=True)))
    for item, cat in panel.groupby("item_id", sort=True)["category"].first().astype(str).items():
        if item in gone.index:
            last = gone[item]
            rows.append({"item_id": item, "category": cat, "basis": "discontinued",
                         "last_sale": None if pd.isna(last) else f"{last:%Y-%m-%d}"})
            continue
        if item not in lives:  # no positive price in its selling life
            continue
        g = lives[item]
        sd, selling = _price_variation(g), int((g["y"] > 0).sum())
        est = _estimate(g, "store_id", cfg) if sd >= cfg.min_log_price_sd and selling >= cfg.min_selling_days else {}
        basis = "item"
        if not np.isfinite(est.get("elasticity", np.nan)):  # too little of its own evidence: its category's
            est = {**pooled[cat], "price_confounding": est.get("price_confounding", pooled[cat]["price_confounding"])}
            basis = ("category pooled" if np.isfinite(est["elasticity"]) else
                     "price moved only with the season" if est["price_confounding"] >= UNIDENTIFIED else
                     "no price variation")
        rows.append({"item_id": item, "category": cat, "basis": basis, "log_price_sd": round(sd, 4), "selling_days": selling, **est})
    out = pd.DataFrame(rows)
    for key in ("elasticity", "promo_coef"):
        for col in (key, f"{key}_se", f"{key}_low", f"{key}_high"):
            out[col] = out[col].astype(float) if col in out else np.nan
    if "last_sale" not in out:
        out["last_sale"] = None
    if cfg.shrink:
        out = _shrink(out, pooled, cfg)
    for col in ("promo_coef", "promo_coef_low", "promo_coef_high"):
        out[col.replace("promo_coef", "promo_uplift")] = np.expm1(out[col])
    num = out.select_dtypes("number").columns
    out[num] = out[num].round(4)
    return out


def _shrink(out: pd.DataFrame, pooled: dict[str, dict[str, float]], cfg: ElasticityConfig) -> pd.DataFrame:
    """Precision-weighted average of each item estimate with its category's pooled estimate
    (only where both exist)."""
    out = out.copy()
    z = stats.norm.ppf(0.5 + cfg.confidence / 2)
    for key in ("elasticity", "promo_coef"):
        known = (out["basis"] == "item") & np.isfinite(out[key]) & (out[f"{key}_se"] > 0)
        for cat, idx in out[known].groupby("category").groups.items():
            prior = pooled[cat][key]
            if not np.isfinite(prior):
                continue
            est, se = out.loc[idx, key], out.loc[idx, f"{key}_se"]
            tau2 = max(float(est.var(ddof=1)) - float((se**2).mean()), 0.01) if len(idx) > 2 else 0.25
            w = (1 / se**2) / (1 / se**2 + 1 / tau2)
            out.loc[idx, key] = w * est + (1 - w) * prior
            out.loc[idx, f"{key}_se"] = np.sqrt(1 / (1 / se**2 + 1 / tau2))
        out[f"{key}_low"] = out[key] - z * out[f"{key}_se"]
        out[f"{key}_high"] = out[key] + z * out[f"{key}_se"]
    return out


def category_elasticities(panel: pd.DataFrame, config: ElasticityConfig | None = None) -> pd.DataFrame:
    """One pooled elasticity and promotion uplift per category (item x store intercepts), from
    the series' selling lives; NaN where the category shows no price change or promotion."""
    cfg = config or ElasticityConfig()
    df, _ = _prepare(panel)
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


def _no_evidence(confounding: float) -> str:
    """Why the price is kept when the elasticity interval reaches zero."""
    if np.isfinite(confounding) and confounding >= CONFOUNDED:
        return (f"keep (no evidence demand falls with price: {confounding:.0%} of its price changes came with "
                "the season, the trend or promotions, so their effects cannot be told apart; a price change "
                "held for a few periods at another time of year would show it)")
    return "keep (no evidence demand falls with price)"


def recommend_prices(
    panel: pd.DataFrame,
    elasticities: pd.DataFrame,
    products: pd.DataFrame | None = None,
    objective: str = "margin",
    max_change: float = 0.2,
    bounds: dict[str, tuple[float, float]] | None = None,
    recent: int | None = None,
) -> pd.DataFrame:
    """Recommended price per item within ``current x (1 +/- max_change)`` (or explicit ``bounds``).

    Base demand is the mean units per period of the data (day, week or month; all stores) on
    regular-price periods of the last ``recent`` periods (default: 28 days, 8 weeks or 3 months,
    by ``panel.attrs["freq"]``); the current price is the latest regular
    price. Hence ``units_per_period_now/new`` and ``revenue/margin_change_per_period``. Items
    keep their price, with the reason in ``objective``, when they are discontinued, when their
    category's price never moved (no elasticity) or when the elasticity interval reaches zero
    or above (the data does not show demand falling with price, so any move would be a guess).
    """
    if not 0 < max_change < 1:
        raise ConfigError(f"max_change must be between 0 and 1 (0.2 = +/-20%); got {max_change}.")
    recent = recent or recent_periods(panel.attrs.get("freq", "D"))
    window = np.sort(panel["ds"].unique())[-recent:]
    regular_recent = panel[panel["ds"].isin(window) & (panel["promo"] == 0)]
    per_period = regular_recent.groupby(["item_id", "ds"])["y"].sum().groupby("item_id").mean()
    regular = panel[panel["promo"] == 0].dropna(subset=["price"]).sort_values("ds").groupby("item_id")["price"].last()
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
        e = float(r.elasticity) if np.isfinite(r.elasticity) else 0.0
        if getattr(r, "basis", "") == "discontinued":
            best, obj = price, f"keep (discontinued: no sales since {getattr(r, 'last_sale', None) or 'ever'})"
        elif not np.isfinite(r.elasticity) and getattr(r, "price_confounding", np.nan) >= CONFOUNDED:
            best, obj = price, _no_evidence(r.price_confounding)
        elif not np.isfinite(r.elasticity):
            best, obj = price, "keep (no price variation in the item's or its category's history: no evidence)"
        elif r.elasticity_high >= 0:  # demand not shown to fall with price: no basis to move it
            best, obj = float(np.clip(price, low, high)), _no_evidence(getattr(r, "price_confounding", np.nan))
        else:
            best = optimal_price(e, low, high, c if np.isfinite(c) else None, obj)
        base = float(per_period.get(r.item_id, 0.0))
        demand_now, demand_new = base, base * (best / price) ** e
        rows.append(
            {
                "item_id": r.item_id,
                "category": r.category,
                "elasticity": round(r.elasticity, 3),
                "current_price": round(price, 2),
                "recommended_price": round(best, 2),
                "objective": obj,
                "units_per_period_now": round(demand_now, 2),
                "units_per_period_new": round(demand_new, 2),
                "revenue_change_per_period": round(best * demand_new - price * demand_now, 2),
                "margin_change_per_period": round((best - c) * demand_new - (price - c) * demand_now, 2) if np.isfinite(c) else np.nan,
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
    demand, revenue[, margin], demand_low, demand_high`` (per period of the data, all stores) over
    ``current x (1 +/- max_change)``; the demand band comes from the elasticity's interval.
    Items without an elasticity (discontinued, price never moved) have no curve to draw."""
    has_cost = products is not None and "unit_cost" in products
    cost = products.set_index("item_id")["unit_cost"] if has_cost else pd.Series(dtype=float)
    est = elasticities.set_index("item_id")
    frames = []
    for r in recommendations.itertuples():
        e = est.loc[r.item_id]
        if not np.isfinite(e["elasticity"]):
            continue
        c = float(cost.get(r.item_id, np.nan))
        price = float(r.current_price)
        curve = what_if(
            float(e["elasticity"]), price, float(r.units_per_period_now),
            unit_cost=c if np.isfinite(c) else None,
            low=price * (1 - max_change), high=price * (1 + max_change), points=points,
            elasticity_range=(float(e["elasticity_low"]), float(e["elasticity_high"])),
        )
        curve.insert(0, "item_id", r.item_id)
        frames.append(curve)
    empty = pd.DataFrame(columns=["item_id", "price", "demand", "revenue", "demand_low", "demand_high"])
    return pd.concat(frames, ignore_index=True).round(4) if frames else empty
