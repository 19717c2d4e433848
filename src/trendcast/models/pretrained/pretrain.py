"""Seeded, resumable pretraining of :class:`PatchCast` on the :mod:`corpus` mixture.

    python -m trendcast.models.pretrained.pretrain --out runs/v2 --steps 60000 --threads 1 \
        --point-head --max-minutes 60          # stops cleanly after an hour, checkpointed
    python -m trendcast.models.pretrained.pretrain --out runs/v2 --resume   # ... and goes on

Every ``--log-every`` steps it validates (pinball per source and frequency, and the bias of
the *sum* of many series' point forecasts, where per-series biases add up) and writes, into
``--out``: ``patchcast.safetensors`` + ``config.json`` (loadable weights), ``checkpoint.pt``
(optimiser and sampler state for ``--resume``) and ``training.json`` (corpus, every run
segment with its steps, wall time and hardware, the validation history): what the model card
quotes. Ctrl-C / SIGTERM / ``--max-minutes`` end after the current step with a checkpoint.
The same command runs on a GPU (``--device cuda``) unchanged.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from trendcast.errors import ConfigError, NotReadyError
from trendcast.models.pretrained.corpus import (
    FREQS,
    SHIPPED_SOURCES,
    Corpus,
    build_corpus,
    sample_batch,
    sample_panel,
)
from trendcast.models.pretrained.model import (
    WEIGHTS_DIR,
    PatchCast,
    PatchCastConfig,
    count_parameters,
    load_model,
    pinball_loss,
    point_forecast,
    training_loss,
)

WEIGHTS_FILE, CONFIG_FILE, CHECKPOINT_FILE = "patchcast.safetensors", "config.json", "checkpoint.pt"


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warm-up then cosine decay to 5% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def to_tensors(batch: dict[str, Any], device: str = "cpu") -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v).to(device, non_blocking=True) for k, v in batch.items()}


class _WorkerBatches(torch.utils.data.IterableDataset):
    """Training batches drawn in DataLoader worker processes, each with its own stream.

    Why: on a GPU the small model steps faster than one CPU core can draw windows, so the
    sampler, not the GPU, set the pace. Each worker inherits the corpus (and the main
    process's demand pool) and renews it with a generator seeded by ``(seed, first step,
    worker)``: a resumed run draws fresh streams, so only ``workers=0`` resumes bit for bit.
    """

    def __init__(self, corpus: Corpus, seed: int, first_step: int, batch_size: int, context: int,
                 horizon: int, renew_per_step: int) -> None:
        self.corpus, self.seed, self.first_step = corpus, seed, first_step
        self.batch_size, self.context, self.horizon, self.renew = batch_size, context, horizon, renew_per_step

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng([self.seed, self.first_step, info.id if info is not None else 0])
        return _stream(self.corpus, rng, self.batch_size, self.context, self.horizon, self.renew)


def _stream(corpus: Corpus, rng: np.random.Generator, batch_size: int, context: int, horizon: int,
            renew_per_step: int) -> Iterator[dict[str, np.ndarray]]:
    """Renew a few pooled demand series, draw a batch; forever."""
    while True:
        corpus.renew(rng, renew_per_step, context, horizon)
        yield sample_batch(corpus, rng, batch_size, context, horizon)


def _batches(corpus: Corpus, rng: np.random.Generator, workers: int, seed: int, first_step: int,
             batch_size: int, cfg: PatchCastConfig, renew_per_step: int,
             device: str) -> Iterator[dict[str, Any]]:
    """Endless training batches: in this process from ``rng`` (``workers=0``, exactly
    resumable) or from ``workers`` sampler processes."""
    if workers <= 0:
        yield from _stream(corpus, rng, batch_size, cfg.context_length, cfg.horizon, renew_per_step)
        return
    data = _WorkerBatches(corpus, seed, first_step, batch_size, cfg.context_length, cfg.horizon, renew_per_step)
    yield from torch.utils.data.DataLoader(data, batch_size=None, num_workers=workers, prefetch_factor=4,
                                           pin_memory=device.startswith("cuda"))


def save_weights(model: PatchCast, out: Path) -> None:
    """Write ``patchcast.safetensors`` + ``config.json``: the layout :func:`load_model` reads."""
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(out / (WEIGHTS_FILE + ".tmp")))
    (out / (WEIGHTS_FILE + ".tmp")).replace(out / WEIGHTS_FILE)
    model.cfg.to_json(out / CONFIG_FILE)


def init_from(model: PatchCast, folder: Path) -> dict[str, Any]:
    """Start from other PatchCast weights: every tensor of the same shape is copied.

    When ``model`` has a point head and the source has not, the head's output rows are
    rebuilt: the quantile rows copied, the point row set to their mean (so the point head
    starts as the mean of the quantile curve, the old point forecast).
    """
    src_cfg = PatchCastConfig.from_json(folder / CONFIG_FILE)
    src = load_file(str(folder / WEIGHTS_FILE))
    own = model.state_dict()
    q, p = len(model.cfg.quantiles), model.cfg.patch_length
    copied, rebuilt = 0, []
    for name, tensor in src.items():
        if name not in own:
            continue
        if own[name].shape == tensor.shape:
            own[name] = tensor.clone()
            copied += 1
        elif (name.startswith("head.out.") or name.startswith("head.skip.")) and model.cfg.point_head \
                and not src_cfg.point_head and tensor.shape[0] == p * q:
            old = tensor.view(p, q, *tensor.shape[1:])
            own[name] = torch.cat([old, old.mean(1, keepdim=True)], dim=1).reshape(own[name].shape)
            rebuilt.append(name)
    model.load_state_dict(own)
    record: dict[str, Any] = {"from": str(folder), "tensors_copied": copied, "head_rows_rebuilt": rebuilt}
    meta = folder / "training.json"
    if meta.exists():
        prev = json.loads(meta.read_text())
        record["previous"] = {k: prev.get(k) for k in ("steps", "train_s", "corpus", "threads", "hardware",
                                                       "final_val_loss", "init", "runs")}
    return record


def drop_point_head(folder: Path, out: Path) -> PatchCastConfig:
    """Write ``folder``'s weights without the point head into ``out``: the same quantiles,
    and the point forecast becomes their mean again.

    Why: measured on real held-out sales (model card), the squared-error point head forecast
    worse than the mean of the quantiles it was trained beside.
    """
    cfg = PatchCastConfig.from_json(Path(folder) / CONFIG_FILE)
    if not cfg.point_head:
        raise ConfigError(f"The weights in {folder} have no point head to drop.")
    state = load_file(str(Path(folder) / WEIGHTS_FILE))
    p, q = cfg.patch_length, len(cfg.quantiles)
    for name in ("head.out.weight", "head.out.bias", "head.skip.weight", "head.skip.bias"):
        t = state[name]
        state[name] = t.view(p, q + 1, *t.shape[1:])[:, :q].reshape(p * q, *t.shape[1:]).contiguous()
    new = replace(cfg, point_head=False)
    model = PatchCast(new)
    model.load_state_dict(state)
    save_weights(model, Path(out))
    return new


# -- validation ------------------------------------------------------------------------------
def validation_sets(corpus: Corpus, seed: int, cfg: PatchCastConfig, n: int = 256,
                    panel_size: int = 32) -> dict[str, Any]:
    """Fixed validation batches (their own rng): ``n`` windows per source and demand frequency,
    plus ``n / 16`` panels of ``panel_size`` series per frequency for the aggregate bias."""
    panels = max(2, n // 16)
    rng = np.random.default_rng(seed + 1_000_003)
    c, h = cfg.context_length, cfg.horizon
    sets: dict[str, Any] = {f"demand_{f}": sample_batch(corpus, rng, n, c, h, "demand", f) for f in FREQS}
    sets["gp"] = sample_batch(corpus, rng, n, c, h, "gp")
    for src in sorted({r.source for r in corpus.real}):
        sets[src] = sample_batch(corpus, rng, n, c, h, src)
    for f in FREQS:
        sets[f"panels_{f}"] = [sample_panel(rng, panel_size, f, c, h) for _ in range(panels)]
    return sets


@torch.no_grad()
def evaluate(model: PatchCast, sets: dict[str, Any], device: str = "cpu") -> dict[str, float]:
    """Pinball loss (scaled units) per validation set; for panels the relative bias and
    absolute error of the summed point forecast against the summed actuals."""
    model.eval()
    qs = torch.tensor(model.cfg.quantiles, device=device)
    out: dict[str, float] = {}
    for name, data in sets.items():
        if name.startswith("panels_"):
            biases = []
            for panel in data:
                b = to_tensors(panel, device)
                q, mean, _, _ = model(b["context"], None, b["future_cov"], b["past_cov"], return_mean=True,
                                      season=b["season"])
                point = point_forecast(q, mean)
                nonneg = (torch.nan_to_num(b["context"], nan=0.0) >= 0).all(-1, keepdim=True)
                point = torch.where(nonneg, point.clamp_min(0.0), point)
                m = b["target_mask"].float()
                actual = (b["target"] * m).sum()
                biases.append(float(((point * m).sum() - actual) / actual.clamp_min(1.0)))
            out[f"{name}_bias"] = float(np.mean(biases))
            out[f"{name}_abs"] = float(np.mean(np.abs(biases)))
        else:
            b = to_tensors(data, device)
            q, _, scale = model(b["context"], None, b["future_cov"], b["past_cov"], season=b["season"])
            out[name] = float(pinball_loss(q, b["target"], b["target_mask"], qs, scale))
    pinballs = [v for k, v in out.items() if not k.startswith("panels_")]
    out["mean_pinball"] = float(np.mean(pinballs))
    out["mean_panel_abs_bias"] = float(np.mean([v for k, v in out.items() if k.endswith("_abs")]))
    return out


# -- the loop --------------------------------------------------------------------------------
class _Stop:
    """Set by SIGINT/SIGTERM: finish the step, checkpoint, leave."""

    requested = False

    @classmethod
    def install(cls) -> None:
        def handler(signum: int, frame: object) -> None:  # noqa: ARG001
            cls.requested = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, handler)


def _hardware(threads: int, device: str) -> str:
    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"{platform.processor() or platform.machine()}, {threads} CPU threads (shared machine), torch {torch.__version__}"


def pretrain(
    out: Path = WEIGHTS_DIR, steps: int = 1500, batch_size: int = 64, lr: float = 1e-3,
    seed: int = 0, threads: int = 1, log_every: int = 25, cfg: PatchCastConfig | None = None,
    sources: tuple[str, ...] = SHIPPED_SOURCES, n_gp: int = 1000, resume: bool = False,
    init: Path | None = None, max_minutes: float | None = None, device: str = "cpu",
    val_windows: int = 256, renew_per_step: int = 8, segment_steps: int | None = None,
    fit_to_time: bool = False, workers: int = 0, festival_share: float = 0.0, yearly_share: float = 0.0,
    flag_drop: float = 0.0,
) -> dict[str, Any]:
    """Train (or, with ``resume``, continue) and checkpoint into ``out``; returns training.json.

    ``max_minutes`` (or ``segment_steps``) bounds this segment; the learning-rate schedule
    follows the planned ``steps``, so a run stopped and resumed ends exactly like an
    uninterrupted one (same weights, bit for bit, on the same machine). With ``fit_to_time``
    the plan shrinks, at every validation, to the steps the measured pace allows before the
    ``max_minutes`` deadline, so a run on a busy shared machine still ends fully annealed;
    during the warm-up it may also grow the plan, so a fast machine (a GPU) uses its time.
    ``workers`` draws batches in that many sampler processes (see :class:`_WorkerBatches`);
    ``festival_share`` of the synthetic demand series get unannounced yearly festivals,
    ``yearly_share`` of the weekly and monthly ones a yearly profile of any shape, and
    ``flag_drop`` of the real series' windows come without their holiday flags.
    """
    torch.set_num_threads(threads)
    out = Path(out)
    ckpt_path = out / CHECKPOINT_FILE
    ckpt: dict[str, Any] | None = None
    if resume:
        if not ckpt_path.exists():
            raise NotReadyError(f"Nothing to resume: {ckpt_path} does not exist.")
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        cfg = PatchCastConfig(**ckpt["config"])
        seed, batch_size, lr, n_gp = ckpt["seed"], ckpt["batch_size"], ckpt["peak_lr"], ckpt["n_gp"]
        sources = tuple(ckpt["real_sources"])
        festival_share, yearly_share = ckpt.get("festival_share", 0.0), ckpt.get("yearly_share", 0.0)
        flag_drop = ckpt.get("flag_drop", 0.0)
        steps = steps or ckpt["planned_steps"]  # a new plan (longer or shorter) reshapes the decay
    cfg = cfg or PatchCastConfig()
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    corpus = build_corpus(seed=seed, n_gp=n_gp, sources=sources,
                          gp_pool=ckpt.get("gp_pool") if ckpt is not None else None,
                          festival_share=festival_share, yearly_share=yearly_share, flag_drop=flag_drop)
    corpus_s = time.perf_counter() - t0
    print(f"corpus built in {corpus_s:.0f}s: {json.dumps(corpus.summary())}", flush=True)
    model = PatchCast(cfg)
    init_record = None
    if init is not None and ckpt is None:
        init_record = init_from(model, Path(init))
    model.to(device)
    cuda = device.startswith("cuda")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, fused=cuda or None)
    qs = torch.tensor(cfg.quantiles, device=device)
    rng = np.random.default_rng(seed)
    history: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    first_step = 0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        rng.bit_generator.state = ckpt["rng"]
        corpus.demand_pool = ckpt["demand_pool"]
        history, runs, first_step = ckpt["history"], ckpt["runs"], ckpt["step"]
        init_record = ckpt.get("init")
    if first_step >= steps:
        raise ConfigError(f"The run in {out} already did {first_step} of {steps} steps; pass a larger --steps.")
    corpus.renew(rng, 0, cfg.context_length, cfg.horizon)
    val = validation_sets(corpus, seed, cfg, val_windows)
    segment = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "from_step": first_step,
               "threads": threads, "workers": workers, "batch_size": batch_size, "device": device,
               "hardware": _hardware(threads, device),
               "command": " ".join(sys.argv) if sys.argv and sys.argv[0].endswith("pretrain.py") else None}
    runs.append(segment)
    warmup = max(1, steps // 20)
    deadline = time.perf_counter() + 60 * max_minutes if max_minutes else math.inf
    _Stop.requested = False
    t1 = time.perf_counter()
    plan_changes: list[dict[str, int]] = ckpt.get("plan_changes", []) if ckpt is not None else []
    running, n_running = 0.0, 0
    record: dict[str, Any] = {}
    step = first_step
    batches = _batches(corpus, rng, workers, seed, first_step, batch_size, cfg, renew_per_step, device)
    while step < steps:
        model.train()
        b = to_tensors(next(batches), device)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, lr, warmup)
        loss = training_loss(model, b, qs)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        running, n_running = running + loss.item(), n_running + 1
        stopping = _Stop.requested or time.perf_counter() > deadline or (
            segment_steps is not None and step - first_step >= segment_steps)
        if step % log_every == 0 or step == steps or stopping:
            metrics = evaluate(model, val, device)
            if fit_to_time and math.isfinite(deadline):
                pace = (time.perf_counter() - t1) / max(1, step - first_step)
                reachable = step + int((deadline - time.perf_counter()) / pace)
                if reachable < steps or step <= warmup:
                    steps = max(step + 1, reachable)
                    plan_changes.append({"at_step": step, "planned_steps": steps})
            rec = {"step": step, "train_loss": running / n_running, "val_loss": metrics["mean_pinball"],
                   "elapsed_s": round(sum(r.get("seconds", 0.0) for r in runs[:-1]) + time.perf_counter() - t1, 1),
                   "validation": metrics}
            history.append(rec)
            running, n_running = 0.0, 0
            print(json.dumps({k: v for k, v in rec.items() if k != "validation"} | {
                "agg_abs_bias": round(metrics["mean_panel_abs_bias"], 4)}), flush=True)
            segment.update(to_step=step, seconds=round(time.perf_counter() - t1, 1),
                           ended=datetime.now(UTC).isoformat(timespec="seconds"))
            record = {
                "config": asdict(cfg), "parameters": count_parameters(model),
                "steps": step, "planned_steps": steps, "completed": step >= steps,
                "batch_size": batch_size, "peak_lr": lr, "seed": seed, "n_gp": n_gp,
                "real_sources": list(sources), "corpus": corpus.summary(),
                "corpus_build_s": round(corpus_s, 1), "train_s": rec["elapsed_s"], "threads": threads,
                "hardware": segment["hardware"], "init": init_record, "runs": runs,
                "plan_changes": plan_changes,
                "final_val_loss": rec["val_loss"], "final_validation": metrics, "history": history,
            }
            save_weights(model, out)
            torch.save({**{k: record[k] for k in ("config", "seed", "batch_size", "peak_lr", "n_gp",
                                                     "real_sources", "history", "runs", "init",
                                                     "plan_changes")},
                        "step": step, "planned_steps": steps, "festival_share": festival_share,
                        "yearly_share": yearly_share, "flag_drop": flag_drop, "model": model.state_dict(),
                        "optimizer": opt.state_dict(), "rng": rng.bit_generator.state,
                        "demand_pool": corpus.demand_pool, "gp_pool": corpus.gp_pool},
                       out / (CHECKPOINT_FILE + ".tmp"))
            (out / (CHECKPOINT_FILE + ".tmp")).replace(ckpt_path)
            (out / "training.json").write_text(json.dumps(record, indent=2, default=str))
            if stopping:
                print(f"stopped at step {step} of {steps}; continue with --resume", flush=True)
                break
    return record


def training_markdown(record: dict[str, Any]) -> str:
    """The model card's record of a run, from its ``training.json``: every run segment (and
    the run it started from) and the validation curve per source, frequency and aggregate."""
    lines = ["| segment | steps | wall time | threads / device | hardware |", "|---|---|---|---|---|"]
    prev = (record.get("init") or {}).get("previous")
    if prev:
        lines.append(f"| initial weights (earlier recipe) | 0 -> {prev.get('steps')} | {prev.get('train_s')} s | "
                     f"{prev.get('threads')} thread(s) | {prev.get('hardware')} |")
    for r in record.get("runs", []):
        lines.append(f"| {r.get('started')} | {r.get('from_step')} -> {r.get('to_step')} | {r.get('seconds')} s | "
                     f"{r.get('threads')} / {r.get('device')} | {r.get('hardware')} |")
    hist = record.get("history", [])
    if hist:
        keys = [k for k in hist[-1].get("validation", {}) if not k.startswith("mean_")]
        lines += ["", "| step | train loss | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
        for h in hist:
            v = h.get("validation", {})
            lines.append(f"| {h['step']} | {h['train_loss']:.3f} | " + " | ".join(
                f"{v[k]:+.3f}" if k.endswith("_bias") else f"{v[k]:.3f}" for k in keys if k in v) + " |")
    return "\n".join(lines)


def compare(folders: list[Path], seed: int = 0, n_gp: int = 1000, sources: tuple[str, ...] = SHIPPED_SOURCES,
            checkpoint: Path | None = None, val_windows: int = 256) -> dict[str, dict[str, float]]:
    """Score several weights folders on the same validation sets a run with ``seed`` uses
    (``checkpoint``: reuse that run's KernelSynth pool instead of redrawing it)."""
    pool = None
    if checkpoint is not None and checkpoint.exists():
        pool = torch.load(checkpoint, map_location="cpu", weights_only=False).get("gp_pool")
    corpus = build_corpus(seed=seed, n_gp=n_gp, sources=sources, gp_pool=pool)

    out = {}
    for folder in folders:
        model = load_model(folder)
        val = validation_sets(corpus, seed, model.cfg, val_windows)
        out[str(folder)] = evaluate(model, val)
        print(folder, json.dumps(out[str(folder)]), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description="Pretrain the PatchCast forecaster (CPU or GPU), resumable.")
    ap.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="Directory for weights, checkpoint, record.")
    ap.add_argument("--steps", type=int, default=0, help="Planned optimiser steps (default 1500; on --resume: as planned).")
    ap.add_argument("--batch-size", type=int, default=64, help="Windows per step.")
    ap.add_argument("--lr", type=float, default=1e-3, help="Peak learning rate.")
    ap.add_argument("--seed", type=int, default=0, help="Seed for corpus, sampling and init.")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads.")
    ap.add_argument("--workers", type=int, default=0,
                    help="Sampler processes (0: sample in this process, resumes bit for bit; a GPU needs several).")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu or cuda.")
    ap.add_argument("--dropout", type=float, default=0.0,
                    help="Dropout (0: the synthetic stream is endless, nothing to overfit).")
    ap.add_argument("--sources", default=",".join(SHIPPED_SOURCES),
                    help="Real sets to mix in, comma-separated (m5, statsmodels, walmart).")
    ap.add_argument("--n-gp", type=int, default=1000, help="KernelSynth pool size.")
    ap.add_argument("--log-every", type=int, default=500, help="Steps between validations (and checkpoints).")
    ap.add_argument("--context", type=int, default=256, help="Context length (multiple of 16).")
    ap.add_argument("--d-model", type=int, default=128, help="Width of the encoder.")
    ap.add_argument("--layers", type=int, default=3, help="Encoder blocks.")
    ap.add_argument("--point-head", action="store_true", help="Add a mean (point) output trained with squared error.")
    ap.add_argument("--seasonal-inputs", action="store_true",
                    help="Give each horizon query the context's seasonal profile (recipe v3).")
    ap.add_argument("--festival-share", type=float, default=0.0,
                    help="Share of synthetic demand series with unannounced yearly festivals (recipe v4: 0.35).")
    ap.add_argument("--yearly-share", type=float, default=0.0,
                    help="Share of weekly and monthly synthetic series with a yearly profile of any shape (v4: 0.5).")
    ap.add_argument("--flag-drop", type=float, default=0.0,
                    help="Share of real-series windows drawn without their holiday flags (recipe v5: 0.5).")
    ap.add_argument("--init", type=Path, default=None, help="Start from these weights (same-shape tensors).")
    ap.add_argument("--resume", action="store_true", help="Continue the run checkpointed in --out.")
    ap.add_argument("--max-minutes", type=float, default=None, help="Stop (with a checkpoint) after this long.")
    ap.add_argument("--fit-to-time", action="store_true",
                    help="Shrink the planned steps to what fits before --max-minutes (decay ends on time).")
    ap.add_argument("--segment-steps", type=int, default=None, help="Stop (with a checkpoint) after this many steps.")
    ap.add_argument("--drop-point-head", type=Path, default=None,
                    help="Only write these weights, without their point head, into --out.")
    ap.add_argument("--compare", default="",
                    help="Only score these comma-separated weights folders on the validation sets.")
    args = ap.parse_args()
    if args.drop_point_head is not None:
        drop_point_head(args.drop_point_head, args.out)
        return
    if args.compare:
        folders = [Path(f) for f in args.compare.split(",") if f]
        result = compare(folders, args.seed, args.n_gp, tuple(s for s in args.sources.split(",") if s),
                         args.out / CHECKPOINT_FILE)
        (args.out / "compare.json").write_text(json.dumps(result, indent=2))
        return
    _Stop.install()
    sources = tuple(s for s in args.sources.split(",") if s)
    cfg = PatchCastConfig(context_length=args.context, dropout=args.dropout, d_model=args.d_model,
                          d_ff=2 * args.d_model, n_layers=args.layers, point_head=args.point_head,
                          seasonal_inputs=args.seasonal_inputs)
    pretrain(args.out, args.steps or (0 if args.resume else 1500), args.batch_size, args.lr, args.seed,
             args.threads, args.log_every, cfg, sources, args.n_gp, args.resume, args.init,
             args.max_minutes, args.device, segment_steps=args.segment_steps, fit_to_time=args.fit_to_time,
             workers=args.workers, festival_share=args.festival_share,
             yearly_share=args.yearly_share, flag_drop=args.flag_drop)


if __name__ == "__main__":
    main()
