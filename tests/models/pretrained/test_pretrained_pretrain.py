"""The pretraining script end to end on a tiny budget: seeded, checkpointed, loadable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from trendcast.models.pretrained.forecaster import load_model
from trendcast.models.pretrained.model import PatchCastConfig
from trendcast.models.pretrained.pretrain import lr_at, pretrain

TINY = PatchCastConfig(context_length=64, patch_length=8, horizon=16, d_model=16, n_layers=1,
                       n_heads=2, d_ff=32, dropout=0.0)


def test_pretrain_writes_loadable_reproducible_weights(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    try:
        runs = [pretrain(tmp_path / name, steps=6, batch_size=8, log_every=3, cfg=TINY,
                         sources=(), n_gp=4) for name in ("a", "b")]
    finally:
        torch.set_num_threads(threads)
    rec = json.loads((tmp_path / "a" / "training.json").read_text())
    assert rec["steps"] == 6 and rec["completed"] and rec["real_sources"] == []
    assert [h["step"] for h in rec["history"]] == [3, 6]
    assert runs[0]["final_val_loss"] == runs[1]["final_val_loss"]  # seeded
    a, b = load_model(tmp_path / "a"), load_model(tmp_path / "b")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    pred, _, _ = a(torch.from_numpy(np.linspace(1, 5, 64, dtype=np.float32))[None])
    assert pred.shape == (1, 16, 9) and torch.isfinite(pred).all()


def test_learning_rate_warms_up_then_decays() -> None:
    lrs = [lr_at(s, 100, 1e-3, warmup=10) for s in range(100)]
    assert lrs[0] < lrs[9] == 1e-3 and lrs[-1] < lrs[50] < lrs[10]
    assert min(lrs[10:]) >= 0.05 * 1e-3 - 1e-12


def _weights(folder: Path) -> list[torch.Tensor]:
    return list(load_model(folder).state_dict().values())


def test_a_stopped_and_resumed_run_ends_exactly_like_an_uninterrupted_one(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    kw = {"steps": 6, "batch_size": 8, "log_every": 2, "sources": (), "n_gp": 4, "val_windows": 16}
    corpus = {"festival_share": 0.35, "yearly_share": 0.5}  # the resumed run reads them back
    try:
        pretrain(tmp_path / "straight", cfg=TINY, **kw, **corpus)
        pretrain(tmp_path / "resumed", cfg=TINY, segment_steps=3, **kw, **corpus)
        first = json.loads((tmp_path / "resumed" / "training.json").read_text())
        assert first["steps"] == 3 and not first["completed"]
        pretrain(tmp_path / "resumed", resume=True, **kw)
    finally:
        torch.set_num_threads(threads)
    rec = json.loads((tmp_path / "resumed" / "training.json").read_text())
    assert rec["completed"] and [r["from_step"] for r in rec["runs"]] == [0, 3]
    assert {k: rec["corpus"][k] for k in corpus} == corpus
    assert all(torch.equal(a, b) for a, b in zip(_weights(tmp_path / "straight"), _weights(tmp_path / "resumed"),
                                                 strict=True))
    val = rec["history"][-1]["validation"]
    assert {"demand_D", "demand_W", "demand_M", "gp", "panels_D_bias", "panels_M_abs"} <= set(val)
    from trendcast.models.pretrained.pretrain import training_markdown

    card = training_markdown(rec)  # what the model card quotes: both segments, the whole curve
    assert "| 0 -> 3 |" in card and "| 3 -> 6 |" in card and "panels_W_bias" in card


def test_point_head_starts_as_the_mean_of_the_quantiles(tmp_path: Path) -> None:
    from dataclasses import replace

    from trendcast.models.pretrained.model import PatchCast
    from trendcast.models.pretrained.pretrain import init_from, save_weights

    save_weights(PatchCast(TINY).eval(), tmp_path / "old")
    model = PatchCast(replace(TINY, point_head=True)).eval()
    info = init_from(model, tmp_path / "old")
    assert "head.out.weight" in info["head_rows_rebuilt"]
    x = torch.from_numpy(np.abs(np.random.default_rng(0).normal(5, 2, (4, 64))).astype(np.float32))
    with torch.no_grad():
        q, mean, _, _ = model(x, return_mean=True)
        old_q, _, _ = load_model(tmp_path / "old")(x)
    assert torch.allclose(q, old_q, atol=1e-5) and torch.allclose(mean, q.mean(-1), atol=1e-4)


def test_sampler_processes_give_seeded_batches_from_their_own_streams(tmp_path: Path) -> None:
    """``workers`` (what a GPU run uses): same seed, same weights; streams differ per worker."""
    from trendcast.models.pretrained.corpus import build_corpus
    from trendcast.models.pretrained.pretrain import _batches

    threads = torch.get_num_threads()
    kw = {"steps": 4, "batch_size": 8, "log_every": 2, "sources": (), "n_gp": 4, "val_windows": 16, "workers": 2}
    try:
        runs = [pretrain(tmp_path / name, cfg=TINY, **kw) for name in ("a", "b")]
    finally:
        torch.set_num_threads(threads)
    assert runs[0]["completed"] and runs[0]["runs"][0]["workers"] == 2
    assert all(torch.equal(a, b) for a, b in zip(_weights(tmp_path / "a"), _weights(tmp_path / "b"), strict=True))
    corpus = build_corpus(seed=0, n_gp=4, sources=())
    corpus.renew(np.random.default_rng(0), 0, TINY.context_length, TINY.horizon, size=64)
    stream = _batches(corpus, np.random.default_rng(0), 2, 0, 0, 8, TINY, 2, "cpu")
    first, second = next(stream), next(stream)  # one from each worker
    assert first["context"].shape == (8, TINY.context_length)
    assert not torch.equal(torch.nan_to_num(first["context"]), torch.nan_to_num(second["context"]))


def test_dropping_the_point_head_keeps_the_quantiles(tmp_path: Path) -> None:
    from dataclasses import replace

    from trendcast.models.pretrained.model import PatchCast
    from trendcast.models.pretrained.pretrain import drop_point_head, save_weights

    torch.manual_seed(0)
    save_weights(PatchCast(replace(TINY, point_head=True)).eval(), tmp_path / "with")
    cfg = drop_point_head(tmp_path / "with", tmp_path / "without")
    assert not cfg.point_head
    a, b = load_model(tmp_path / "with"), load_model(tmp_path / "without")
    x = torch.from_numpy(np.abs(np.random.default_rng(1).normal(5, 2, (3, 64))).astype(np.float32))
    with torch.no_grad():
        qa, mean_a, _, _ = a(x, return_mean=True)
        qb, mean_b, _, _ = b(x, return_mean=True)
    assert mean_a is not None and mean_b is None
    assert torch.allclose(qa, qb, atol=1e-6)
