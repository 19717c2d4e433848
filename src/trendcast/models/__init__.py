"""Stage 4 — models: every forecaster behind one interface (see :mod:`trendcast.models.base`)."""

from trendcast.models.base import Capabilities, Forecaster, quantile_column
from trendcast.models.registry import available_models, make_model

__all__ = ["Capabilities", "Forecaster", "available_models", "make_model", "quantile_column"]
