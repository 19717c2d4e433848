"""Every model by name. Adding a model is one file in this package plus one line here.

Entries are ``"module:Class"`` strings so importing the registry never imports torch or
LightGBM; :func:`make_model` imports the one asked for.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from trendcast.errors import ConfigError
from trendcast.models.base import Forecaster

MODELS: dict[str, str] = {
    # name: "trendcast.models.<module>:<Class>"
    "patchtst_pretrained": "trendcast.models.pretrained.forecaster:PretrainedForecaster",
    "patchtst_finetuned": "trendcast.models.pretrained.forecaster:FinetunedForecaster",
    "chronos_bolt_local": "trendcast.models.pretrained.chronos_bolt:ChronosBoltLocal",
    "auto": "trendcast.evaluate.selection:AutoForecaster",
    "naive": "trendcast.models.statistical:NaiveModel",
    "seasonal_naive": "trendcast.models.statistical:SeasonalNaiveModel",
    "moving_average": "trendcast.models.statistical:MovingAverageModel",
    "auto_ets": "trendcast.models.statistical:AutoETSModel",
    "auto_arima": "trendcast.models.statistical:AutoARIMAModel",
    "auto_theta": "trendcast.models.statistical:AutoThetaModel",
    "dynamic_theta": "trendcast.models.statistical:DynamicThetaModel",
    "mstl": "trendcast.models.statistical:MSTLModel",
    "croston": "trendcast.models.statistical:CrostonModel",
    "tsb": "trendcast.models.statistical:TSBModel",
    "adida": "trendcast.models.statistical:ADIDAModel",
    "imapa": "trendcast.models.statistical:IMAPAModel",
    "lightgbm": "trendcast.models.gbm:LightGBMModel",
    "lstm": "trendcast.models.deep:LSTMModel",
    "tcn": "trendcast.models.deep:TCNModel",
    "transformer": "trendcast.models.deep:TransformerModel",
    "ensemble": "trendcast.evaluate.ensemble:EnsembleModel",
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


WEIGHTS_MODELS = ("patchtst_pretrained", "patchtst_finetuned")  # the latter fine-tunes from them


def weights_params(model: str, weights: str | Path | None) -> dict[str, object]:
    """``{"weights": DIR}`` for ``--weights DIR`` (a `trendcast finetune` artefact or a weights
    folder), checked up front so a typo fails before any fitting; ``{}`` without weights."""
    if weights is None:
        return {}
    if model not in WEIGHTS_MODELS:
        raise ConfigError(f"--weights only applies to {', '.join(WEIGHTS_MODELS)}; use "
                          f"--model patchtst_pretrained --weights {weights} (got --model {model}).")
    folder = Path(weights).expanduser()
    if not (folder / "config.json").is_file():
        raise ConfigError(f"{folder} is not a PatchCast weights folder (no config.json): pass the folder "
                          "`trendcast finetune` wrote.")
    return {"weights": str(folder.resolve())}
