"""Which Theta should auto mode run? statsforecast's AutoTheta against two of its single variants.

AutoTheta fits four Theta variants per series and keeps the best in-sample fit; Theta (the M3
winner) and DynamicOptimizedTheta fit one. This study calls statsforecast directly (not the
product path: the candidate auto runs is scored through it by ``accuracy.py``) on each data set
of ``benchmarks/accuracy.py``, at its own frequency and resampled, with the data's season and
statsforecast's process parallelism on every core, and scores the held-out periods with that
benchmark's independent WRMSSE. Seconds are wall time of one ``forecast`` call (the ratio to
AutoTheta's, same run, is what to read on a noisy machine).

    TRENDCAST_SHARED=../shared PYTHONPATH=src .venv/bin/python benchmarks/theta_variants.py

Writes ``benchmarks/results/theta_variants.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy as acc  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SETS = "demo,walmart,m5,demo:W,m5:W,demo:M,walmart:M,m5:M"


def variants(season: int) -> dict[str, object]:
    from statsforecast.models import AutoTheta, DynamicOptimizedTheta, Theta

    return {"AutoTheta": AutoTheta(season_length=season), "Theta": Theta(season_length=season),
            "DynamicOptimizedTheta": DynamicOptimizedTheta(season_length=season)}


def score(ds: acc.Dataset) -> dict[str, dict[str, float]]:
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    panel = acc.training_panel(ds)[[acc.ID, acc.TIME, "y"]]
    out: dict[str, dict[str, float]] = {}
    for name, model in variants(ds.season).items():
        sf = StatsForecast(models=[model], freq=ds.freq, n_jobs=-1, fallback_model=Naive())
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = sf.forecast(df=panel, h=ds.h)
        seconds = time.perf_counter() - start
        fc = fc.rename(columns={fc.columns[-1]: "forecast"}).assign(forecast=lambda d: d["forecast"].clip(lower=0))
        out[name] = {"wrmsse": round(acc.wrmsse(ds, fc)["wrmsse"], 4), "seconds": round(seconds, 2)}
    base = out["AutoTheta"]
    for r in out.values():
        r["wrmsse / AutoTheta"] = round(r["wrmsse"] / base["wrmsse"], 3)
        r["seconds / AutoTheta"] = round(r["seconds"] / max(base["seconds"], 1e-9), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=SETS, help="NAME[:W|M] list (W, M: resampled as in accuracy.py)")
    ap.add_argument("--out", type=Path, default=RESULTS / "theta_variants.json")
    args = ap.parse_args()
    results: dict[str, object] = {}
    for spec in args.data.split(","):
        ds = acc.load_spec(spec)
        if ds is None:
            continue
        n = ds.full[acc.ID].nunique()
        results[ds.name] = {"series": int(n), "season": ds.season, "horizon": ds.h, **score(ds)}
        row = "  ".join(f"{k} {v['wrmsse']:.3f} ({v['seconds']:.1f} s)"
                        for k, v in results[ds.name].items() if isinstance(v, dict))
        print(f"{ds.name:22s} {n:5d} series  {row}", flush=True)
    report = {"command": "TRENDCAST_SHARED=../shared PYTHONPATH=src .venv/bin/python benchmarks/theta_variants.py"
              + ("" if args.data == SETS else f" --data {args.data}"),
              "cpu_count": os.cpu_count(), "results": results}
    args.out.write_text(json.dumps(report, indent=2))
    print("written", args.out)


if __name__ == "__main__":
    main()
