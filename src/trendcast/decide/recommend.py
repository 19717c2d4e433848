"""Recommendations: item-to-item affinity from shopping behaviour, boosted by predicted trend.

Each basket (a user's session, or their whole history when ``session_gap`` is None) is a
vector of items weighted by the strongest event (view 1, cart 2, purchase 3). Item affinity is
the cosine similarity of item columns of that basket x item matrix (co-viewed / co-bought
items score high, popular items are not favoured merely for being popular). A user's score for
item ``j`` is the sum of their items' weights x affinity to ``j`` (items they already touched
keep their own weight, so repeat interest counts); scores are multiplied by ``1 + boost x
trend change`` (change clipped to +/-50%) when a trend table is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from trendcast.errors import ConfigError, InputError

EVENT_WEIGHTS = {"view": 1.0, "cart": 2.0, "purchase": 3.0}


def _check_events(events: pd.DataFrame) -> pd.DataFrame:
    need = {"user_token", "item_id", "timestamp", "event"}
    if missing := need - set(events.columns):
        raise InputError(f"Events lack column(s) {sorted(missing)}; expected user_token, item_id, timestamp, event.")
    ev = events.copy()
    ev["timestamp"] = pd.to_datetime(ev["timestamp"])
    ev["weight"] = ev["event"].map(EVENT_WEIGHTS).fillna(1.0)
    return ev


def sessions(events: pd.DataFrame, gap_minutes: float | None = 30.0) -> pd.Series:
    """Basket id per event: a new session after ``gap_minutes`` idle (None: one per user)."""
    if gap_minutes is None:
        return events["user_token"].astype(str)
    ev = events.sort_values(["user_token", "timestamp"])
    new = ev.groupby("user_token")["timestamp"].diff() > pd.Timedelta(minutes=gap_minutes)
    sid = new.groupby(ev["user_token"]).cumsum().astype(int).astype(str)
    return (ev["user_token"].astype(str) + "#" + sid).reindex(events.index)


@dataclass
class ItemAffinity:
    """Fitted item-to-item cosine affinity. ``fit(events)`` then ``recommend(history, k)``."""

    session_gap: float | None = None
    items_: list[str] = field(default_factory=list)
    sim_: sparse.csr_matrix | None = None
    popularity_: pd.Series | None = None

    def fit(self, events: pd.DataFrame) -> ItemAffinity:
        ev = _check_events(events)
        if ev.empty:
            raise InputError("No behaviour events to learn item affinity from.")
        ev["basket"] = sessions(ev, self.session_gap)
        cell = ev.groupby(["basket", "item_id"])["weight"].max().reset_index()
        self.items_ = sorted(ev["item_id"].astype(str).unique())
        index = {it: j for j, it in enumerate(self.items_)}
        baskets = {b: i for i, b in enumerate(cell["basket"].unique())}
        m = sparse.csr_matrix(
            (cell["weight"].to_numpy(float), (cell["basket"].map(baskets).to_numpy(), cell["item_id"].map(index).to_numpy())),
            shape=(len(baskets), len(self.items_)),
        )
        co = (m.T @ m).tocsr()
        norm = np.sqrt(np.maximum(co.diagonal(), 1e-12))
        inv = sparse.diags(1.0 / norm)
        self.sim_ = (inv @ co @ inv).tocsr()
        self.popularity_ = ev[ev["event"] == "purchase"].groupby("item_id").size().reindex(self.items_, fill_value=0)
        return self

    def scores(self, history: pd.DataFrame, trend: pd.Series | None = None, boost: float = 0.2) -> pd.Series:
        """Score every known item for one user's ``history`` (their events)."""
        if self.sim_ is None:
            raise ConfigError("Fit the affinity model before recommending.")
        index = {it: j for j, it in enumerate(self.items_)}
        ev = _check_events(history) if len(history) else history.assign(weight=[])
        w = ev.groupby("item_id")["weight"].max() if len(ev) else pd.Series(dtype=float)
        vec = np.zeros(len(self.items_))
        for item, weight in w.items():
            if item in index:
                vec[index[item]] = weight
        score = pd.Series(self.sim_.T @ vec, index=self.items_)
        if trend is not None and boost:
            change = trend.reindex(self.items_).fillna(0.0).clip(-0.5, 0.5)
            score = score * (1.0 + boost * change)
        return score

    def user_scores(self, events: pd.DataFrame, trend: pd.Series | None = None, boost: float = 0.2) -> tuple[list[str], np.ndarray]:
        """Scores of every item for every user in ``events`` at once (users x items)."""
        if self.sim_ is None:
            raise ConfigError("Fit the affinity model before recommending.")
        ev = _check_events(events)
        ev = ev[ev["item_id"].isin(self.items_)]
        cell = ev.groupby(["user_token", "item_id"])["weight"].max().reset_index()
        users = sorted(cell["user_token"].unique())
        uidx = {u: i for i, u in enumerate(users)}
        iidx = {it: j for j, it in enumerate(self.items_)}
        m = sparse.csr_matrix(
            (cell["weight"].to_numpy(float), (cell["user_token"].map(uidx).to_numpy(), cell["item_id"].map(iidx).to_numpy())),
            shape=(len(users), len(self.items_)),
        )
        score = np.asarray((m @ self.sim_).todense())
        if trend is not None and boost:
            score = score * (1.0 + boost * trend.reindex(self.items_).fillna(0.0).clip(-0.5, 0.5).to_numpy())
        return users, score

    def recommend(self, history: pd.DataFrame, k: int = 10, trend: pd.Series | None = None, boost: float = 0.2, exclude_purchased: bool = False) -> pd.DataFrame:
        """Top ``k`` items for one user; popularity fills in for users with no known history."""
        if k < 1:
            raise ConfigError(f"k must be at least 1; got {k}.")
        score = self.scores(history, trend, boost)
        if exclude_purchased and len(history):
            bought = set(history.loc[history["event"] == "purchase", "item_id"])
            score = score[~score.index.isin(bought)]
        reason = "similar to your items"
        if not (score > 0).any():
            score, reason = self.popularity_.astype(float).reindex(score.index), "popular"
        top = score.sort_values(ascending=False, kind="stable").head(k)
        return pd.DataFrame({"rank": np.arange(1, len(top) + 1), "item_id": top.index, "score": top.round(4).to_numpy(), "reason": reason})


def recommend_for_users(events: pd.DataFrame, users: list[str], k: int = 10, trend: pd.Series | None = None, boost: float = 0.2, session_gap: float | None = None) -> pd.DataFrame:
    """``user_token, rank, item_id, score, reason`` for each requested user."""
    model = ItemAffinity(session_gap=session_gap).fit(events)
    by_user = dict(tuple(events.groupby("user_token")))
    frames = []
    for u in users:
        rec = model.recommend(by_user.get(u, events.iloc[0:0]), k, trend, boost)
        rec.insert(0, "user_token", u)
        frames.append(rec)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["user_token", "rank", "item_id", "score", "reason"])


def holdout_last_purchase(events: pd.DataFrame, session_minutes: float = 30.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split off each purchasing user's last purchase and the session that led to it.

    Returns (training events, ``user_token, item_id`` of the held-out purchases). Events from
    ``session_minutes`` before the purchase on are dropped so its own view/cart cannot leak.
    """
    ev = _check_events(events)
    buys = ev[ev["event"] == "purchase"].sort_values("timestamp").groupby("user_token").tail(1)
    cut = buys.set_index("user_token")["timestamp"] - pd.Timedelta(minutes=session_minutes)
    user_cut = ev["user_token"].map(cut)
    train = ev[user_cut.isna() | (ev["timestamp"] < user_cut)]
    return train.drop(columns="weight"), buys[["user_token", "item_id"]].reset_index(drop=True)


def hit_rate(events: pd.DataFrame, k: int = 10, trend: pd.Series | None = None, boost: float = 0.2, session_gap: float | None = None) -> dict[str, float]:
    """Hit rate@k on held-out last purchases: affinity (with/without trend) vs popularity."""
    train, test = holdout_last_purchase(events)
    if test.empty:
        raise InputError("No purchases to hold out: hit rate needs purchase events.")
    model = ItemAffinity(session_gap=session_gap).fit(train)
    popular = set(model.popularity_.sort_values(ascending=False, kind="stable").head(k).index)
    items = np.array(model.items_)
    hits = {"affinity": 0, "affinity_trend": 0, "popularity": int(test["item_id"].isin(popular).sum())}
    for name, tr in (("affinity", None), ("affinity_trend", trend)):
        if name == "affinity_trend" and trend is None:
            continue
        users, score = model.user_scores(train, tr, boost)
        top = {u: set(items[np.argsort(-row, kind="stable")[:k]]) for u, row in zip(users, score, strict=True) if row.max() > 0}
        hits[name] = sum(it in top.get(u, popular) for u, it in zip(test["user_token"], test["item_id"], strict=True))
    out = {f"hit_rate@{k}_{name}": round(v / len(test), 4) for name, v in hits.items() if name != "affinity_trend" or trend is not None}
    out["users"] = float(len(test))
    return out
