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
