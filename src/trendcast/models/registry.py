"""Every model by name. Adding a model is one file in this package plus one line here.

Entries are ``"module:Class"`` strings so importing the registry never imports torch or
LightGBM; :func:`make_model` imports the one asked for.
"""

from __future__ import annotations

from importlib import import_module

from trendcast.errors import ConfigError
from trendcast.models.base import Forecaster

MODELS: dict[str, str] = {
    # name: "trendcast.models.<module>:<Class>"   (filled in as model files land)
}


def available_models() -> list[str]:
    return sorted(MODELS)


def model_class(name: str) -> type[Forecaster]:
    try:
        module, cls = MODELS[name].split(":")
    except KeyError:
        raise ConfigError(
            f"Unknown model '{name}'. Choose one of: {', '.join(available_models())}."
        ) from None
    return getattr(import_module(module), cls)


def make_model(name: str, **params: object) -> Forecaster:
    """Instantiate a registered model, e.g. ``make_model("lightgbm", season_length=7)``."""
    return model_class(name)(**params)
