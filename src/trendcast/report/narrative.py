"""The report's prose: built from the numbers, optionally rewritten by an OpenAI-compatible model.

The built-in text is always computed first and is what the report shows unless a configured
language model answers in time with usable text. The model only sees the same facts (no raw
data), and any failure (no endpoint, timeout, HTTP error, odd JSON) falls back silently to the
built-in text: the reason goes to the log (``trendcast.report``), the report only says the
built-in summary was used (an exception's text means nothing to a planner).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass

import httpx

from trendcast.errors import NotReadyError
from trendcast.features.frequency import DAYS_PER_PERIOD, kind
from trendcast.report.data import ShopData

log = logging.getLogger("trendcast.report")

SYSTEM_PROMPT = (
    "You write short, plain business summaries for an e-commerce analyst. Use only the facts "
    "given (JSON). Do not invent numbers. Write 2-4 short paragraphs, no headings, no lists."
)


@dataclass(frozen=True)
class LLMConfig:
    """An OpenAI-compatible chat endpoint: base URL, model name and the env var with the key."""

    url: str
    model: str
    api_key_env: str | None = None
    timeout_s: float = 20.0

    @classmethod
    def from_env(cls) -> LLMConfig | None:
        """``TRENDCAST_LLM_URL`` + ``TRENDCAST_LLM_MODEL`` (+ ``TRENDCAST_LLM_API_KEY_ENV``), or None."""
        url, model = os.environ.get("TRENDCAST_LLM_URL"), os.environ.get("TRENDCAST_LLM_MODEL")
        if not url or not model:
            return None
        return cls(url, model, os.environ.get("TRENDCAST_LLM_API_KEY_ENV"))

    def endpoint(self) -> str:
        url = self.url.rstrip("/")
        if url.endswith("/chat/completions"):
            return url
        return url + ("/chat/completions" if url.endswith("/v1") else "/v1/chat/completions")


@dataclass
class Narrative:
    paragraphs: list[str]
    source: str  # who wrote it, shown under the heading


def facts(data: ShopData) -> dict[str, object]:
    """The numbers the summary is about; every entry is optional except the shop summary."""
    out: dict[str, object] = {"shop": data.summary()}
    unit = data.unit()
    try:
        total = data.aggregate_forecasts()
        horizon = len(total)
        days = round(horizon * DAYS_PER_PERIOD[kind(data.freq())])
        recent = data.history(days=days)
        recent = recent.tail(horizon)
        out["forecast"] = {
            "horizon_periods": horizon,
            "unit": unit,
            "units_forecast": round(float(total["forecast"].sum()), 1),
            "units_last_same_period": round(float(recent["y"].sum()), 1),
        }
        cat_fc = data.aggregate_forecasts(by_category=True).groupby("category")["forecast"].sum()
        cat_hist = data.category_history(days=days).groupby("category")["y"].sum()
        change = ((cat_fc / cat_hist.reindex(cat_fc.index)) - 1.0).dropna().sort_values()
        out["category_change_pct"] = {str(k): round(float(v) * 100, 1) for k, v in change.items()}
    except NotReadyError:
        out["forecast"] = None
    try:
        m = data.metrics()
        metric = next((c for c in ("wrmsse", "mase", "MASE", "wape", "WAPE", "rmsse", "smape", "mae") if c in m.columns), None)
        if metric and "model" in m.columns:
            per_model = m.groupby("model")[metric].mean().sort_values()
            out["accuracy"] = {"metric": metric, "best_model": str(per_model.index[0]),
                               "best_value": round(float(per_model.iloc[0]), 3),
                               "models": {str(k): round(float(v), 3) for k, v in per_model.items()}}
    except NotReadyError:
        pass
    try:
        out["actions"] = {label: n for label, (n, _) in data.action_counts().items()}
    except Exception:  # noqa: BLE001 - the summary reads fine without the action counts
        log.debug("action counts unavailable for the narrative", exc_info=True)
    for name, reader in (("alerts", data.alerts), ("hotspots", data.hotspots)):
        try:
            frame = reader()
            out[name] = {"count": len(frame), "top": json.loads(frame.head(3).to_json(orient="records",
                                                                                       date_format="iso"))}
        except Exception:  # noqa: BLE001 - a missing or failing stage just leaves the fact out
            continue
    return out


def builtin_text(f: dict[str, object]) -> list[str]:
    """Plain sentences from the facts, so the report reads well without any language model."""
    shop = f["shop"]
    unit = str(shop.get("unit", "day"))
    cats = f"in {shop['categories']} categories" if shop["categories"] else "without product categories"
    every = {"day": "daily", "week": "weekly", "month": "monthly"}.get(unit, unit)
    paras = [f"The warehouse holds {shop['series']:,} sales series ({every}; {shop['items']:,} items {cats}) "
             f"from {shop['first_day']} to {shop['last_day']}."]
    fc = f.get("forecast")
    if fc:
        prev = fc["units_last_same_period"]
        n = fc["horizon_periods"]
        span = f"{n} {unit}" + ("" if n == 1 else "s")
        change = (fc["units_forecast"] / prev - 1.0) * 100 if prev else float("nan")
        direction = "up" if change > 0 else "down"
        para = (f"Over the next {span} the shop is forecast to sell "
                f"{fc['units_forecast']:,.0f} units, {direction} {abs(change):.1f}% on the last "
                f"{span} ({prev:,.0f}).")
        cats = f.get("category_change_pct") or {}
        if len(cats) >= 2:
            (lo_cat, lo), (hi_cat, hi) = next(iter(cats.items())), list(cats.items())[-1]
            para += (f" The strongest category is {hi_cat} ({hi:+.1f}%), the weakest {lo_cat} ({lo:+.1f}%).")
        paras.append(para)
    else:
        paras.append("No forecasts are stored yet: run `trendcast forecast` to add them.")
    acc = f.get("accuracy")
    if acc:
        paras.append(f"In the backtest the most accurate model was {acc['best_model']} "
                     f"({acc['metric']} {acc['best_value']:.3f}; lower is better) among "
                     f"{len(acc['models'])} model(s).")
    acts = f.get("actions") or {}
    if acts:
        paras.append("To act on now: " + ", ".join(f"{n:,} {label}" for label, n in acts.items()) + ".")
    extra = []
    if "alerts" in f and not acts:
        extra.append(f"{f['alerts']['count']} inventory alert(s) need attention")
    if "hotspots" in f:
        extra.append(f"{f['hotspots']['count']} text hot spot(s) were detected")
    if extra:
        paras.append("; ".join(extra).capitalize() + ".")
    return paras


def chat(config: LLMConfig, system: str, user: str, temperature: float,
         transport: httpx.BaseTransport | None = None) -> str:
    """One OpenAI-compatible ``/v1/chat/completions`` call; raises httpx/ValueError errors on failure."""
    headers = {"Content-Type": "application/json"}
    if config.api_key_env and os.environ.get(config.api_key_env):
        headers["Authorization"] = f"Bearer {os.environ[config.api_key_env]}"
    body = {"model": config.model, "temperature": temperature,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}]}
    with httpx.Client(timeout=config.timeout_s, transport=transport) as client:
        res = client.post(config.endpoint(), json=body, headers=headers)
        res.raise_for_status()
        text = res.json()["choices"][0]["message"]["content"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the model returned no text")
    return text.strip()


def ask_model(config: LLMConfig, f: dict[str, object],
              transport: httpx.BaseTransport | None = None) -> list[str]:
    """The model's summary of the facts, as paragraphs."""
    text = chat(config, SYSTEM_PROMPT, json.dumps(f, default=str), 0.2, transport)
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def narrative(data: ShopData, config: LLMConfig | None = None,
              transport: httpx.BaseTransport | None = None) -> Narrative:
    """The report summary: the model's prose when configured and reachable, else the built-in text."""
    f = facts(data)
    text = builtin_text(f)
    if config is None:
        return Narrative(text, "Summary written by trendcast from the numbers below.")
    try:
        return Narrative(ask_model(config, f, transport),
                         f"Summary written by {config.model} from the numbers below; check it against them.")
    except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
        log.warning("language model at %s not used for the report summary: %s: %s",
                    config.endpoint(), type(exc).__name__, exc)
        return Narrative(text, "Built-in summary written by trendcast from the numbers below (the "
                               "configured language model did not answer; details are in the log).")
