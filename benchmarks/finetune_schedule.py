"""Fine-tuning stopped on time: learning rate decayed by the time limit against by steps only.

Auto gives the fine-tuned PatchCast the seconds its other candidates leave over
(``max_seconds``); with a cosine schedule set by ``max_steps`` alone, a run stopped on time
ends mid-schedule at a high learning rate. This forecasts each data set's held-out periods
through the product path (``trendcast.forecast(model="patchtst_finetuned")`` on a fresh
warehouse, as ``benchmarks/accuracy.py`` does) with the same ``max_seconds`` both ways and
scores them with accuracy.py's independent WRMSSE. Time-capped runs differ from machine to
machine (the steps done in the time, and so whether the tuned weights beat the starting ones
by more than their noise), so both schedules run back to back in one process, with several
fine-tuning seeds; the mean over the seeds is compared.

    TRENDCAST_SHARED=../shared PYTHONPATH=src .venv/bin/python benchmarks/finetune_schedule.py \\
        --data m5,demo,walmart --seconds 6,12 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import accuracy as acc
import numpy as np

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="demo", help="comma-separated: demo, m5, walmart")
    ap.add_argument("--seconds", default="6,12", help="comma-separated max_seconds of training a fit")
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated fine-tuning seeds")
    ap.add_argument("--out", default=str(RESULTS / "finetune_schedule.json"))
    args = ap.parse_args()
    caps = [float(c) for c in args.seconds.split(",")]
    seeds = [int(c) for c in args.seeds.split(",")]
    results: dict[str, dict[str, object]] = {}
    for name in [d.strip() for d in args.data.split(",") if d.strip()]:
        ds = acc.load(name)
        if ds is None:
            continue
        with tempfile.TemporaryDirectory() as work:
            db = acc.warehouse(ds, Path(work))
            for cap in caps:
                row: dict[str, object] = {}
                for label, by_time in (("by steps", False), ("by time", True)):
                    runs = []
                    for seed in seeds:
                        params = {"max_seconds": cap, "seed": seed, "finetune_options": {"anneal_by_time": by_time}}
                        fc, run = acc.timed(lambda p=params, d=ds, b=db: acc.product_forecast(d, b, "patchtst_finetuned", p))
                        runs.append({"seed": seed, "wrmsse": round(acc.wrmsse(ds, fc)["wrmsse"], 4), **run})
                    row[label] = {"mean_wrmsse": round(float(np.mean([r["wrmsse"] for r in runs])), 4), "runs": runs}
                steps, timed = (row[k] for k in ("by steps", "by time"))
                row["by time / by steps"] = round(timed["mean_wrmsse"] / steps["mean_wrmsse"], 3)  # type: ignore[index]
                row["seeds better by time"] = sum(  # type: ignore[index]
                    t["wrmsse"] < s["wrmsse"] for s, t in zip(steps["runs"], timed["runs"], strict=True))
                results[f"{ds.name}, {cap:g} s"] = row
                print(f"{ds.name:10s} {cap:4g} s  mean WRMSSE by steps {steps['mean_wrmsse']:.3f}  "  # type: ignore[index]
                      f"by time {timed['mean_wrmsse']:.3f}  ratio {row['by time / by steps']:.3f}  "  # type: ignore[index]
                      f"better by time on {row['seeds better by time']} of {len(seeds)} seeds", flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
