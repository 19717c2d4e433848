"""Fine-tune the pretrained PatchCast on a shop's own data, and save it as an artefact.

Strategies (what is trained; everything else stays bit-identical):
- ``head``: the task head only (the output MLP) — fastest, hardest to overfit;
- ``head+last``: the head, the final norm and the last ``last_n`` encoder blocks;
- ``full``: every weight;
- ``lora``: low-rank adapters (``peft``) on every attention and MLP ``nn.Linear`` of the
  encoder; merged into the weights after training, the adapter also saved on its own.

Training is seeded: AdamW, linear warm-up then cosine decay, early stopping on a time-based
validation split (the last ``val_h`` steps of every series, never seen in training).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file
from torch import nn

from trendcast.data.periods import panel_freq
from trendcast.errors import ConfigError, InputError
from trendcast.features.frequency import default_horizon, season_length
from trendcast.models.base import ID, TIME, check_long_frame, clearly_better
from trendcast.models.pretrained.data import SeriesArrays, panel_arrays
from trendcast.models.pretrained.model import (
    WEIGHTS_DIR,
    PatchCast,
    load_model,
    pinball_loss,
    training_loss,
)

STRATEGIES = ("head", "head+last", "full", "lora")
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "fc1", "fc2"]
ARTEFACT_FORMAT = 1


class TooShortToFinetune(InputError):
    """No series has room for training windows before its validation window."""

    def __init__(self, val_h: int, needed: int) -> None:
        self.detail = f"no series has the {needed} periods a {val_h}-period validation window needs"
        super().__init__(f"Series are too short to fine-tune: {self.detail}; forecast with patchtst_pretrained "
                         "(zero-shot) instead.")


def apply_strategy(
    model: PatchCast, strategy: str, last_n: int = 1, lora_r: int = 8, lora_alpha: int = 16
) -> nn.Module:
    """Set ``requires_grad`` for ``strategy``; for ``lora`` return the peft-wrapped model."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown fine-tuning strategy '{strategy}'. Choose one of: {', '.join(STRATEGIES)}.")
    model.requires_grad_(strategy == "full")
    if strategy in ("head", "head+last"):
        model.head.requires_grad_(True)
    if strategy == "head+last":
        if not 1 <= last_n <= len(model.blocks):
            raise ConfigError(f"last_n must be between 1 and {len(model.blocks)}; got {last_n}.")
        model.norm.requires_grad_(True)
        for block in model.blocks[-last_n:]:
            block.requires_grad_(True)
    if strategy == "lora":
        from peft import LoraConfig, get_peft_model  # lazy: pulls in transformers

        lcfg = LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=0.0, target_modules=LORA_TARGETS)
        return get_peft_model(model, lcfg)
    return model


# -- windows ---------------------------------------------------------------------------------
class Windows:
    """Training / validation windows cut from right-aligned series arrays."""

    def __init__(self, arrays: SeriesArrays, context: int, horizon: int, val_h: int, season: int = 0) -> None:
        self.c, self.h, self.val_h, self.season = context, horizon, val_h, season
        n, t = arrays.y.shape
        self.t = t
        pad = lambda a, left, right, v: np.pad(  # noqa: E731
            a, [(0, 0), (left, right)] + [(0, 0)] * (a.ndim - 2), constant_values=v
        )
        self.y = pad(arrays.y, context, horizon, np.nan)
        self.fut = pad(arrays.future, context, horizon, 0.0)
        self.past = pad(arrays.past, context, 0, 0.0)
        first = np.argmax(np.isfinite(arrays.y), axis=1)  # first observed column per series
        self.first = first
        self.train_end = t - val_h  # columns >= train_end are validation only
        self.ok = np.flatnonzero(self.train_end - first >= 2 * 8)
        if len(self.ok) == 0:
            raise TooShortToFinetune(val_h, val_h + 16)

    def batch(self, rows: np.ndarray, cuts: np.ndarray, train: bool) -> dict[str, torch.Tensor]:
        c, h = self.c, self.h
        ctx_idx = cuts[:, None] + np.arange(c)[None, :]  # padded coords: context ends at cut
        tgt_idx = cuts[:, None] + c + np.arange(h)[None, :]
        r = rows[:, None]
        ctx = self.y[r, ctx_idx]
        tgt = self.y[r, tgt_idx]
        limit = self.train_end if train else self.t
        mask = np.isfinite(tgt) & ((tgt_idx - c) < limit)
        fut = np.concatenate([self.fut[r, ctx_idx], self.fut[r, tgt_idx]], axis=1)
        return {
            "context": torch.from_numpy(ctx), "future_cov": torch.from_numpy(fut),
            "past_cov": torch.from_numpy(self.past[r, ctx_idx]),
            "target": torch.from_numpy(np.nan_to_num(tgt)), "target_mask": torch.from_numpy(mask),
            "season": torch.full((len(rows),), self.season, dtype=torch.long),
        }

    def sample(self, rng: np.random.Generator, size: int) -> dict[str, torch.Tensor]:
        rows = rng.choice(self.ok, size=size)
        lo = self.first[rows] + 8
        cuts = rng.integers(lo, self.train_end)  # the target starts at column ``cut``
        return self.batch(rows, cuts, train=True)

    def validation(self) -> dict[str, torch.Tensor]:
        rows = self.ok
        return self.batch(rows, np.full(len(rows), self.train_end), train=False)


def _val_losses(model: nn.Module, val: dict[str, torch.Tensor], qs: torch.Tensor, val_h: int) -> np.ndarray:
    """Pinball loss (scaled, averaged over the quantiles) of every observed validation step."""
    model.eval()
    with torch.no_grad():
        pred, _, scale = model(val["context"], None, val["future_cov"], val["past_cov"], season=val["season"])
        mask = val["target_mask"].clone()
        mask[:, val_h:] = False
        return pinball_loss(pred, val["target"], mask, qs, scale, reduce=False)[mask].numpy().astype(float)


def finetune_model(
    model: PatchCast, df: pd.DataFrame, strategy: str = "head", val_h: int | None = None,
    max_steps: int = 200, batch_size: int = 64, lr: float | None = None, warmup_frac: float = 0.1,
    eval_every: int = 20, patience: int = 4, last_n: int = 1, lora_r: int = 8, lora_alpha: int = 16,
    seed: int = 0, use_covariates: bool = True, past_covariates: list[str] | tuple[str, ...] = (),
    max_history: int = 2048, on_step: Callable[[int, int], None] | None = None, season: int | None = None,
    max_seconds: float | None = None, anneal_by_time: bool = False,
) -> tuple[PatchCast, dict[str, Any]]:
    """Fine-tune a copy of ``model`` on the long frame ``df``; returns (model, report).

    ``val_h`` (default: the data's usual horizon, 28 days, 13 weeks or 6 months, at most the
    model's) is held out at the end of every series for early stopping. The learning rate
    defaults to 1e-3 for the head and LoRA and 1e-4 when encoder blocks are trained: at 3e-4
    full fine-tuning moved the pretrained level faster than a shop's data could teach it back
    (held out through the product path, 3e-4 -> 1e-4, mean of two seeds: demo 0.742 -> 0.705,
    M5 0.462 -> 0.362, level on two other windows, Walmart one horizon earlier 0.368 -> 0.404;
    ``benchmarks/finetune_lr.py``).
    ``on_step(step, max_steps)`` reports progress. ``season`` (default: the data's, 7 for days,
    52 for weeks, 12 for months) feeds weights with seasonal inputs. ``max_seconds`` ends the
    training loop once it has run that long (validated there, the best weights so far kept):
    auto mode gives fine-tuning the time its other candidates leave over. ``anneal_by_time``
    decays the learning rate to zero by that time when it comes before ``max_steps``; measured
    through the product path it was no clear gain (better on M5's one series, level on the demo,
    1% worse on Walmart's 2,287: ``benchmarks/finetune_schedule.py``), so the schedule goes by
    steps and a run stopped on time ends mid-decay.
    """
    check_long_frame(df)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    cfg = model.cfg
    val_h = int(val_h or min(cfg.horizon, default_horizon(panel_freq(df))))
    if not 1 <= val_h <= cfg.horizon:
        raise ConfigError(f"Validation horizon must be between 1 and {cfg.horizon}; got {val_h}.")
    lr = lr if lr is not None else (1e-3 if strategy in ("head", "lora") else 1e-4)
    arrays = panel_arrays(df, max_history, use_covariates, list(past_covariates))
    season = season_length(panel_freq(df)) if season is None else season
    win = Windows(arrays, cfg.context_length, cfg.horizon, val_h, season)
    val = win.validation()
    base = copy.deepcopy(model)
    net = apply_strategy(base, strategy, last_n, lora_r, lora_alpha)
    params = [p for p in net.parameters() if p.requires_grad]
    qs = torch.tensor(cfg.quantiles)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warmup = max(1, int(warmup_frac * max_steps))

    def lr_factor(done: int) -> float:
        """Warm-up, then cosine decay to zero at ``max_steps`` (or by ``max_seconds`` if sooner,
        with ``anneal_by_time``)."""
        s = done if max_seconds is None or not anneal_by_time else max(
            done, int(max_steps * min(1.0, (time.perf_counter() - t0) / max(max_seconds, 1e-9))))
        if s < warmup:
            return (s + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (s - warmup) / max(1, max_steps - warmup))))

    base_losses = _val_losses(net, val, qs, val_h)
    before = float(base_losses.mean())
    # the starting point is a candidate too: if no step beats it, we hand back the base weights
    start = {k: t.detach().clone() for k, t in net.state_dict().items()}
    best, best_state, best_losses, bad, history = before, None, base_losses, 0, []
    t0 = time.perf_counter()
    step, stopped = 0, "steps"
    for step in range(1, max_steps + 1):
        net.train()
        b = win.sample(rng, batch_size)
        loss = training_loss(net, b, qs)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        for group in opt.param_groups:
            group["lr"] = lr * lr_factor(step - 1)
        opt.step()
        if on_step is not None:
            on_step(step, max_steps)
        out_of_time = max_seconds is not None and time.perf_counter() - t0 >= max_seconds
        if step % eval_every == 0 or step == max_steps or out_of_time:
            losses = _val_losses(net, val, qs, val_h)
            v = float(losses.mean())
            history.append({"step": step, "train_loss": loss.item(), "val_loss": v})
            if v < best - 1e-6:
                best, bad = v, 0
                best_state, best_losses = {k: t.detach().clone() for k, t in net.state_dict().items()}, losses
            else:
                bad += 1
                if bad >= patience:
                    stopped = "patience"
                    break
        if out_of_time:
            stopped = "time"
            break
    # a gain within the noise keeps the base weights: on a single monthly series six validation
    # months had let noise pick weights that then forecast worse than the base
    if best_state is not None and not clearly_better(best_losses, base_losses):
        best_state, best = None, before
    net.load_state_dict(best_state if best_state is not None else start)
    report: dict[str, Any] = {
        "strategy": strategy, "val_h": val_h, "val_loss_before": before, "val_loss": best,
        "steps": step, "stopped": stopped, "lr": lr, "batch_size": batch_size, "seed": seed, "history": history,
        "trainable_parameters": int(sum(p.numel() for p in params)),
        "train_s": round(time.perf_counter() - t0, 2), "improved": best_state is not None,
        "last_lr": opt.param_groups[0]["lr"],
    }
    if strategy == "lora":
        from peft import get_peft_model_state_dict

        report["adapter"] = {k: v.detach().clone() for k, v in get_peft_model_state_dict(net).items()}
        net = net.merge_and_unload()
    net.requires_grad_(False)
    return net.eval(), report


# -- artefacts ---------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _code_version() -> str:
    try:
        from importlib.metadata import version

        return version("trendcast")
    except Exception:  # noqa: BLE001 - an uninstalled checkout still fine-tunes
        return "unknown"


def save_artefact(model: PatchCast, report: dict[str, Any], df: pd.DataFrame, out: Path, base: Path) -> Path:
    """Write ``model.safetensors``, ``config.json``, ``metadata.json`` (+ ``adapter.safetensors``)."""
    stamp = datetime.now(UTC)
    folder = Path(out) / f"patchcast-{report['strategy'].replace('+', '-')}-{stamp:%Y%m%dT%H%M%S}"
    folder.mkdir(parents=True, exist_ok=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(folder / "model.safetensors"))
    model.cfg.to_json(folder / "config.json")
    adapter = report.pop("adapter", None)
    if adapter:
        save_file({k: v.contiguous() for k, v in adapter.items()}, str(folder / "adapter.safetensors"))
    base_file = next(p for p in (base / "patchcast.safetensors", base / "model.safetensors") if p.exists())
    meta = {
        "format_version": ARTEFACT_FORMAT, "model": "patchcast", "created_at": stamp.isoformat(),
        "code_version": _code_version(), "base_weights": str(base), "base_weights_sha256": _sha256(base_file),
        "data_range": {"start": str(pd.Timestamp(df[TIME].min()).date()), "end": str(pd.Timestamp(df[TIME].max()).date()),
                       "series": int(df[ID].nunique()), "rows": len(df)},
        **{k: v for k, v in report.items()},
    }
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2, default=str))
    return folder


def finetune(
    panel: pd.DataFrame, strategy: str = "head", out: str | Path = "artefacts/finetuned",
    base: str | Path | None = None, **options: Any,
) -> Path:
    """Fine-tune the shipped (or ``base``) weights on ``panel`` and save a versioned artefact.

    Returns the artefact directory; load it with ``PretrainedForecaster(weights=path)`` or
    ``make_model("patchtst_pretrained", weights=path)``.
    """
    base_dir = Path(base) if base is not None else WEIGHTS_DIR
    model, report = finetune_model(load_model(base_dir), panel, strategy=strategy, **options)
    return save_artefact(model, report, panel, Path(out), base_dir)
