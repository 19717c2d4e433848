"""Does text help the forecast? LightGBM backtested with and without the text signals.

Demo shop (bundled, 300 series x 731 days): social-post bursts lead category demand by 7
days; quality incidents turn reviews negative 10 days before demand falls. Text can only matter
around those events, so besides the ordinary last window the backtest places one window at each
planted burst (cutoff = burst start + 10 days) and at each quality incident (cutoff = incident
start + 5 days); each window forecasts ``--h`` days with the panel cut right after it, so nothing
after a cutoff is ever seen. Text signals come from the product's one feature builder
(:func:`trendcast.features.fusion.fuse`, text source): aggregated per day and lagged by the
horizon, so every value a window uses was known at its cutoff. Reported: WRMSSE (all levels) and MASE (bottom) per
variant, averaged over windows, for: no text, all default text groups, and each group alone
(per-feature-group ablation), whatever the sign.

Real data: no set in ../shared has dated reviews together with sales (the review sets have no
sales, the sales sets no text), so there is no real-data lift figure.

    .venv/bin/python benchmarks/text_lift.py [--h 7] [--model auto] [--max-incidents 4]
        [--variants no_text,all_text,only_category_buzz,...] [--out text_lift.json]

``--variants`` picks which variants run (default: all), so the headline comparison and the
per-group ablation can be run separately on a busy machine (``--out`` keeps both files).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from trendcast.data.demo import demo_paths  # noqa: E402
from trendcast.data.ingest import ingest  # noqa: E402
from trendcast.data.warehouse import Warehouse  # noqa: E402
from trendcast.evaluate.backtest import DEFAULT_FUTURE_KNOWN, backtest  # noqa: E402
from trendcast.evaluate.hierarchy import build_hierarchy, static_frame  # noqa: E402
from trendcast.features.fusion import fuse  # noqa: E402
from trendcast.forecasting import future_frame  # noqa: E402
from trendcast.text.demo_cache import demo_cache_file  # noqa: E402
from trendcast.text.embeddings import import_vectors  # noqa: E402
from trendcast.text.sentiment import default_head  # noqa: E402
from trendcast.text.signals import (
    build_signals,  # noqa: E402
    topic_encoder,  # noqa: E402
)

ROOT = Path(__file__).resolve().parents[1]
# Ablation groups: fused text columns by level and signal (regular expressions on the name).
GROUPS: dict[str, str] = {
    "item_sentiment": r"^txt_item_(sent_mean|neg_share|rating_mean_dev)",
    "item_volume": r"^txt_item_n_",
    "item_aspects": r"^txt_item_aspect_",
    "category_buzz": r"^txt_cat_(n_social|burst)",
    "category_sentiment": r"^txt_cat_(sent_mean|neg_share)",
}
RESULTS_DIR = ROOT / "benchmarks" / "results"


def event_cutoffs(truth: dict, max_incidents: int, last: pd.Timestamp) -> list[tuple[str, pd.Timestamp]]:
    out = [(f"burst {b['term_en']} ({b['category']})", pd.Timestamp(b["start"]) + pd.Timedelta(days=10))
           for b in truth["bursts"]]
    out += [(f"incident {q['item_id']}", pd.Timestamp(q["start"]) + pd.Timedelta(days=5))
            for q in truth["quality_incidents"][:max_incidents]]
    return [(n, c) for n, c in out if c < last - pd.Timedelta(days=14)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--h", type=int, default=7, help="forecast horizon (days)")
    parser.add_argument("--model", default="auto", help="sentiment model for the signals: fast, full or auto")
    parser.add_argument("--max-incidents", type=int, default=4, help="quality-incident windows to include")
    parser.add_argument("--n-estimators", type=int, default=200, help="LightGBM trees")
    parser.add_argument("--variants", default="", help="comma-separated variants to run (default: all)")
    parser.add_argument("--max-bursts", type=int, default=4, help="social-burst windows to include")
    parser.add_argument("--out", default="text_lift.json", help="result file name in benchmarks/results/")
    args = parser.parse_args()
    paths = demo_paths()
    truth = json.loads(paths["truth"].read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "lift.duckdb"
        t0 = time.perf_counter()
        ingest(db, **{k: v for k, v in paths.items() if k != "truth"})
        cache = demo_cache_file(default_head().encoder)
        if topic_encoder(args.model) and cache is not None:
            import_vectors(db, cache, model=default_head().encoder)  # the demo texts' real vectors
        info = build_signals(db, model=args.model)
        with Warehouse(db, read_only=True) as wh:
            panel = wh.sales_panel()
            full = fuse(wh, panel, future_frame(panel, args.h), "D", args.h, covariates="text").panel
        prep_s = time.perf_counter() - t0
    hierarchy = build_hierarchy(static_frame(panel))
    all_text = [c for c in full.columns if c.startswith("txt_")]
    variants: dict[str, list[str]] = {"no_text": [], "all_text": all_text}
    for g, pattern in GROUPS.items():
        variants[f"only_{g}"] = [c for c in all_text if re.match(pattern, c)]
    if args.variants:
        wanted = args.variants.split(",")
        unknown = sorted(set(wanted) - set(variants))
        if unknown:
            parser.error(f"unknown variants {unknown}; choose from {sorted(variants)}")
        variants = {k: v for k, v in variants.items() if k in wanted or k == "no_text"}
    last = panel["ds"].max()
    events = event_cutoffs(truth, args.max_incidents, last)
    bursts = [e for e in events if e[0].startswith("burst")][: args.max_bursts]
    windows = [*bursts, *[e for e in events if not e[0].startswith("burst")], ("ordinary (last window)", last - pd.Timedelta(days=args.h))]
    rows = []
    for wname, cutoff in windows:
        cut = full[full["ds"] <= cutoff + pd.Timedelta(days=args.h)]
        for vname, cols in variants.items():
            data = cut.drop(columns=[c for c in all_text if c not in cols])
            start = time.perf_counter()
            res = backtest(data, ["lightgbm"], h=args.h, windows=1, hierarchy=hierarchy,
                           future_known=[*DEFAULT_FUTURE_KNOWN, *cols],  # already lagged by h
                           model_params={"lightgbm": {"n_estimators": args.n_estimators}})
            m = res.metrics["models"]["lightgbm"]
            rows.append({"window": wname, "cutoff": str(cutoff.date()), "variant": vname,
                         "wrmsse": m.get("wrmsse"), "mase": m["bottom"].get("mase"),
                         "category_mase": m.get("levels", {}).get("category", {}).get("mase"),
                         "seconds": round(time.perf_counter() - start, 1)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby("variant")[["wrmsse", "mase", "category_mase"]].mean()
    base = summary.loc["no_text"]
    summary["wrmsse_change_pct"] = 100 * (summary["wrmsse"] / base["wrmsse"] - 1)
    summary["mase_change_pct"] = 100 * (summary["mase"] / base["mase"] - 1)
    event_rows = table[~table["window"].str.startswith("ordinary")]
    by_kind = event_rows.assign(kind=event_rows["window"].str.split(" ").str[0]).groupby(["kind", "variant"])[
        ["wrmsse", "mase"]].mean()
    print(summary.round(4).to_string())
    print(by_kind.round(4).to_string())
    out = {
        "config": {"h": args.h, "sentiment_model": args.model, "n_estimators": args.n_estimators,
                   "variants": list(variants), "max_incidents": args.max_incidents,
                   "windows": [[n, str(c.date())] for n, c in windows], "signals": info,
                   "prep_seconds": round(prep_s, 1)},
        "summary": json.loads(summary.round(5).to_json(orient="index")),
        "by_event_kind": {f"{k}|{v}": {c: float(by_kind.loc[(k, v), c]) for c in by_kind.columns}
                          for k, v in by_kind.index},
        "windows": rows,
        "real_data": "none in ../shared has dated reviews together with sales; no real-data lift figure",
        "load_avg": os.getloadavg(),
        "numpy": np.__version__,
    }
    path = RESULTS_DIR / args.out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
