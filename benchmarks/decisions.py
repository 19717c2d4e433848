"""Decision benchmarks: inventory replay, elasticity recovery, cold start, recommendations.

    .venv/bin/python benchmarks/decisions.py               # demo + Walmart (when ../shared has it)
    .venv/bin/python benchmarks/decisions.py --data demo
    .venv/bin/python benchmarks/decisions.py --data walmart

Demo data (bundled shop, ground truth known): inventory replay over the last 91 days (weekly
review, 7-day lead time, 95% target), elasticity and promotion-uplift recovery vs the planted
truth, leave-one-item-out cold start vs the category average, hit rate@10 of recommendations vs
popularity. Walmart (real, weekly store x department sales in dollars, no prices): inventory
replay over the last 13 weeks (1-week lead time and review). The naive policy orders up to the
last 4 weeks' mean x the days of cover (x a safety multiplier; several are run so the forecast
policy can be compared with the naive rule *at the same fill rate*). Writes
benchmarks/results/decisions.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.data.demo import demo_paths
from trendcast.data.warehouse import Warehouse
from trendcast.decide.coldstart import evaluate_cold_start
from trendcast.decide.inventory import InventoryPolicy, ReplayResult, replay_backtest
from trendcast.decide.pricing import ElasticityConfig, estimate_elasticities
from trendcast.decide.recommend import hit_rate
from trendcast.decide.trends import trend_table
from trendcast.settings import shared_file

RESULTS = Path(__file__).resolve().parent / "results" / "decisions.json"
MULTIPLIERS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5)


def demo_warehouse(folder: Path) -> Path:
    """The bundled demo shop in a fresh warehouse (events keep user_id as the token)."""
    path = folder / "demo.duckdb"
    paths = demo_paths()
    with Warehouse(path) as wh:
        for name in ("sales", "products", "inventory", "events"):
            frame = pd.read_csv(paths[name])
            if name == "events":
                frame = frame.rename(columns={"user_id": "user_token"})
            wh.con.register("frame", frame)
            wh.con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM frame")
            wh.con.unregister("frame")
    return path


def compare_policies(results: dict[str, ReplayResult], target: float) -> dict[str, object]:
    """Forecast policy vs the naive rule: raw, and the naive stock needed for the same fill rate."""
    ours = results["forecast policy"]
    naive = sorted(((k, v) for k, v in results.items() if k.startswith("naive")), key=lambda kv: kv[1].fill_rate)
    fills = np.array([v.fill_rate for _, v in naive])
    stocks = np.array([v.avg_stock for _, v in naive])
    if ours.fill_rate <= fills.max():
        equal_fill_stock = float(np.interp(ours.fill_rate, fills, stocks))
        reduction = 1.0 - ours.avg_stock / equal_fill_stock
    else:
        equal_fill_stock, reduction = float("nan"), float("nan")
    plain = results["naive x1"]
    return {
        "policies": {k: v.summary() for k, v in results.items()},
        "target_service_level": target,
        "cycle_service_level_gap_points": round(100 * (ours.cycle_service_level - target), 2),
        "stock_vs_naive_x1": round(1.0 - ours.avg_stock / plain.avg_stock, 4),
        "fill_rate_vs_naive_x1_points": round(100 * (ours.fill_rate - plain.fill_rate), 2),
        "naive_stock_at_same_fill_rate": round(equal_fill_stock, 2),
        "stock_reduction_at_same_fill_rate": round(reduction, 4),
    }


def print_replay(title: str, cmp: dict[str, object]) -> None:
    print(f"\n== {title}")
    print(f"{'policy':18s} {'fill':>7s} {'CSL':>7s} {'avg stock':>12s} {'lost':>10s}")
    for name, s in cmp["policies"].items():
        print(f"{name:18s} {s['fill_rate']:7.3f} {s['cycle_service_level']:7.3f} {s['avg_stock']:12.1f} {s['lost_units']:10.1f}")
    print(
        f"CSL gap to target: {cmp['cycle_service_level_gap_points']:+.2f} pts; stock vs naive x1: "
        f"{-100 * cmp['stock_vs_naive_x1']:+.1f}% at {cmp['fill_rate_vs_naive_x1_points']:+.2f} pts fill; "
        f"vs naive at the same fill rate: {-100 * cmp['stock_reduction_at_same_fill_rate']:+.1f}% stock"
    )


def bench_demo(models: list[str], parts: set[str], out: dict[str, object], measure: str = "cycle") -> dict[str, object]:
    truth = json.loads(demo_paths()["truth"].read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        db = demo_warehouse(Path(tmp))
        with Warehouse(db, read_only=True) as wh:
            panel = wh.sales_panel()
            products = wh.table("products")
            events = wh.table("events")

        policy = InventoryPolicy(lead_time=7, review_period=7, service_level=0.95)
        for model, rho in models_with_rho(models) if "inventory" in parts else []:
            pol = InventoryPolicy(lead_time=7, review_period=7, service_level=0.95, rho=rho, measure=measure)
            start = time.perf_counter()
            res = replay_backtest(panel, pol, holdout=91, model=model, naive_multipliers=MULTIPLIERS, naive_window=28)
            cmp = compare_policies(res, policy.service_level)
            cmp["seconds"] = round(time.perf_counter() - start, 1)
            cmp["rho"], cmp["measure"] = rho, measure
            print_replay(f"demo inventory replay, model {model} (rho {rho}, {measure} service), 91 days, L=7 R=7", cmp)
            out[f"inventory_{model}{'_fill' if measure == 'fill' else ''}"] = cmp

        if "elasticity" not in parts:
            return out
        el = {}
        for method in ("poisson", "ols"):
            start = time.perf_counter()
            est = estimate_elasticities(panel, ElasticityConfig(method=method))
            lift_true = np.expm1(est["item_id"].map(truth["promo_lift"]))
            el[method] = elasticity_scores(est, truth["elasticity"], time.perf_counter() - start)
            rel_lift = (est["promo_uplift"] - lift_true).abs() / lift_true
            el[method]["promo_uplift_median_relative_error"] = round(float(rel_lift.median()), 4)
        out["elasticity"] = el
        print("\n== demo elasticity recovery (truth planted per item)")
        for m, r in el.items():
            print(f"{m:8s} median |err| {r['median_abs_error']:.3f}  median rel err {100 * r['median_relative_error']:.1f}%  within 10%: {100 * r['share_within_10pct']:.0f}%  CI coverage {100 * r['ci95_coverage']:.0f}%  uplift rel err {100 * r['promo_uplift_median_relative_error']:.1f}%")

        start = time.perf_counter()
        cold = evaluate_cold_start(panel, products, days=28, k=5, db=db)
        cold.pop("per_item")
        cold["seconds"] = round(time.perf_counter() - start, 1)
        out["cold_start"] = cold
        print(f"\n== demo cold start (leave one item out, first 28 days, {cold['items']} items; {cold['text_method']})")
        print(f"WAPE similar items + launch curve {cold['wape_similar_items']:.3f}, flat {cold['wape_similar_items_flat']:.3f}, category average {cold['wape_category_average']:.3f}")

        from trendcast.decide.forecasts import fit_forecast

        fc = fit_forecast(panel, 28, (0.5, 0.9), model=None)
        trend = trend_table(panel, fc, min_recent_units=0.0).set_index("item_id")["change_pct"] / 100
        rec = hit_rate(events, k=10, trend=trend, boost=0.2)
        out["recommendations"] = rec
        print(f"\n== demo recommendations ({int(rec['users'])} users, last purchase held out)")
        print(f"hit rate@10: affinity {rec['hit_rate@10_affinity']:.3f}, with trend boost {rec['hit_rate@10_affinity_trend']:.3f}, popularity {rec['hit_rate@10_popularity']:.3f}")
    return out


def price_test_panel(n_items: int = 40, n_stores: int = 2, days: int = 730, seed: int = 7) -> tuple[pd.DataFrame, dict[str, float]]:
    """Generated sales with known elasticities and *regular* price variation.

    Unlike the demo shop (one to three permanent price changes per item, confounded by
    quality incidents and category buzz), this is a shop that moves its regular prices every
    2-6 weeks within +/-25%, as price tests do, with promotions (10-30% cut plus a lift),
    weekly and yearly seasonality, a trend and negative-binomial noise. Returns the panel and
    the true elasticity per item.
    """
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2023-01-01", periods=days, freq="D")
    t = np.arange(days)
    weekly = 1.0 + 0.25 * np.isin(dates.dayofweek, [5, 6])
    yearly = 1.0 + 0.2 * np.cos(2 * np.pi * (dates.dayofyear.to_numpy() - 196) / 365.25)
    truth, frames = {}, []
    for i in range(n_items):
        item, cat = f"P{i:03d}", f"C{i % 5}"
        e = rng.uniform(-2.5, -0.6)
        truth[item] = e
        base = 100.0 * rng.lognormal(0, 0.3)
        regular = np.empty(days)
        s = 0
        while s < days:
            run = int(rng.integers(14, 43))
            regular[s : s + run] = base * np.exp(rng.uniform(np.log(0.8), np.log(1.25)))
            s += run
        promo = np.zeros(days, dtype=np.int8)
        for start in rng.integers(0, days - 7, int(rng.integers(8, 15))):
            promo[start : start + int(rng.integers(3, 8))] = 1
        price = np.round(regular * np.where(promo == 1, 1 - rng.uniform(0.1, 0.3), 1.0), 2)
        mean = rng.lognormal(2.2, 0.6) * np.exp(rng.normal(0, 0.3) * t / 365) * weekly * yearly
        mean = mean * (price / base) ** e * np.exp(rng.uniform(0.15, 0.6) * promo)
        for k in range(n_stores):
            m = mean * rng.uniform(0.6, 1.4)
            y = rng.negative_binomial(5, 5 / (5 + m))
            frames.append(pd.DataFrame({"unique_id": f"S{k + 1}/{item}", "ds": dates, "y": y.astype(float), "item_id": item,
                                        "store_id": f"S{k + 1}", "category": cat, "price": price, "promo": promo}))
    return pd.concat(frames, ignore_index=True), truth


def elasticity_scores(est: pd.DataFrame, truth: dict[str, float], seconds: float) -> dict[str, float]:
    """Median absolute (relative) error, share within 10% and 95% interval coverage vs the truth."""
    e_true = est["item_id"].map(truth)
    err = (est["elasticity"] - e_true).abs()
    rel = err / e_true.abs()
    return {
        "items": int(len(est)),
        "median_abs_error": round(float(err.median()), 4),
        "median_relative_error": round(float(rel.median()), 4),
        "share_within_10pct": round(float((rel <= 0.10).mean()), 4),
        "ci95_coverage": round(float(((est["elasticity_low"] <= e_true) & (e_true <= est["elasticity_high"])).mean()), 4),
        "items_pooled": int((est["basis"] != "item").sum()),
        "seconds": round(seconds, 1),
    }


def bench_price_tests() -> dict[str, object]:
    """Elasticity recovery on :func:`price_test_panel` (the issue's 'generated data' check)."""
    panel, truth = price_test_panel()
    out: dict[str, object] = {"config": "40 items x 2 stores x 730 days, regular price moves every 2-6 weeks within +/-25%"}
    for method in ("poisson", "ols"):
        start = time.perf_counter()
        est = estimate_elasticities(panel, ElasticityConfig(method=method))
        out[method] = elasticity_scores(est, truth, time.perf_counter() - start)
    print("\n== elasticity recovery on generated price-test data (" + out["config"] + ")")
    for m in ("poisson", "ols"):
        r = out[m]
        print(f"{m:8s} median |err| {r['median_abs_error']:.3f}  median rel err {100 * r['median_relative_error']:.1f}% (target <= 10%)  within 10%: {100 * r['share_within_10pct']:.0f}%  CI coverage {100 * r['ci95_coverage']:.0f}%")
    return out


def models_with_rho(models: list[str]) -> list[tuple[str, float]]:
    """``name:rho`` -> (name, rho): the error correlation used when summing daily forecasts.

    Chosen per model (how strongly its daily errors move together): 0.5 for the moving average
    (one level error shared by all days), 0 for seasonal naive (its day-to-day noise is already
    in its wide intervals). Estimating rho from backtest residuals is left for later.
    """
    out = []
    for m in models:
        name, _, rho = m.partition(":")
        out.append((name, float(rho) if rho else 0.5))
    return out


def walmart_panel() -> pd.DataFrame | None:
    path = shared_file("data", "retail", "walmart", "train.csv.gz")
    if path is None:
        return None
    raw = pd.read_csv(path)
    df = pd.DataFrame(
        {
            "unique_id": raw["Store"].astype(str) + "/" + raw["Dept"].astype(str),
            "ds": pd.to_datetime(raw["Date"]),
            "y": raw["Weekly_Sales"].clip(lower=0.0),
        }
    )
    # keep series observed every week (the replay needs a full grid)
    weeks = df["ds"].nunique()
    full = df.groupby("unique_id")["ds"].transform("size") == weeks
    return df[full].sort_values(["unique_id", "ds"]).reset_index(drop=True)


def bench_walmart(models: list[str], measure: str = "cycle") -> dict[str, object] | None:
    panel = walmart_panel()
    if panel is None:
        print("\n(Walmart data not found under ../shared: skipped)")
        return None
    out: dict[str, object] = {"series": int(panel["unique_id"].nunique()), "weeks": int(panel["ds"].nunique())}
    for model, rho in models_with_rho(models):
        params = {"window": 4} if model == "moving_average" else None
        pol = InventoryPolicy(lead_time=1, review_period=1, service_level=0.95, rho=rho, periods_per_year=52, measure=measure)
        start = time.perf_counter()
        res = replay_backtest(panel, pol, holdout=13, model=model, naive_multipliers=MULTIPLIERS, naive_window=4, season_length=52, freq="W-FRI", model_params=params)
        cmp = compare_policies(res, 0.95)
        cmp["seconds"] = round(time.perf_counter() - start, 1)
        cmp["rho"], cmp["measure"] = rho, measure
        print_replay(f"Walmart inventory replay, model {model} (rho {rho}, {measure} service), {out['series']} store-dept series, 13 weeks, L=1w R=1w", cmp)
        out[f"inventory_{model}{'_fill' if measure == 'fill' else ''}"] = cmp
    return out


def same_csl_cut(r: dict[str, object]) -> float:
    """Stock saved vs the naive rule interpolated to the forecast policy's cycle service level."""
    pol = r["policies"]
    naive = sorted((v for k, v in pol.items() if k.startswith("naive")), key=lambda v: v["cycle_service_level"])
    csl = [v["cycle_service_level"] for v in naive]
    ours = pol["forecast policy"]
    if not csl[0] <= ours["cycle_service_level"] <= csl[-1]:
        return float("nan")
    return 1.0 - ours["avg_stock"] / float(np.interp(ours["cycle_service_level"], csl, [v["avg_stock"] for v in naive]))


def verdicts(results: dict[str, object]) -> dict[str, str]:
    """The issue's targets, checked on whatever the results hold (met / missed, with figures)."""
    out: dict[str, str] = {}
    for data in ("demo", "walmart"):
        for key, r in dict(results.get(data, {})).items():
            if not key.startswith("inventory_"):
                continue
            # the policy targets the cycle service level (chance a cycle has no stock-out);
            # the fill rate (share of demand served) is shown beside it
            cut = r["stock_reduction_at_same_fill_rate"]
            ours = r["policies"]["forecast policy"]
            fill, csl = ours["fill_rate"], ours["cycle_service_level"]
            by_fill = r.get("measure") == "fill"
            gap = 100 * ((fill if by_fill else csl) - r["target_service_level"])
            ok = abs(gap) <= 2 and cut == cut and cut >= 0.20
            out[f"{data} {key}"] = (
                f"{'met' if ok else 'missed'}: {'fill rate' if by_fill else 'cycle service level'} {gap:+.2f} pts "
                f"from 95% (target within 2; fill {100 * fill:.1f}%, cycle {100 * csl:.1f}%), stock "
                f"{-100 * cut:+.1f}% vs the naive rule at the same fill rate (target <= -20%); "
                f"{-100 * same_csl_cut(r):+.1f}% at the same cycle service level"
            )
    gen = dict(results.get("generated_price_tests", {})).get("poisson")
    if gen:
        err = gen["median_relative_error"]
        out["elasticity (generated)"] = f"{'met' if err <= 0.10 else 'missed'}: median error {100 * err:.1f}% (target <= 10%)"
    demo = dict(results.get("demo", {}))
    if "elasticity" in demo:
        out["elasticity (demo shop)"] = f"median error {100 * demo['elasticity']['poisson']['median_relative_error']:.1f}% (hard case, see README)"
    if "cold_start" in demo:
        c = demo["cold_start"]
        better = c["wape_similar_items"] < c["wape_category_average"]
        out["cold start"] = f"{'beats' if better else 'does not beat'} the category average: WAPE {c['wape_similar_items']:.3f} vs {c['wape_category_average']:.3f}"
    if "recommendations" in demo:
        r = demo["recommendations"]
        out["recommendations"] = f"hit rate@10 {r['hit_rate@10_affinity']:.3f} vs popularity {r['hit_rate@10_popularity']:.3f}"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", choices=["demo", "walmart", "all", "none"], default="all", help="'none': only re-check the targets on the stored results")
    ap.add_argument("--models", default="moving_average:0.5,seasonal_naive:0", help="comma-separated model:rho for the inventory replay")
    ap.add_argument("--parts", default="inventory,elasticity", help="demo parts: inventory and/or elasticity (which also runs cold start and recommendations)")
    ap.add_argument("--measure", choices=["cycle", "fill"], default="cycle", help="read the 95%% target as a cycle service level or a fill rate")
    args = ap.parse_args(argv)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    results: dict[str, object] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.data in ("demo", "all"):
        results["demo"] = bench_demo(models, set(args.parts.split(",")), dict(results.get("demo", {})), args.measure)
    if args.data in ("demo", "all") and "elasticity" in args.parts:
        results["generated_price_tests"] = bench_price_tests()
    if args.data in ("walmart", "all"):
        wal = bench_walmart(models, args.measure)
        if wal is not None:
            results["walmart"] = {**dict(results.get("walmart", {})), **wal}
    results["targets"] = verdicts(results)
    print("\n== targets")
    for name, line in results["targets"].items():
        print(f"{name:32s} {line}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1, default=float))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
