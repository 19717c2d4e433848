"""Which PatchCast weights ship: candidate weights side by side through the product path.

The model-level benchmark (``pretrained.py``) fills PatchCast's covariate slots itself (promo,
price, a holiday flag: M5's event calendar among them); the product fills them from what a
shop's warehouse holds and fuses, so weights can win there and lose here (recipe v4 did: model
card). This forecasts every data set's held-out periods with ``trendcast.forecast(model=...,
model_params={"weights": folder})`` on a fresh warehouse, as ``benchmarks/accuracy.py`` does
(same data sets, resamples and independent WRMSSE), for each weights folder, zero-shot and
fine-tuned, from the benchmark cutoff and from ``--shifts`` horizons earlier (M5 from its
benchmark cutoff only: its earlier windows are pretraining data).

    TRENDCAST_SHARED=../shared PYTHONPATH=src .venv/bin/python benchmarks/weights_product.py \\
        --weights src/trendcast/models/pretrained/weights,runs/v5 \\
        --data demo,walmart,m5,demo:W,m5:W,walmart:M,demo:M,m5:M --shifts 0
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import accuracy as acc
import numpy as np
from finetune_lr import IN_CORPUS, earlier

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", required=True, help="comma-separated weights folders (the first is the baseline)")
    ap.add_argument("--data", default="demo,walmart,m5",
                    help="comma-separated data sets, each optionally :W or :M (accuracy.py --resample)")
    ap.add_argument("--models", default="patchtst_pretrained,patchtst_finetuned", help="comma-separated")
    ap.add_argument("--shifts", default="0", help="cutoffs: 0 = the benchmark's, k = k horizons earlier")
    ap.add_argument("--out", default=str(RESULTS / "weights_product.json"))
    args = ap.parse_args()
    folders = [w.strip() for w in args.weights.split(",") if w.strip()]
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    shifts = [int(x) for x in args.shifts.split(",")]
    sets: dict[str, dict[str, dict[str, float]]] = {}
    results: dict[str, object] = {"command": "python benchmarks/weights_product.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()), "sets": sets}
    for spec in [d.strip() for d in args.data.split(",") if d.strip()]:
        full = acc.load_spec(spec)
        if full is None:
            continue
        for shift in shifts:
            if shift and any(full.name.startswith(c) for c in IN_CORPUS):  # weekly and monthly sums too
                continue
            ds = earlier(full, shift)
            row: dict[str, dict[str, float]] = {}
            with tempfile.TemporaryDirectory() as work:
                db = acc.warehouse(ds, Path(work))
                for model in models:
                    for folder in folders:
                        fc, run = acc.timed(lambda m=model, f=folder, d=ds, b=db:
                                            acc.product_forecast(d, b, m, {"weights": f}))
                        score = round(acc.wrmsse(ds, fc)["wrmsse"], 4)
                        row[f"{model} [{folder}]"] = {"wrmsse": score, "seconds": run["seconds"]}
                        print(f"{ds.name:22s} cutoff {ds.cutoff.date()}  {model:20s} {folder:45s} "
                              f"WRMSSE {score:.4f}  {run['seconds']:6.1f} s", flush=True)
            sets[f"{ds.name}, cutoff {ds.cutoff.date()}"] = row
            Path(args.out).write_text(json.dumps(results, indent=2))
    # one line per model and weights: the geometric mean of its ratio to the first folder
    summary = {}
    for model in models:
        base = f"{model} [{folders[0]}]"
        for folder in folders[1:]:
            key = f"{model} [{folder}]"
            ratios = [r[key]["wrmsse"] / r[base]["wrmsse"] for r in sets.values() if key in r and base in r]
            if ratios:
                summary[key] = {"geomean_ratio_to_first": round(float(np.exp(np.mean(np.log(ratios)))), 4),
                                "better_on": int(sum(x < 1 for x in ratios)), "sets": len(ratios)}
                print(f"{key}: {summary[key]}", flush=True)
    results["summary_vs_first"] = summary
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
