"""Seeded pretraining of :class:`PatchCast` on the :mod:`corpus` mixture (CPU-friendly).

    python -m trendcast.models.pretrained.pretrain --steps 1500 --threads 1 --context 256 \
        --n-gp 400 --out src/trendcast/models/pretrained/weights

(the shipped weights' command, see weights/MODEL_CARD.md) writes ``patchcast.safetensors``, ``config.json`` and ``training.json`` (corpus summary, steps,
losses, wall time, hardware) — everything the model card quotes.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from trendcast.models.pretrained.corpus import SHIPPED_SOURCES, build_corpus, sample_batch
from trendcast.models.pretrained.model import (
    PatchCast,
    PatchCastConfig,
    count_parameters,
    pinball_loss,
)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
WEIGHTS_FILE, CONFIG_FILE = "patchcast.safetensors", "config.json"


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warm-up then cosine decay to 5% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def to_tensors(batch: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in batch.items()}


def save_weights(model: PatchCast, out: Path) -> None:
    """Write ``patchcast.safetensors`` + ``config.json``: the layout :func:`load_model` reads."""
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / WEIGHTS_FILE))
    model.cfg.to_json(out / CONFIG_FILE)


def pretrain(
    out: Path = WEIGHTS_DIR, steps: int = 1500, batch_size: int = 64, lr: float = 1e-3,
    seed: int = 0, threads: int = 1, log_every: int = 25, cfg: PatchCastConfig | None = None,
    sources: tuple[str, ...] = SHIPPED_SOURCES, n_gp: int = 1000,
) -> dict[str, object]:
    """Train from scratch and save; returns the training record written to training.json."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    cfg = cfg or PatchCastConfig()
    t0 = time.perf_counter()
    corpus = build_corpus(seed=seed, n_gp=n_gp, sources=sources)
    corpus_s = time.perf_counter() - t0
    print(f"corpus built in {corpus_s:.0f}s: {json.dumps(corpus.summary())}", flush=True)
    model = PatchCast(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    qs = torch.tensor(cfg.quantiles)
    # a fixed validation batch from the same mixture (different rng) to follow progress
    val = to_tensors(sample_batch(corpus, np.random.default_rng(seed + 1), 512, cfg.context_length, cfg.horizon))
    history: list[dict[str, float]] = []
    t1 = time.perf_counter()
    running = 0.0
    record: dict[str, object] = {}
    for step in range(steps):
        model.train()
        b = to_tensors(sample_batch(corpus, rng, batch_size, cfg.context_length, cfg.horizon))
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, lr, warmup=max(1, steps // 20))
        pred, _, scale = model(b["context"], None, b["future_cov"], b["past_cov"])
        loss = pinball_loss(pred, b["target"], b["target_mask"], qs, scale)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running += loss.item()
        if (step + 1) % log_every == 0 or step == steps - 1:
            model.eval()
            with torch.no_grad():
                vp, _, vs = model(val["context"], None, val["future_cov"], val["past_cov"])
                vloss = pinball_loss(vp, val["target"], val["target_mask"], qs, vs).item()
            n = log_every if (step + 1) % log_every == 0 else (step + 1) % log_every
            rec = {"step": step + 1, "train_loss": running / n, "val_loss": vloss,
                   "elapsed_s": round(time.perf_counter() - t1, 1)}
            history.append(rec)
            running = 0.0
            print(json.dumps(rec), flush=True)
            # checkpoint at every log: a run stopped early still leaves usable, documented weights
            model.eval()
            save_weights(model, out)
            record = {
                "config": asdict(cfg), "parameters": count_parameters(model),
                "steps": step + 1, "planned_steps": steps, "completed": step == steps - 1,
                "batch_size": batch_size, "peak_lr": lr, "seed": seed, "real_sources": list(sources),
                "corpus": corpus.summary(), "corpus_build_s": round(corpus_s, 1),
                "train_s": rec["elapsed_s"], "threads": threads,
                "hardware": f"{platform.processor() or platform.machine()}, {threads} CPU threads "
                            f"(shared machine), torch {torch.__version__}",
                "final_val_loss": vloss, "history": history,
            }
            (out / "training.json").write_text(json.dumps(record, indent=2, default=str))
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description="Pretrain the PatchCast forecaster on CPU.")
    ap.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="Directory for weights + config.")
    ap.add_argument("--steps", type=int, default=1500, help="Optimiser steps.")
    ap.add_argument("--batch-size", type=int, default=64, help="Windows per step.")
    ap.add_argument("--lr", type=float, default=1e-3, help="Peak learning rate.")
    ap.add_argument("--seed", type=int, default=0, help="Seed for corpus, sampling and init.")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads.")
    ap.add_argument("--dropout", type=float, default=0.0,
                    help="Dropout (0: the synthetic stream is endless, nothing to overfit).")
    ap.add_argument("--sources", default=",".join(SHIPPED_SOURCES),
                    help="Real sets from ../shared to mix in, comma-separated (m5, walmart).")
    ap.add_argument("--n-gp", type=int, default=1000, help="KernelSynth pool size.")
    ap.add_argument("--log-every", type=int, default=100,
                    help="Steps between validation logs (and checkpoints).")
    ap.add_argument("--context", type=int, default=256, help="Context length (multiple of 16).")
    args = ap.parse_args()
    sources = tuple(s for s in args.sources.split(",") if s)
    pretrain(args.out, args.steps, args.batch_size, args.lr, args.seed, args.threads,
             args.log_every, PatchCastConfig(context_length=args.context, dropout=args.dropout), sources, args.n_gp)


if __name__ == "__main__":
    main()
