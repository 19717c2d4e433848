"""Every warehouse source as forecast covariates at the data's frequency: one feature builder.

``fuse(wh, panel, future, freq, horizon)`` adds one numeric column per covariate to the sales
panel and to the future frame, so any model that accepts covariates gets them the same way:

- **text** (``txt_item_*``, ``txt_cat_*``): every numeric column of the daily signal tables
  (volume, sentiment, negative share, buzz bursts, need and competitor mentions, and whatever
  the text stage adds later), per item and per category, aggregated to the period;
- **behaviour** (``beh_*``): views, add-to-carts, purchases and conversion per item and period;
- **calendar** (``cal_*``): public holidays of ``country`` and shopping festivals, counted per
  period, plus days to the next one;
- **price** and **promo**: the panel's own columns, future-known (a ``--future`` plan sets them);
- **external** (``ext_*``): the ``covariates`` input source (weather, CPI, markdowns, ad spend).

Leakage rule. Calendar columns, and external columns with a value for every forecast period, are
future-known and used as they are. Everything else is past-only: the value of period P is put on
P + ``horizon`` (suffix ``_lag{horizon}``), so every value in ``future`` was known at the
forecast origin, and in a backtest nothing after a cutoff reaches training or the window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trendcast.data.warehouse import Warehouse
from trendcast.errors import ConfigError
from trendcast.features.calendar import FESTIVAL_LABELS, festival_days, national_holidays
from trendcast.features.frequency import kind, period_of, shift_periods, unit
from trendcast.frame import ID, TIME

SOURCES = ("text", "behaviour", "calendar", "price", "promo", "external")
SOURCE_ALIASES = {"behavior": "behaviour", "events": "behaviour", "covariates": "external",
                  "texts": "text", "holidays": "calendar"}
COUNT_PREFIXES = ("n_", "need_", "comp_")  # text columns that add up over a period
CALENDAR_PREFIX = "cal_"  # the calendar covariates' names
WINDOWED = re.compile(r"_(\d+)d$")  # trailing-window columns of the daily text tables
EVENTS = {"views": "view", "carts": "cart", "purchases": "purchase"}


@dataclass(frozen=True)
class Covariate:
    """One covariate column: its name in the frames, a readable label, where it comes from."""

    name: str
    label: str
    source: str  # one of SOURCES
    future_known: bool


@dataclass
class Fused:
    """The panel and future frame with covariate columns added, and which covariates they are."""

    panel: pd.DataFrame
    future: pd.DataFrame
    used: list[Covariate]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.used]


@dataclass
class _Block:
    """Covariate values keyed by ``keys + [ds]``, in ``parts`` from general to specific level
    (chain, store, item, series: a more specific value wins); ``fill`` says what a gap means."""

    parts: list[tuple[list[str], pd.DataFrame]]
    covariates: list[Covariate]
    fill: str  # "zero" (no texts/events that period), "carry" (last known value), "none"
    start: pd.Timestamp | None = None  # before this ds the source did not exist yet: NaN


# -- public API ------------------------------------------------------------------------------------
def fuse(
    wh: Warehouse,
    panel: pd.DataFrame,
    future: pd.DataFrame,
    freq: str,
    horizon: int,
    covariates: str | Sequence[str] = "auto",
    country: str | None = None,
) -> Fused:
    """Add every available (or every chosen) covariate to ``panel`` and ``future``.

    ``covariates``: ``"auto"`` (every source the warehouse has, less constant columns and near
    copies of another column), ``"none"`` (inputs returned unchanged) or names: sources
    (``text``, ``behaviour``, ``calendar``, ``external``, ...) and/or covariate names
    (``ext_Temperature`` or just ``Temperature``). Raises :class:`ConfigError` for a name the warehouse cannot provide.
    """
    tokens = _tokens(covariates)
    if tokens == ["none"]:
        return Fused(panel, future, [])
    if horizon < 1:
        raise ConfigError(f"Horizon must be at least 1 period; got {horizon}.")
    lag = int(horizon)
    # Only the keys travel through the joins; the covariate columns are built apart and added once.
    keys = [c for c in (ID, TIME) if c in panel.columns]
    both = pd.concat([panel[keys].assign(_future=False), future[[ID, TIME]].assign(_future=True)],
                     ignore_index=True)
    both[TIME] = pd.to_datetime(both[TIME]).astype("datetime64[ns]")
    static = panel.drop_duplicates(ID).set_index(ID)
    for col in ("item_id", "store_id", "category"):  # the future frame has ids only
        both[col] = both[ID].map(static[col]).to_numpy() if col in static else ""
    # The forecast dates proper: after the last sales period (a series that stopped selling long
    # ago has its own, older "future", which must not decide what is known ahead).
    ahead = both.loc[both["_future"], TIME]
    last = both.loc[~both["_future"], TIME].max()
    future_labels = pd.DatetimeIndex((ahead[ahead > last] if (ahead > last).any() else ahead).unique())
    blocks = [
        *_text_blocks(wh, freq, lag),
        *_behaviour_blocks(wh, freq, lag),
        *_calendar_blocks(pd.DatetimeIndex(both[TIME].unique()), freq, country),
        *_external_blocks(wh, freq, lag, future_labels),
    ]
    given = [Covariate(c, feature_label(c, freq), c, True) for c in ("price", "promo")
             if c in panel.columns and panel[c].notna().any()]
    available = [c for b in blocks for c in b.covariates] + given
    chosen = _choose(available, tokens)
    names = {c.name for c in chosen}
    wanted = [[c for c in block.covariates if c.name in names] for block in blocks]
    added = [c for covs in wanted for c in covs]
    # One float array for every covariate, filled block by block: a shop of 5,000 daily series has
    # 3.6 M rows, so each extra copy of the covariate table costs half a gigabyte.
    values = np.empty((len(both), len(added)))
    order = both.sort_values([ID, TIME]).index.to_numpy()
    at = 0
    for block, covs in zip(blocks, wanted, strict=True):
        if covs:
            values[:, at:at + len(covs)] = _values(both, order, block, [c.name for c in covs])
            at += len(covs)
    is_future = both["_future"].to_numpy()
    keep = list(range(len(added)))  # the columns of ``values`` that stay
    if tokens == ["auto"]:
        drop = _uninformative(values, ~is_future, [c.name for c in added])
        keep = [j for j in keep if added[j].name not in drop]
    added = [added[j] for j in keep]
    cols = [c.name for c in added]

    def added_to(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:  # one block: no fragmentation
        new = pd.DataFrame(values[np.ix_(rows, keep)], columns=cols, index=frame.index)
        return pd.concat([frame.drop(columns=[c for c in cols if c in frame]), new], axis=1)

    new_panel = added_to(panel, ~is_future)
    new_future = added_to(future, is_future)
    used = added + [c for c in given if c in chosen]
    return Fused(new_panel, new_future, used)


def _uninformative(values: np.ndarray, rows: np.ndarray, names: list[str], same: float = 0.98,
                   sample: int = 50_000) -> set[str]:
    """Columns that teach a model nothing new: constant ones, and near copies of an earlier one
    (|correlation| >= ``same``, e.g. item texts and item reviews in a shop whose texts are all
    reviews), judged on the history ``rows``. Looks at the covariates only, never at sales, so
    choosing cannot leak the target."""
    hist = np.flatnonzero(rows)
    flat = set()
    for j, name in enumerate(names):  # one column at a time: no copy of the whole table
        col = values[hist, j]
        col = col[~np.isnan(col)]
        if not len(col) or col.min() == col.max():
            flat.add(name)
    rest = [j for j, name in enumerate(names) if name not in flat]
    if len(rest) < 2:
        return flat
    if len(hist) > sample:  # the rows DataFrame.sample(sample, random_state=0) would draw
        hist = hist[np.random.RandomState(0).choice(len(hist), size=sample, replace=False)]
    corr = pd.DataFrame(values[np.ix_(hist, rest)]).corr().abs().to_numpy()
    kept: list[int] = []
    copies = set()
    for i, j in enumerate(rest):
        if any(corr[i, k] >= same for k in kept):
            copies.add(names[j])
        else:
            kept.append(i)
    return flat | copies


def describe(used: Sequence[Covariate]) -> str:
    """One line for the stored run and the printed explanation."""
    if not used:
        return "Covariates: none (sales history only)."
    return "Covariates: " + "; ".join(f"{c.label} [{c.name}]" for c in used) + "."


# -- selection -------------------------------------------------------------------------------------
def _tokens(covariates: str | Sequence[str] | None) -> list[str]:
    if covariates is None:
        return ["auto"]
    items = covariates.split(",") if isinstance(covariates, str) else list(covariates)
    tokens = [str(t).strip() for t in items if str(t).strip()]
    if not tokens or tokens == ["auto"]:
        return ["auto"]
    if ("none" in tokens or "auto" in tokens) and len(tokens) > 1:
        raise ConfigError(f"--covariates takes 'auto', 'none' or a list of names, not {','.join(tokens)}.")
    return tokens


def _bare(name: str) -> str:
    """``ext_Temperature_lag13`` -> ``Temperature``: the name a shop gave the column."""
    return re.sub(r"_lag\d+$", "", re.sub(r"^(ext_|beh_|cal_|txt_item_|txt_cat_)", "", name))


def _choose(available: list[Covariate], tokens: list[str]) -> list[Covariate]:
    if tokens == ["auto"]:
        return available
    chosen: list[Covariate] = []
    for token in tokens:
        source = SOURCE_ALIASES.get(token.lower(), token.lower())
        hits = [c for c in available if source == c.source or token in (c.name, _bare(c.name))]
        if not hits:
            have = sorted({c.source for c in available})
            raise ConfigError(
                f"No covariate or source '{token}' in this warehouse. Sources with data: "
                f"{', '.join(have) or 'none'}; covariates: {', '.join(sorted(_bare(c.name) for c in available))}."
            )
        chosen += [c for c in hits if c not in chosen]
    return chosen


# -- joining ---------------------------------------------------------------------------------------
def _values(both: pd.DataFrame, order: np.ndarray, block: _Block, cols: list[str]) -> np.ndarray:
    """The block's columns for every row of ``both`` (same order); gaps filled as the block says.

    ``order`` sorts ``both`` by series and date (for carrying a last known value forward).
    """
    values = np.full((len(both), len(cols)), np.nan)
    for keys, frame in block.parts:  # a more specific part's value wins where it has one
        new = _lookup(both, keys, frame, cols)
        np.copyto(values, new, where=~np.isnan(new))
    if block.fill == "zero":
        gap = np.isnan(values)
        if block.start is not None:  # before the source existed a gap stays unknown
            gap &= (both[TIME] >= block.start).to_numpy()[:, None]
        values[gap] = 0.0
    elif block.fill == "carry":  # last known value of the series (never a later one)
        codes = pd.factorize(both[ID].to_numpy()[order])[0]
        values[order] = pd.DataFrame(values[order]).groupby(codes, sort=False).ffill().to_numpy()
    fut = both["_future"].to_numpy()[:, None] & np.isnan(values)
    values[fut] = 0.0  # a model cannot take gaps in the future
    return values


def _lookup(both: pd.DataFrame, keys: list[str], frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """``frame``'s ``cols`` at every row of ``both``, matched on ``keys`` and the period (NaN where
    ``frame`` has no row). An index lookup, not a merge: a merge copies the keys of every row."""
    on = [*keys, TIME]
    index = pd.MultiIndex.from_frame(frame[on]) if keys else pd.Index(frame[TIME])
    if not index.is_unique:
        raise ValueError(f"covariate values are not unique per {', '.join(on)}")  # a bug, not bad input
    rows = pd.MultiIndex.from_frame(both[on]) if keys else pd.Index(both[TIME])
    src = np.vstack([frame[cols].to_numpy(dtype=float), np.full((1, len(cols)), np.nan)])
    return src[index.get_indexer(rows)]  # -1 (no row) takes the NaN row at the end


# -- text ------------------------------------------------------------------------------------------
def _text_agg(col: str) -> str:
    if col.startswith(COUNT_PREFIXES):
        return "sum"
    if col.startswith("burst"):
        return "max"
    return "mean"


def _text_to_periods(df: pd.DataFrame, key: str, freq: str) -> pd.DataFrame:
    """Daily signal rows -> one row per key and period (trailing-window twins chosen by freq)."""
    df = df.copy()
    df["date"] = pd.to_datetime(df["date"]).astype("datetime64[ns]")
    values = [c for c in df.columns if c not in (key, "date") and pd.api.types.is_numeric_dtype(df[c])]
    windowed = [c for c in values if WINDOWED.search(c)]
    if kind(freq) == "D":  # both: the day's value leads soonest, its 7-day window is steadier
        return df[[key, "date", *values]].rename(columns={"date": TIME})
    keep = [c for c in values if c not in windowed]  # the period aggregate replaces the window
    df[TIME] = period_of(df["date"], freq)
    g = df.groupby([key, TIME])
    sums = [c for c in keep if _text_agg(c) == "sum"]
    maxes = [c for c in keep if _text_agg(c) == "max"]
    means = [c for c in keep if _text_agg(c) == "mean"]
    out = pd.concat([g[sums].sum(), g[maxes].max()], axis=1)
    if means:  # per-text means: weight each day by its number of texts
        w = df["n_texts"].astype(float) if "n_texts" in df else pd.Series(1.0, index=df.index)
        num = df[means].mul(w, axis=0).groupby([df[key], df[TIME]]).sum()
        den = w.groupby([df[key], df[TIME]]).sum()
        out = out.join(num.div(den.where(den > 0), axis=0).fillna(0.0))
    return out.reset_index()


def _text_blocks(wh: Warehouse, freq: str, lag: int) -> list[_Block]:
    blocks: list[_Block] = []
    for table, key, level in (("signals_item_daily", "item_id", "item"),
                              ("signals_category_daily", "category", "cat")):
        if not wh.has_table(table):
            continue
        df = wh.table(table)
        if df.empty:
            continue
        agg = _text_to_periods(df, key, freq)
        agg[TIME] = shift_periods(agg[TIME], lag, freq)
        rename = {c: f"txt_{level}_{c}_lag{lag}" for c in agg.columns if c not in (key, TIME)}
        agg = agg.rename(columns=rename)
        covs = [Covariate(n, feature_label(n, freq), "text", False) for n in rename.values()]
        blocks.append(_Block([([key], agg)], covs, "zero", pd.Timestamp(agg[TIME].min())))
    return blocks


# -- behaviour -------------------------------------------------------------------------------------
def _behaviour_blocks(wh: Warehouse, freq: str, lag: int) -> list[_Block]:
    if not wh.has_table("events") or wh.count("events") == 0:
        return []
    counts = ", ".join(f"count(*) FILTER (WHERE event = '{e}') AS {name}" for name, e in EVENTS.items())
    daily = wh.con.execute(
        f'SELECT item_id, CAST("timestamp" AS DATE) AS date, {counts} FROM events GROUP BY ALL'
    ).df()
    daily[TIME] = period_of(daily["date"], freq)
    agg = daily.groupby(["item_id", TIME], as_index=False)[list(EVENTS)].sum()
    agg["conversion"] = (agg["purchases"] / agg["views"].where(agg["views"] > 0)).fillna(0.0)
    agg[TIME] = shift_periods(agg[TIME], lag, freq)
    rename = {c: f"beh_{c}_lag{lag}" for c in [*EVENTS, "conversion"]}
    agg = agg.rename(columns=rename)
    covs = [Covariate(n, feature_label(n, freq), "behaviour", False) for n in rename.values()]
    return [_Block([(["item_id"], agg)], covs, "zero", pd.Timestamp(agg[TIME].min()))]


# -- calendar --------------------------------------------------------------------------------------
def calendar_frame(labels: pd.DatetimeIndex, freq: str, country: str | None = None) -> pd.DataFrame:
    """Per period label: festival and holiday days in the period, days to the next of each."""
    labels = pd.DatetimeIndex(labels).unique().sort_values()
    years = range(labels.min().year - 1, labels.max().year + 2)
    out = pd.DataFrame({TIME: labels})
    cap = {"day": 30, "week": 8 * 7, "month": 4 * 30}[unit(freq)]
    fest = festival_days(country, years)
    tables = [("festival", fest.rename(columns={"festival": "name"}))]
    if country:
        tables.append(("holiday", national_holidays(country, years).rename(columns={"holiday": "name"})))
    for what, table in tables:
        table = table.drop_duplicates(["date", "name"])
        table = table.assign(**{TIME: period_of(table["date"], freq)})
        days = table.drop_duplicates("date").groupby(TIME).size()
        out[f"cal_{what}_days"] = out[TIME].map(days).fillna(0).to_numpy()
        when = np.sort(table["date"].unique().astype("datetime64[ns]"))
        nxt = np.searchsorted(when, out[TIME].to_numpy(dtype="datetime64[ns]"), side="right")
        gap = (when[np.clip(nxt, 0, len(when) - 1)] - out[TIME].to_numpy(dtype="datetime64[ns]")) / np.timedelta64(1, "D")
        out[f"cal_days_to_{what}"] = np.where(nxt < len(when), np.minimum(gap, cap), cap)
        if what == "festival":
            per = table.groupby([TIME, "name"]).size().unstack(fill_value=0)
            for name in per.columns:
                out[f"cal_fest_{name}"] = out[TIME].map(per[name]).fillna(0).to_numpy()
    return out


def _calendar_blocks(labels: pd.DatetimeIndex, freq: str, country: str | None) -> list[_Block]:
    frame = calendar_frame(labels, freq, country)
    covs = [Covariate(c, feature_label(c, freq), "calendar", True) for c in frame.columns if c != TIME]
    return [_Block([([], frame)], covs, "none")]


# -- external (the covariates input source) --------------------------------------------------------
LEVELS = ((), ("store_id",), ("item_id",), ("store_id", "item_id"))  # general to specific


def _external_blocks(wh: Warehouse, freq: str, lag: int, future_labels: pd.DatetimeIndex) -> list[_Block]:
    """One block per column of the covariates source; future-known when it covers every forecast period."""
    if not wh.has_table("covariates") or wh.count("covariates") == 0:
        return []
    raw = wh.con.execute("SELECT date, store_id, item_id, name, value FROM covariates WHERE value IS NOT NULL").df()
    raw[TIME] = period_of(raw["date"], freq)
    raw["level"] = (raw["store_id"] != "").astype(int) + 2 * (raw["item_id"] != "").astype(int)
    agg = raw.groupby(["name", "level", "store_id", "item_id", TIME], as_index=False)["value"].mean()
    want = set(future_labels)
    covs: list[Covariate] = []
    rows: list[pd.DataFrame] = []
    for name, g in agg.groupby("name", sort=True):
        known = bool(want) and want <= set(g[TIME])
        col = f"ext_{name}" if known else f"ext_{name}_lag{lag}"
        if not known:
            g = g.assign(**{TIME: shift_periods(g[TIME], lag, freq)})
        rows.append(g.assign(name=col))
        covs.append(Covariate(col, feature_label(col, freq), "external", known))
    long = pd.concat(rows, ignore_index=True)
    parts = []  # one wide frame per level (chain, store, item, series), general to specific
    for level, keys in enumerate(LEVELS):
        part = long[long["level"] == level]
        if len(part):
            wide = part.pivot_table(index=[*keys, TIME], columns="name", values="value", aggfunc="first")
            parts.append((list(keys), wide.reindex(columns=[c.name for c in covs]).reset_index()))
    return [_Block(parts, covs, "carry")]


# -- readable names --------------------------------------------------------------------------------
TEXT_WORDS = {
    "n_texts": "number of texts", "n_reviews": "number of reviews", "n_social": "number of social posts",
    "sent_mean": "mean sentiment", "neg_share": "share of negative texts",
    "rating_mean_dev": "star rating above or below 3", "burst_max": "buzz (strongest trending term)",
}
CALENDAR_WORDS = {
    "cal_dayofweek": "day of the week", "cal_month": "month of the year", "cal_dayofyear": "day of the year",
    "cal_weekofyear": "week of the year", "cal_is_weekend": "weekend (1/0)",
    "hol_days_to_festival": "days until the next shopping festival",
    "hol_days_since_festival": "days since the last shopping festival",
}
STATIC_WORDS = {"item_id": "the item itself", "store_id": "the store", "category": "the category",
                "price": "unit price", "promo": "on promotion (1/0)",
                "price_rel": "price relative to the item's usual price",
                "__expected_value__": "baseline (average forecast)"}


def _units(n: int | str, freq: str) -> str:
    n = int(n)
    return f"{n} {unit(freq)}" + ("" if n == 1 else "s")


def _lag_words(n: int | str, freq: str) -> str:
    return f"{_units(n, freq)} earlier"


def _text_words(col: str) -> str:
    m = WINDOWED.search(col)
    base = WINDOWED.sub("", col)
    if base in TEXT_WORDS:
        words = TEXT_WORDS[base]
    elif base.startswith("need_"):
        words = f"mentions of the need '{base[5:]}'"
    elif base.startswith("comp_"):
        words = f"mentions of competitor {base[5:]}"
    elif (t := re.fullmatch(r"topic_(\d+)_share", base)) is not None:
        words = f"share of topic {t.group(1)}"
    else:
        words = base.replace("_", " ")
    return words + (f", {m.group(1)}-day window" if m else "")


def _period_words(how: str, freq: str) -> str:
    if kind(freq) == "D":
        return ""
    u = unit(freq)
    return {"sum": f", total over the {u}", "max": f", peak in the {u}", "mean": f", mean over the {u}"}[how]


def feature_label(name: str, freq: str = "D") -> str:
    """A readable name for any model feature: covariates and mlforecast's lag features.

    ``lag7`` -> "units sold 7 days ago"; ``exponentially_weighted_mean_lag1_alpha0.3`` ->
    "units sold, smoothed average up to 1 day ago"; ``txt_cat_burst_max_lag1`` (weekly) ->
    "category texts: buzz (strongest trending term), peak in the week, 1 week earlier".
    Unknown names come back with underscores as spaces.
    """
    u = unit(freq)
    if name in STATIC_WORDS:
        return STATIC_WORDS[name]
    if name in CALENDAR_WORDS:
        return CALENDAR_WORDS[name]
    if m := re.fullmatch(r"lag(\d+)", name):
        return f"units sold {_units(m.group(1), freq)} ago"
    if m := re.fullmatch(r"rolling_(mean|std|min|max)_lag(\d+)_window_size(\d+)", name):
        what = {"mean": "mean", "std": "variability (std)", "min": "lowest", "max": "highest"}[m.group(1)]
        return f"units sold, {what} over {_units(m.group(3), freq)} up to {_units(m.group(2), freq)} ago"
    if m := re.fullmatch(r"exponentially_weighted_mean_lag(\d+)_alpha([\d.]+)", name):
        return f"units sold, smoothed average up to {_units(m.group(1), freq)} ago"
    if m := re.fullmatch(r"seasonal_rolling_mean_lag(\d+)_season_length(\d+)_window_size(\d+)", name):
        return (f"units sold at the same point of the {_units(m.group(2), freq)} cycle, mean of the last "
                f"{m.group(3)} cycles, up to {_units(m.group(1), freq)} ago")
    if m := re.fullmatch(r"expanding_mean_lag(\d+)", name):
        return f"units sold, average of all history up to {_units(m.group(1), freq)} ago"
    if m := re.fullmatch(r"hol_(\w+)", name):
        return f"{FESTIVAL_LABELS.get(m.group(1), m.group(1).replace('_', ' '))} (1/0)"
    if m := re.fullmatch(r"txt_(item|cat)_(.+)_lag(\d+)", name):
        who = "item texts" if m.group(1) == "item" else "category texts"
        col = m.group(2)
        how = "" if WINDOWED.search(col) else _period_words(_text_agg(col), freq)
        return f"{who}: {_text_words(col)}{how}, {_lag_words(m.group(3), freq)}"
    if m := re.fullmatch(r"beh_(\w+?)_lag(\d+)", name):
        words = {"views": "product page views", "carts": "add-to-carts", "purchases": "purchases (events)",
                 "conversion": "conversion (purchases per view)"}.get(m.group(1), m.group(1))
        how = "" if m.group(1) == "conversion" else _period_words("sum", freq)
        return f"{words}{how}, {_lag_words(m.group(2), freq)}"
    if m := re.fullmatch(r"ext_(.+?)(?:_lag(\d+))?", name):
        lag = f", {_lag_words(m.group(2), freq)}" if m.group(2) else " (known ahead)"
        return f"{m.group(1)} (covariates file){_period_words('mean', freq)}{lag}"
    if name == "cal_festival_days":
        return "shopping festival (1/0)" if u == "day" else f"shopping festival days in the {u}"
    if name == "cal_holiday_days":
        return "public holiday (1/0)" if u == "day" else f"public holiday days in the {u}"
    if m := re.fullmatch(r"cal_days_to_(festival|holiday)", name):
        return f"days until the next {'shopping festival' if m.group(1) == 'festival' else 'public holiday'}"
    if m := re.fullmatch(r"cal_fest_(\w+)", name):
        label = FESTIVAL_LABELS.get(m.group(1), m.group(1).replace("_", " "))
        return f"{label} (1/0)" if u == "day" else f"{label} days in the {u}"
    if m := re.fullmatch(r"(.+)_lag(\d+)_mean(\d+)", name):  # LightGBM's own past-only shift
        return f"{feature_label(m.group(1), freq)}, {m.group(3)}-{u} mean, {_lag_words(m.group(2), freq)}"
    if m := re.fullmatch(r"(.+)_lag(\d+)", name):
        return f"{feature_label(m.group(1), freq)}, {_lag_words(m.group(2), freq)}"
    return name.replace("_", " ")


def label_frame(features: Sequence[str], freq: str = "D") -> list[str]:
    """``feature_label`` for a column of feature names (explanations keep the raw name beside it)."""
    return [feature_label(str(f), freq) for f in features]
