"""trendcast: forecast what an online shop will sell, how much, and why.

The Python API mirrors the command line, one function per command::

    import trendcast as tc
    tc.ingest("shop.duckdb", sales="sales.csv", products="products.csv")
    tc.build_signals("shop.duckdb")
    fc = tc.forecast("shop.duckdb", h=28, model="auto", quantiles=[0.1, 0.5, 0.9])

Names are imported on first use (PEP 562), so ``import trendcast`` stays fast and does not load
torch, LightGBM or Spark until a function that needs them is called.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pandas as pd

__version__ = "0.1.0"

# pandas Copy-on-Write, the only mode from pandas 3.0: selecting, dropping and re-indexing columns
# share memory until written, instead of copying every row. On a shop of 5,000 daily series the
# frames pass through a dozen such steps; copying each cost gigabytes (see README, scaling).
pd.set_option("mode.copy_on_write", True)

# public name -> "module:attribute"; the pipeline order: data, text, models, evaluate, decide, ...
API: dict[str, str] = {
    "ingest": "trendcast.data.ingest:ingest",
    "Warehouse": "trendcast.data.warehouse:Warehouse",
    "generate_demo": "trendcast.data.demo:generate_demo",
    "score_texts": "trendcast.text.sentiment:score_texts",
    "build_signals": "trendcast.text.signals:build_signals",
    "hotspots": "trendcast.text.hotspots:hotspots",
    "make_model": "trendcast.models.registry:make_model",
    "available_models": "trendcast.models.registry:available_models",
    "finetune": "trendcast.models.pretrained.finetune:finetune",
    "forecast": "trendcast.forecasting:forecast",
    "backtest": "trendcast.forecasting:backtest",
    "plot_forecasts": "trendcast.evaluate.plots:plot_forecasts",
    "plan_inventory": "trendcast.decide.workflows:plan_inventory",
    "price_recommendations": "trendcast.decide.workflows:price_recommendations",
    "promo_uplifts": "trendcast.decide.workflows:promo_uplifts",
    "new_product": "trendcast.decide.workflows:new_product",
    "trends": "trendcast.decide.workflows:trends",
    "alerts": "trendcast.decide.workflows:alerts",
    "recommendations": "trendcast.decide.workflows:recommendations",
    "update": "trendcast.engine.learn:update",
    "build_report": "trendcast.report:build_report",
    "write_copy": "trendcast.report.copywriting:write_copy",
    "create_app": "trendcast.api:create_app",
    "run_demo": "trendcast.pipeline:run_demo",
}

__all__ = [*API, "__version__"]


def __getattr__(name: str) -> Any:
    try:
        module, attr = API[name].split(":")
    except KeyError:
        raise AttributeError(f"module 'trendcast' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
