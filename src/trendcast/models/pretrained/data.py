"""Long frame -> right-aligned arrays for PatchCast (values, covariate slots), and back.

Covariate slots match the pretraining corpus: future-known ``[promo, log(price / reference),
holiday]`` and up to two past-only signals, z-scored over each series' context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError
from trendcast.features.fusion import CALENDAR_PREFIX
from trendcast.models.base import ID, TARGET, TIME
from trendcast.models.pretrained.corpus import N_FUTURE, N_PAST

HOLIDAY_COLUMNS = ("holiday", "is_holiday", "event", "IsHoliday")
# columns that are never a covariate: keys, the target, what the slots already read, labels
NOT_COVARIATES = {ID, TIME, TARGET, "item_id", "store_id", "category", "price", "promo", "revenue"}


@dataclass
class SeriesArrays:
    """Per-series histories, right-aligned into a (n_series, length) block, NaN on the left."""

    ids: np.ndarray
    y: np.ndarray  # (n, L) float32, NaN where the series had not started
    future: np.ndarray  # (n, L, N_FUTURE) covariates over the history
    past: np.ndarray  # (n, L, N_PAST)
    ref_price: np.ndarray  # (n,) reference price for the log price ratio (NaN: no price)
    last_price: np.ndarray  # (n,)
    past_columns: list[str] = field(default_factory=list)  # which columns fill the past slots


def _split(df: pd.DataFrame, col: str) -> list[np.ndarray]:
    values = df[col].to_numpy(dtype=np.float32)
    bounds = np.flatnonzero(df[ID].to_numpy()[1:] != df[ID].to_numpy()[:-1]) + 1
    return np.split(values, bounds)


def _right_align(parts: list[np.ndarray], length: int, fill: float = np.nan) -> np.ndarray:
    out = np.full((len(parts), length), fill, np.float32)
    for i, p in enumerate(parts):
        p = p[-length:]
        if len(p):
            out[i, length - len(p) :] = p
    return out


def holiday_column(df: pd.DataFrame) -> str | None:
    """The holiday/event flag column the shop supplied (a known name), else any numeric column
    named ``*holiday*`` that is not one of fusion's calendar covariates. The slot was pretrained
    on simulated holidays that lift demand; fed the public-holiday count of the calendar it made
    zero-shot WRMSSE worse on M5's total (0.463 -> 0.515) and on Walmart (0.438 -> 0.522),
    where holidays close stores as often as they fill them."""
    known = next((c for c in HOLIDAY_COLUMNS if c in df.columns), None)
    if known is not None:
        return known
    return next((c for c in df.columns if "holiday" in str(c).lower() and not str(c).startswith(CALENDAR_PREFIX)
                 and pd.api.types.is_numeric_dtype(df[c])), None)


def pick_past_covariates(df: pd.DataFrame, k: int = N_PAST, among: Sequence[str] | None = None) -> list[str]:
    """Up to ``k`` numeric covariate columns of ``df`` for the past-only slots, at any frequency.

    Whatever signals the frame carries (fused text, behaviour, external covariates ...; only
    those in ``among`` when given), the ones whose within-series movements track the target
    most closely (absolute correlation of per-series demeaned values) fill the slots; constant
    or empty columns never do. Calendar covariates never do either: the slots were pretrained
    on signals that lead demand, and a festival count read there as one made M5's zero-shot
    WRMSSE worse (0.463 -> 0.552).
    """
    hol = holiday_column(df)
    cands = [c for c in df.columns if c not in NOT_COVARIATES and c != hol and not str(c).startswith(CALENDAR_PREFIX)
             and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
             and (among is None or c in among)]
    if not cands:
        return []
    g = df.groupby(ID, sort=False)
    y = df[TARGET] - g[TARGET].transform("mean")
    scores = {}
    for c in cands:
        x = df[c].astype(float)
        x = x - g[c].transform("mean")
        ok = x.notna() & y.notna()
        if ok.sum() < 10 or float(x[ok].std()) == 0.0:
            continue
        r = np.corrcoef(x[ok], y[ok])[0, 1]
        if np.isfinite(r):
            scores[c] = abs(float(r))
    return sorted(scores, key=lambda c: (-scores[c], str(c)))[:k]


def panel_arrays(
    df: pd.DataFrame, length: int, use_covariates: bool = True,
    past_covariates: Sequence[str] | str = (),
) -> SeriesArrays:
    """History arrays of the last ``length`` steps of every series in ``df`` (sorted by id, ds).

    ``past_covariates="auto"`` fills the past-only slots by :func:`pick_past_covariates`.
    """
    if isinstance(past_covariates, str):
        past_covariates = pick_past_covariates(df) if past_covariates == "auto" and use_covariates else (
            [past_covariates] if past_covariates not in ("auto", "none", "") else [])
    if len(past_covariates) > N_PAST:
        raise ConfigError(f"At most {N_PAST} past-only covariates are supported; got {list(past_covariates)}.")
    df = df.sort_values([ID, TIME])
    ids = df[ID].drop_duplicates().to_numpy()
    y = _right_align(_split(df, TARGET), length)
    n = len(ids)
    future = np.zeros((n, length, N_FUTURE), np.float32)
    past = np.zeros((n, length, N_PAST), np.float32)
    ref = np.full(n, np.nan, np.float32)
    last = np.full(n, np.nan, np.float32)
    if use_covariates:
        if "promo" in df.columns:
            future[:, :, 0] = _right_align(_split(df.assign(promo=df["promo"].fillna(0)), "promo"), length, 0.0)
        if "price" in df.columns:
            prices = _split(df, "price")
            ref = np.array([np.nanmedian(p) if np.isfinite(p).any() else np.nan for p in prices], np.float32)
            last = np.array([p[np.isfinite(p)][-1] if np.isfinite(p).any() else np.nan for p in prices], np.float32)
            ratio = _right_align(prices, length) / ref[:, None]
            future[:, :, 1] = np.nan_to_num(np.log(np.clip(ratio, 1e-3, None)), nan=0.0)
        hol = holiday_column(df)
        if hol is not None:
            future[:, :, 2] = _right_align(_split(df.assign(**{hol: df[hol].astype(float)}), hol), length, 0.0)
        for k, col in enumerate(past_covariates):
            if col not in df.columns:
                raise ConfigError(f"Past covariate '{col}' is not a column of the training frame.")
            block = _right_align(_split(df, col), length)
            mu, sd = np.nanmean(block, axis=1, keepdims=True), np.nanstd(block, axis=1, keepdims=True)
            past[:, :, k] = np.nan_to_num((block - mu) / (sd + 1e-6), nan=0.0)
    return SeriesArrays(ids, y, future, past, ref, last, list(past_covariates) if use_covariates else [])


def future_slots(
    arrays: SeriesArrays, h: int, X_future: pd.DataFrame | None, use_covariates: bool
) -> np.ndarray:
    """Future-known covariate slots for the next ``h`` steps: (n, h, N_FUTURE).

    Without ``X_future``: no promo, no holiday, price stays at each series' last price.
    """
    n = len(arrays.ids)
    out = np.zeros((n, h, N_FUTURE), np.float32)
    if not use_covariates:
        return out
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, :, 1] = np.nan_to_num(np.log(arrays.last_price / arrays.ref_price), nan=0.0)[:, None]
    if X_future is None or X_future.empty:
        return out
    xf = X_future.sort_values([ID, TIME])
    pos = {uid: i for i, uid in enumerate(arrays.ids)}
    for uid, g in xf.groupby(ID, sort=False):
        i = pos.get(uid)
        if i is None:
            continue
        m = min(h, len(g))
        if "promo" in g.columns:
            out[i, :m, 0] = g["promo"].fillna(0).to_numpy(np.float32)[:m]
        if "price" in g.columns and np.isfinite(arrays.ref_price[i]):
            p = g["price"].ffill().fillna(arrays.last_price[i]).to_numpy(np.float32)[:m]
            out[i, :m, 1] = np.log(np.clip(p / arrays.ref_price[i], 1e-3, None))
        hol = holiday_column(g)
        if hol is not None:
            out[i, :m, 2] = g[hol].astype(float).fillna(0).to_numpy(np.float32)[:m]
    return out
