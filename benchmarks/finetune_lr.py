"""Fine-tuning's learning rate: PatchCast fine-tuned at several rates, through the product path.

Full fine-tuning of a pretrained model moves every weight; too large a step and the first
hundred steps tear the pretrained level and profile apart faster than a shop's few hundred
series can teach them back, and the seed decides nearly as much as the data. This
forecasts each data set's held-out periods with ``trendcast.forecast(model="patchtst_finetuned")``
on a fresh warehouse (as ``benchmarks/accuracy.py`` does), at each ``--lrs`` rate and seed,
from the benchmark's cutoff and from ``--shifts`` horizons earlier (another held-out window of
the same shop, so a rate is not chosen on one window), and scores them with accuracy.py's
independent WRMSSE. M5's earlier windows are in PatchCast's pretraining corpus, so M5 is
scored from its benchmark cutoff only.

    TRENDCAST_SHARED=../shared PYTHONPATH=src .venv/bin/python benchmarks/finetune_lr.py \\
        --data demo,walmart,m5 --lrs 3e-4,1e-4,5e-5 --seeds 0,1 --shifts 0,1
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import accuracy as acc
import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
IN_CORPUS = {"m5_level1"}  # earlier windows were pretraining data: no fair earlier cutoff


def earlier(ds: acc.Dataset, shift: int) -> acc.Dataset:
    """The same shop with its last ``shift`` horizons removed: the held-out window moves back."""
    if shift == 0:
        return ds
    last = ds.sales["date"].max() - pd.tseries.frequencies.to_offset(ds.freq) * (ds.h * shift)
    return acc.Dataset(ds.name, ds.sales[ds.sales["date"] <= last], ds.products, ds.freq, ds.season, ds.h,
                       ds.notes, ds.given_extra, ds.country)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="demo", help="comma-separated: demo, m5, walmart")
    ap.add_argument("--lrs", default="3e-4,1e-4,5e-5", help="comma-separated learning rates")
    ap.add_argument("--seeds", default="0,1", help="comma-separated fine-tuning seeds")
    ap.add_argument("--shifts", default="0,1", help="cutoffs: 0 = the benchmark's, k = k horizons earlier")
    ap.add_argument("--out", default=str(RESULTS / "finetune_lr.json"))
    args = ap.parse_args()
    lrs = [float(x) for x in args.lrs.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    shifts = [int(x) for x in args.shifts.split(",")]
    results: dict[str, dict[str, object]] = {}
    for name in [d.strip() for d in args.data.split(",") if d.strip()]:
        full = acc.load(name)
        if full is None:
            continue
        for shift in shifts:
            if shift and full.name in IN_CORPUS:
                continue
            ds = earlier(full, shift)
            row: dict[str, object] = {"cutoff": str(ds.cutoff.date())}
            with tempfile.TemporaryDirectory() as work:
                db = acc.warehouse(ds, Path(work))
                for lr in lrs:
                    runs = []
                    for seed in seeds:
                        params = {"seed": seed, "finetune_options": {"lr": lr}}
                        fc, run = acc.timed(lambda p=params, d=ds, b=db: acc.product_forecast(d, b, "patchtst_finetuned", p))
                        runs.append({"seed": seed, "wrmsse": round(acc.wrmsse(ds, fc)["wrmsse"], 4), **run})
                    mean = round(float(np.mean([r["wrmsse"] for r in runs])), 4)
                    row[f"lr {lr:g}"] = {"mean_wrmsse": mean, "runs": runs}
                    print(f"{ds.name:10s} cutoff {ds.cutoff.date()}  lr {lr:<8g} mean WRMSSE {mean:.4f}  "
                          f"seeds {[r['wrmsse'] for r in runs]}", flush=True)
            results[f"{full.name}, cutoff {ds.cutoff.date()}"] = row
            Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
