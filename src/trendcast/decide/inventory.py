"""Inventory: safety stock, reorder points and order quantities from quantile forecasts.

Policy: periodic review every ``review_period`` days, replenishment arriving ``lead_time`` days
after ordering. An order placed today must last until the *next* order arrives, so the
protection interval is ``L + R`` days and the order-up-to level is the service-level quantile
of demand over it.

How the quantile of a *sum* of daily demands is obtained (documented choice): each day's
forecast gives a mean (``forecast``) and a spread read from its upper quantiles,
``sd = (Q_upper - median) / z(upper)`` (the upper side, because the lower quantiles of count
demand are clipped at zero). Days are summed with a common error correlation ``rho``
(``var = sum sd^2 + rho * ((sum sd)^2 - sum sd^2)``; 0 = independent days, 1 = one shared
error). The total is approximated by a Gamma distribution with that mean and variance (skewed
and non-negative, unlike a normal, which matters for slow movers); ``distribution="normal"``
is available. Safety stock = quantile - mean demand over the protection interval.

The service level is a *cycle* service level by default (the order-up-to level is the
``service_level`` quantile). With ``measure="fill"`` it is a fill rate instead: the smallest
level whose expected lost demand per cycle (the loss function of that Gamma/normal) is
``1 - service_level`` of the cycle's demand - usually less stock, and what the replay's fill
rate measures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from trendcast.decide.forecasts import quantile_columns
from trendcast.errors import ConfigError, InputError
from trendcast.features.frequency import describe, kind, periods_from_days, unit


@dataclass(frozen=True)
class InventoryPolicy:
    """Replenishment settings; invalid values raise :class:`ConfigError` on creation.

    ``objective="service"`` targets ``service_level``, read as a cycle service level (chance an
    order cycle has no stock-out, ``measure="cycle"``) or as a fill rate (share of demand served
    from stock, ``measure="fill"``); ``"profit"`` uses the newsvendor critical
    ratio ``(price - cost) / (price - cost + holding)`` per item instead (holding = cost of
    carrying one unit for one review period; default ``holding_rate`` per year x unit cost).
    """

    lead_time: int = 7
    review_period: int = 7
    service_level: float = 0.95
    objective: str = "service"
    measure: str = "cycle"
    holding_rate: float = 0.25
    holding_cost: float | None = None
    rho: float = 0.5
    distribution: str = "gamma"
    periods_per_year: int = 365

    def __post_init__(self) -> None:
        if not 0.0 < self.service_level < 1.0:
            raise ConfigError(
                f"Service level must be strictly between 0 and 1 (e.g. 0.95 for 95%); got {self.service_level}."
            )
        if self.lead_time < 0:
            raise ConfigError(f"Lead time cannot be negative; got {self.lead_time} days.")
        if self.review_period < 1:
            raise ConfigError(f"Review period must be at least 1 day; got {self.review_period}.")
        if self.objective not in ("service", "profit"):
            raise ConfigError(f"Objective must be 'service' or 'profit'; got '{self.objective}'.")
        if self.measure not in ("cycle", "fill"):
            raise ConfigError(f"Service measure must be 'cycle' or 'fill'; got '{self.measure}'.")
        if self.distribution not in ("gamma", "normal"):
            raise ConfigError(f"Distribution must be 'gamma' or 'normal'; got '{self.distribution}'.")
        if not 0.0 <= self.rho <= 1.0:
            raise ConfigError(f"Error correlation rho must lie in [0, 1]; got {self.rho}.")
        if self.holding_rate < 0 or (self.holding_cost is not None and self.holding_cost < 0):
            raise ConfigError("Holding costs cannot be negative.")

    @property
    def protection(self) -> int:
        """Days an order must cover: lead time plus review period."""
        return self.lead_time + self.review_period

    def in_periods(self, freq: str) -> tuple[InventoryPolicy, str]:
        """This policy with lead time and review period counted in periods of ``freq`` (whole
        periods, rounded up) and a sentence saying so; unchanged for daily data."""
        if kind(freq) == "D":
            return self, ""
        u = unit(freq)
        lead, review = periods_from_days(self.lead_time, freq), max(1, periods_from_days(self.review_period, freq))
        year = {"week": 52, "month": 12}[u]
        what = describe(freq)
        note = (f"{what[0].upper()}{what[1:]} data: lead time {self.lead_time} days = {lead} {u}(s), "
                f"review period {self.review_period} days = {review} {u}(s) (rounded up to whole {u}s).")
        return replace(self, lead_time=lead, review_period=review, periods_per_year=year), note


# -- formulas ------------------------------------------------------------------------------


def daily_spread(forecast: pd.DataFrame) -> np.ndarray:
    """Per-row demand standard deviation implied by the upper quantile columns (see module doc)."""
    qcols = quantile_columns(forecast)
    upper = [q for q in qcols if q > 0.5]
    if not upper:
        raise InputError("Forecasts need at least one quantile above the median (e.g. q0.9) to size safety stock.")
    q_up = max(upper)
    center = forecast[qcols[0.5]] if 0.5 in qcols else forecast["forecast"]
    sd = (forecast[qcols[q_up]].to_numpy(float) - center.to_numpy(float)) / stats.norm.ppf(q_up)
    return np.clip(sd, 0.0, None)


def protection_demand(forecast: pd.DataFrame, days: int, rho: float = 0.0) -> pd.DataFrame:
    """Mean and sd of total demand over each series' first ``days`` forecast days."""
    fc = forecast.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True).head(days).copy()
    fc["sd"] = daily_spread(fc)
    g = fc.groupby("unique_id", sort=True)
    mean = g["forecast"].sum()
    sum_sd = g["sd"].sum()
    sum_var = g["sd"].apply(lambda s: float((s**2).sum()))
    var = sum_var + rho * (sum_sd**2 - sum_var)
    short = g.size() < days
    if short.any():
        raise InputError(f"Forecasts cover fewer than {days} days for {int(short.sum())} series; forecast further ahead.")
    return pd.DataFrame({"mean": mean, "sd": np.sqrt(var)}).reset_index()


def demand_quantile(mean: np.ndarray, sd: np.ndarray, q: np.ndarray | float, distribution: str = "gamma") -> np.ndarray:
    """Quantile ``q`` of demand with the given mean and sd (Gamma or normal, never below 0)."""
    mean, sd = np.asarray(mean, float), np.asarray(sd, float)
    q = np.broadcast_to(np.asarray(q, float), mean.shape)
    if distribution == "normal":
        return np.clip(mean + stats.norm.ppf(q) * sd, 0.0, None)
    out = mean.copy()  # sd == 0: demand is certain
    ok = (mean > 0) & (sd > 0)
    shape = mean[ok] ** 2 / sd[ok] ** 2
    scale = sd[ok] ** 2 / mean[ok]
    out[ok] = stats.gamma.ppf(q[ok], shape, scale=scale)
    return np.clip(out, 0.0, None)


def expected_shortage(mean: np.ndarray, sd: np.ndarray, level: np.ndarray, distribution: str = "gamma") -> np.ndarray:
    """``E[(D - level)+]``: expected demand not covered by ``level`` (the loss function).

    Normal: ``sd * (phi(z) - z (1 - Phi(z)))``; Gamma (shape ``k``, scale ``t``):
    ``k t (1 - F_{k+1}(level)) - level (1 - F_k(level))``.
    """
    mean, sd, level = (np.asarray(a, float) for a in (mean, sd, level))
    out = np.clip(mean - level, 0.0, None)  # sd == 0: demand is certain
    ok = sd > 0
    if distribution == "normal":
        z = (level[ok] - mean[ok]) / sd[ok]
        out[ok] = sd[ok] * (stats.norm.pdf(z) - z * stats.norm.sf(z))
        return out
    ok &= mean > 0
    k, t = mean[ok] ** 2 / sd[ok] ** 2, sd[ok] ** 2 / mean[ok]
    out[ok] = k * t * stats.gamma.sf(level[ok], k + 1, scale=t) - level[ok] * stats.gamma.sf(level[ok], k, scale=t)
    return np.clip(out, 0.0, None)


def smallest_level(shortage: Callable[[np.ndarray], np.ndarray], allowed: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Smallest stock level in ``[0, high]`` whose ``shortage(level)`` (falling in the level)
    is at most ``allowed``, per series, by bisection."""
    lo, hi = np.zeros_like(high), np.asarray(high, float).copy()
    for _ in range(60):
        mid = (lo + hi) / 2
        too_low = shortage(mid) > allowed
        lo, hi = np.where(too_low, mid, lo), np.where(too_low, hi, mid)
    return hi


def fill_rate_level(
    prot_mean: np.ndarray, prot_sd: np.ndarray, lead_mean: np.ndarray, lead_sd: np.ndarray,
    fill: float, distribution: str = "gamma",
) -> np.ndarray:
    """Smallest order-up-to level whose expected lost demand per cycle is ``(1 - fill)`` of the
    cycle's demand.

    Shortage in a cycle = ``E[(D_{L+R} - S)+] - E[(D_L - S)+]`` (demand over the lead time
    alone that already exceeded ``S`` was counted in the previous cycle).
    """
    pm, ps, lm, ls = (np.asarray(a, float) for a in (prot_mean, prot_sd, lead_mean, lead_sd))
    allowed = (1.0 - fill) * np.clip(pm - lm, 0.0, None)

    def short(level: np.ndarray) -> np.ndarray:
        return expected_shortage(pm, ps, level, distribution) - expected_shortage(lm, ls, level, distribution)

    return smallest_level(short, allowed, pm + 12.0 * ps + 1.0)


def newsvendor_ratio(price: np.ndarray | float, unit_cost: np.ndarray | float, holding: np.ndarray | float) -> np.ndarray:
    """Critical ratio ``(p - c) / (p - c + h)``: the profit-maximising service level under lost sales."""
    under = np.asarray(price, float) - np.asarray(unit_cost, float)
    over = np.asarray(holding, float)
    if np.any(under <= 0):
        raise ConfigError("Newsvendor needs price above unit cost for every item (otherwise stocking loses money).")
    return under / (under + over)


# -- plans and alerts -----------------------------------------------------------------------


def compute_plan(
    forecast: pd.DataFrame,
    policy: InventoryPolicy,
    on_hand: pd.DataFrame | None = None,
    economics: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Safety stock, reorder point, order-up-to level and order quantity per series.

    ``forecast``: ``unique_id, ds, forecast, q...`` (at least ``L + R`` days per series);
    ``on_hand``: ``unique_id, on_hand`` (series without a count get ``order_qty`` NaN, and
    ``attrs['note']`` says so); ``economics`` (for ``objective="profit"``):
    ``unique_id, price, unit_cost``.
    """
    L, P = policy.lead_time, policy.protection
    prot = protection_demand(forecast, P, policy.rho)
    target = np.full(len(prot), policy.service_level)
    if policy.objective == "profit":
        if economics is None:
            raise ConfigError("The profit objective needs prices and unit costs (products.unit_cost).")
        econ = prot[["unique_id"]].merge(economics, on="unique_id", how="left")
        if econ[["price", "unit_cost"]].isna().any().any():
            raise ConfigError("Some items lack a price or unit cost; use objective='service' or add unit_cost.")
        holding = (
            np.full(len(econ), policy.holding_cost)
            if policy.holding_cost is not None
            else policy.holding_rate * econ["unit_cost"].to_numpy() * policy.review_period / policy.periods_per_year
        )
        target = newsvendor_ratio(econ["price"], econ["unit_cost"], holding)
    if L > 0:
        lead = protection_demand(forecast, L, policy.rho)
        lead_mean, lead_sd = lead["mean"].to_numpy(), lead["sd"].to_numpy()
    else:
        lead_mean = lead_sd = np.zeros(len(prot))
    by_fill = policy.objective == "service" and policy.measure == "fill"
    if by_fill:
        upto = fill_rate_level(prot["mean"], prot["sd"], lead_mean, lead_sd, policy.service_level, policy.distribution)
        # reorder point: expected shortage over the lead time at most (1 - fill) of a cycle's demand
        allowed = (1.0 - policy.service_level) * np.clip(prot["mean"].to_numpy() - lead_mean, 0.0, None)
        rop = smallest_level(
            lambda level: expected_shortage(lead_mean, lead_sd, level, policy.distribution),
            allowed, lead_mean + 12.0 * lead_sd + 1.0,
        )
    else:
        upto = demand_quantile(prot["mean"], prot["sd"], target, policy.distribution)
        rop = demand_quantile(lead_mean, lead_sd, target, policy.distribution) if L > 0 else np.zeros(len(prot))
    plan = pd.DataFrame(
        {
            "unique_id": prot["unique_id"],
            "protection_days": P,
            "target_service": np.round(target, 4),
            "mean_demand": prot["mean"],
            "sd_demand": prot["sd"],
            # a level below the mean (skewed slow movers, fill-rate targets) holds no safety
            # stock rather than a negative one; `+ 0.0` turns ceil's -0.0 into 0.0
            "safety_stock": np.clip(upto - prot["mean"].to_numpy(), 0.0, None),
            "reorder_point": rop,
            "lead_time_demand": lead_mean,
            "order_up_to": np.clip(np.ceil(upto - 1e-9), 0.0, None) + 0.0,
        }
    )
    counts = on_hand[["unique_id", "on_hand"]] if on_hand is not None else pd.DataFrame({"unique_id": [], "on_hand": []})
    plan = plan.merge(counts, on="unique_id", how="left")
    # unknown stock (NaN) leaves the order quantity unknown: guessing 0 on hand would order everything
    plan["order_qty"] = np.clip(plan["order_up_to"] - plan["on_hand"], 0.0, None)
    plan.attrs["note"] = "" if plan["on_hand"].notna().all() else (
        f"On-hand stock is unknown for {int(plan['on_hand'].isna().sum())} of {len(plan)} series (no inventory "
        "count): their order quantity is left blank; order up to `order_up_to` minus what you hold. "
        "Load counts with `trendcast ingest --inventory FILE`.")
    return plan


def days_of_cover(forecast: pd.DataFrame, on_hand: pd.DataFrame) -> pd.DataFrame:
    """Days until cumulative forecast demand exceeds stock on hand (capped at the horizon)."""
    fc = forecast.sort_values(["unique_id", "ds"]).merge(on_hand[["unique_id", "on_hand"]], on="unique_id")
    fc["cum"] = fc.groupby("unique_id")["forecast"].cumsum()
    rows = []
    for uid, g in fc.groupby("unique_id", sort=True):
        stock, cum = float(g["on_hand"].iloc[0]), g["cum"].to_numpy()
        k = int(np.searchsorted(cum, stock, side="right"))
        if k >= len(cum):
            cover = float(len(cum))
        else:
            prev = cum[k - 1] if k > 0 else 0.0
            day = cum[k] - prev
            cover = k + ((stock - prev) / day if day > 0 else 0.0)
        rows.append((uid, stock, cover, len(cum)))
    return pd.DataFrame(rows, columns=["unique_id", "on_hand", "days_of_cover", "horizon"])


def stockout_alerts(forecast: pd.DataFrame, on_hand: pd.DataFrame, policy: InventoryPolicy) -> pd.DataFrame:
    """Series whose stock will not last until a replenishment arrives.

    ``critical``: runs out within the lead time (even an order placed today arrives too late);
    ``order now``: runs out before the next review's order would arrive (``L + R`` days).
    Expected demand over that window must round to at least one unit, else there is nothing to
    alert about. ``p_stockout_lead`` is the probability demand over the lead time exceeds stock
    on hand.
    """
    cover = days_of_cover(forecast, on_hand)
    days = max(policy.lead_time, 1)
    lead = protection_demand(forecast, days, policy.rho)
    cover = cover.merge(lead, on="unique_id")
    p = np.ones(len(cover))
    ok = (cover["mean"] > 0) & (cover["sd"] > 0)
    m, s, x = cover.loc[ok, "mean"], cover.loc[ok, "sd"], cover.loc[ok, "on_hand"]
    if policy.distribution == "normal":
        p[ok.to_numpy()] = stats.norm.sf(x, m, s)
    else:
        p[ok.to_numpy()] = stats.gamma.sf(x, m**2 / s**2, scale=s**2 / m)
    p[(~ok).to_numpy()] = (cover.loc[~ok, "on_hand"] < cover.loc[~ok, "mean"]).astype(float)
    cover["p_stockout_lead"] = np.round(p, 3)
    # an alert needs demand worth covering: a discontinued item with no stock expects under half
    # a unit before the order lands (or before the next one does) and is not short of anything
    prot = protection_demand(forecast, policy.protection, policy.rho).set_index("unique_id")["mean"]
    worth_lead = cover["mean"].round().to_numpy() > 0
    worth_prot = prot.reindex(cover["unique_id"]).round().to_numpy() > 0
    cover["status"] = np.select(
        [(cover["days_of_cover"] < policy.lead_time) & worth_lead,
         (cover["days_of_cover"] < policy.protection) & worth_prot],
        ["critical", "order now"],
        "ok",
    )
    alerts = cover[cover["status"] != "ok"].drop(columns=["mean", "sd"])
    return alerts.sort_values(["days_of_cover", "p_stockout_lead"], ascending=[True, False]).reset_index(drop=True)


# -- replay against actual sales -------------------------------------------------------------


@dataclass
class ReplayResult:
    """What a policy achieved when replayed against real demand (lost sales)."""

    fill_rate: float
    cycle_service_level: float
    avg_stock: float
    lost_units: float
    demand_units: float
    per_series: pd.DataFrame = field(repr=False)

    def summary(self) -> dict[str, float]:
        return {
            "fill_rate": round(self.fill_rate, 4),
            "cycle_service_level": round(self.cycle_service_level, 4),
            "avg_stock": round(self.avg_stock, 2),
            "lost_units": round(self.lost_units, 2),
            "demand_units": round(self.demand_units, 2),
        }


def simulate_policy(
    demand: np.ndarray, levels: np.ndarray, lead_time: int, review_period: int, ids: Sequence[str] | None = None
) -> ReplayResult:
    """Replay an order-up-to policy: ``demand`` (series x days), ``levels`` (series x reviews).

    Review ``k`` happens at the start of day ``k * R``: order up to ``levels[:, k]`` against the
    inventory position (on hand + on order); the order arrives at the start of day ``k*R + L``.
    Stock starts at the first level with nothing on order; unmet demand is lost. Average stock
    is the mean end-of-day on-hand; a cycle (the R days after a review) is served when it loses
    no sales.
    """
    demand = np.asarray(demand, float)
    levels = np.asarray(levels, float)
    n, T = demand.shape
    n_reviews = -(-T // review_period)
    if levels.shape != (n, n_reviews):
        raise InputError(f"Need one order-up-to level per series and review: expected {(n, n_reviews)}, got {levels.shape}.")
    on_hand = levels[:, 0].copy()
    arrivals = np.zeros((n, T + lead_time + 1))
    pipeline = np.zeros(n)
    sold = np.zeros(n)
    lost = np.zeros(n)
    stock_sum = np.zeros(n)
    cycle_lost = np.zeros((n, n_reviews), bool)
    for t in range(T):
        on_hand += arrivals[:, t]
        pipeline -= arrivals[:, t]
        if t % review_period == 0:
            k = t // review_period
            qty = np.clip(levels[:, k] - on_hand - pipeline, 0.0, None)
            if lead_time == 0:
                on_hand += qty
            else:
                arrivals[:, t + lead_time] += qty
                pipeline += qty
        s = np.minimum(on_hand, demand[:, t])
        miss = demand[:, t] - s
        on_hand -= s
        sold += s
        lost += miss
        cycle_lost[:, t // review_period] |= miss > 1e-9
        stock_sum += on_hand
    total = demand.sum()
    per = pd.DataFrame(
        {
            "unique_id": list(ids) if ids is not None else range(n),
            "demand": demand.sum(axis=1),
            "lost": lost,
            "fill_rate": np.where(demand.sum(axis=1) > 0, sold / np.maximum(demand.sum(axis=1), 1e-12), 1.0),
            "cycle_service_level": 1.0 - cycle_lost.mean(axis=1),
            "avg_stock": stock_sum / T,
        }
    )
    return ReplayResult(
        fill_rate=float(sold.sum() / total) if total > 0 else 1.0,
        cycle_service_level=float(1.0 - cycle_lost.mean()),
        avg_stock=float((stock_sum / T).sum()),
        lost_units=float(lost.sum()),
        demand_units=float(total),
        per_series=per,
    )


def replay_backtest(
    panel: pd.DataFrame,
    policy: InventoryPolicy,
    holdout: int = 91,
    model: str | None = None,
    naive_multipliers: Sequence[float] = (1.0,),
    naive_window: int = 28,
    season_length: int = 7,
    freq: str = "D",
    on_origin: object = None,
    model_params: dict[str, object] | None = None,
) -> dict[str, ReplayResult]:
    """Replay the forecast policy and the naive rule(s) over the last ``holdout`` periods.

    At each review the model is refitted on history before that day and forecasts ``L + R``
    periods ahead. Returns ``{"forecast policy": ..., "naive x1.0": ..., ...}``. ``freq`` and
    ``naive_window`` are in the data's own periods (e.g. weekly data: 4-period window).
    """
    from trendcast.decide.forecasts import fit_forecast

    qs = [0.5, max(policy.service_level, 0.9)]
    ids = sorted(panel["unique_id"].unique())
    dates = np.sort(panel["ds"].unique())
    test_dates = dates[-holdout:]
    wide = panel.pivot_table(index="unique_id", columns="ds", values="y", aggfunc="sum").reindex(ids)
    demand = wide[test_dates].fillna(0.0).clip(lower=0.0).to_numpy()
    step = pd.tseries.frequencies.to_offset(freq)
    origins = test_dates[:: policy.review_period]
    ours = np.zeros((len(ids), len(origins)))
    naive = {m: np.zeros((len(ids), len(origins))) for m in naive_multipliers}
    for k, origin in enumerate(origins):
        origin = pd.Timestamp(origin)
        hist = panel[panel["ds"] < origin]
        fc = fit_forecast(hist, policy.protection, qs, model=model, season_length=season_length, freq=freq, model_params=model_params)
        plan = compute_plan(fc, policy)
        ours[:, k] = plan.set_index("unique_id")["order_up_to"].reindex(ids).fillna(0.0).to_numpy()
        window_start = origin - naive_window * step
        recent = hist[hist["ds"] >= window_start].groupby("unique_id")["y"].mean().clip(lower=0.0)
        for m in naive_multipliers:
            naive[m][:, k] = (recent * policy.protection * m).reindex(ids).fillna(0.0).to_numpy()
        if callable(on_origin):
            on_origin(k + 1, len(origins))
    results = {"forecast policy": simulate_policy(demand, ours, policy.lead_time, policy.review_period, ids)}
    for m in naive_multipliers:
        results[f"naive x{m:g}"] = simulate_policy(demand, naive[m], policy.lead_time, policy.review_period, ids)
    return results
