"""Fine-tuning: each strategy trains exactly what it says, improves validation loss, saves
a loadable versioned artefact; the CLI command wraps it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from trendcast.cli import _load_commands
from trendcast.cli.app import app
from trendcast.errors import ConfigError, InputError
from trendcast.models.pretrained.finetune import apply_strategy, finetune, finetune_model
from trendcast.models.pretrained.forecaster import PretrainedForecaster
from trendcast.models.pretrained.model import PatchCast, PatchCastConfig, pinball_loss
from trendcast.models.pretrained.pretrain import save_weights

TINY = PatchCastConfig(context_length=64, patch_length=8, horizon=16, d_model=32, n_layers=2, n_heads=2, d_ff=64)
FAST = dict(max_steps=6, eval_every=2, batch_size=16, val_h=14)


@pytest.fixture(autouse=True, scope="module")
def single_thread() -> Iterator[None]:
    """Tiny tensors: one thread avoids contention on a busy 2-core CI runner."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def panel(small_panel: pd.DataFrame) -> pd.DataFrame:
    ids = sorted(small_panel["unique_id"].unique())[:8]
    return small_panel[small_panel["unique_id"].isin(ids)].reset_index(drop=True)


def _tiny() -> PatchCast:
    torch.manual_seed(0)
    return PatchCast(TINY).eval()


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny randomly initialised base-weights folder: fine-tuning is tested without the
    shipped weights (those are covered by test_pretrained_forecaster)."""
    folder = tmp_path_factory.mktemp("tiny_base")
    save_weights(_tiny(), folder)
    return folder


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize(
    ("strategy", "trained_prefixes"),
    [("head", ("head.",)), ("head+last", ("head.", "norm.", "blocks.1.")), ("full", ("",))],
)
def test_frozen_parameters_stay_bit_identical(panel: pd.DataFrame, strategy: str, trained_prefixes: tuple) -> None:
    base = _tiny()
    before = _state(base)
    tuned, report = finetune_model(base, panel, strategy=strategy, lr=1e-2, **FAST)
    after = _state(tuned)
    assert _state(base).keys() == before.keys() and all(torch.equal(before[k], _state(base)[k]) for k in before)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    for k in before:
        if k.startswith(trained_prefixes):
            continue
        assert k not in changed, f"{strategy} changed frozen {k}"
    assert changed, f"{strategy} trained nothing"
    assert all(k.startswith(trained_prefixes) for k in changed)
    expected = sum(p.numel() for k, p in base.named_parameters() if k.startswith(trained_prefixes))
    assert report["trainable_parameters"] == expected


def test_lora_adds_only_adapters_and_leaves_base_weights(panel: pd.DataFrame) -> None:
    base = _tiny()
    n_base = sum(p.numel() for p in base.parameters())
    net = apply_strategy(_tiny(), "lora", lora_r=4, lora_alpha=8)
    trainable = {n: p for n, p in net.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    # r x (in + out) per targeted Linear: q,k,v,o (32->32), fc1 (32->64), fc2 (64->32) per block
    per_block = 4 * 4 * (32 + 32) + 2 * 4 * (32 + 64)
    assert sum(p.numel() for p in trainable.values()) == TINY.n_layers * per_block
    assert sum(p.numel() for p in net.parameters()) == n_base + TINY.n_layers * per_block
    frozen = {n: p.detach().clone() for n, p in net.named_parameters() if not p.requires_grad}
    opt = torch.optim.AdamW(trainable.values(), lr=1e-2)
    x = torch.from_numpy(np.abs(np.random.default_rng(0).normal(10, 3, (8, 64))).astype(np.float32))
    tgt = x[:, :16] * 1.5
    for _ in range(3):
        pred, _, scale = net(x)
        loss = pinball_loss(pred, tgt, torch.ones_like(tgt, dtype=torch.bool), torch.tensor(TINY.quantiles), scale)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert all(torch.equal(p, frozen[n]) for n, p in net.named_parameters() if not p.requires_grad)
    # end to end: merged weights differ only in the adapted layers; the adapter is kept
    tuned, report = finetune_model(_tiny(), panel, strategy="lora", lr=1e-2, lora_r=4, lora_alpha=8, **FAST)
    assert set(report["adapter"]) and all("lora_" in k for k in report["adapter"])
    ref, got = _state(_tiny()), _state(tuned)
    assert ref.keys() == got.keys()
    for k in ref:
        if not any(t in k for t in ("q_proj", "k_proj", "v_proj", "o_proj", "fc1", "fc2")) or k.endswith("bias"):
            assert torch.equal(ref[k], got[k]), k


def test_finetuning_reduces_validation_loss_and_saves_an_artefact(
    panel: pd.DataFrame, tiny_base: Path, tmp_path: Path
) -> None:
    opts = dict(base=tiny_base, max_steps=20, eval_every=5, batch_size=32, seed=1, val_h=14)
    path = finetune(panel, strategy="head", out=tmp_path, **opts)
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["val_loss"] < meta["val_loss_before"]
    assert meta["strategy"] == "head" and meta["format_version"] == 1
    assert len(meta["base_weights_sha256"]) == 64 and meta["data_range"]["series"] == 8
    assert {"model.safetensors", "config.json", "metadata.json"} <= {p.name for p in path.iterdir()}
    fc = PretrainedForecaster(weights=path).fit(panel).predict(7, quantiles=[0.1, 0.9])
    assert len(fc) == 8 * 7 and np.isfinite(fc[["forecast", "q0.1", "q0.9"]].to_numpy()).all()
    # same seed, same data: the same weights
    again = finetune(panel, strategy="head", out=tmp_path / "again", **opts)
    assert (again / "model.safetensors").read_bytes() == (path / "model.safetensors").read_bytes()


def test_early_stopping_keeps_the_base_when_nothing_improves(panel: pd.DataFrame) -> None:
    base = _tiny()
    tuned, report = finetune_model(base, panel, strategy="full", lr=50.0, **FAST)  # wrecks it
    assert not report["improved"] and report["val_loss"] == report["val_loss_before"]
    ref = _state(base)
    assert all(torch.equal(ref[k], v) for k, v in _state(tuned).items())


def test_training_stops_when_its_time_is_up_and_validates_there(panel: pd.DataFrame) -> None:
    """``max_seconds``: auto gives fine-tuning the time its other candidates leave; the step
    where time ran out is validated, so what it learnt counts."""
    _, report = finetune_model(_tiny(), panel, strategy="full", max_seconds=0.0, **FAST)
    assert report["steps"] == 1 and report["stopped"] == "time"
    assert [h["step"] for h in report["history"]] == [1]
    _, untimed = finetune_model(_tiny(), panel, strategy="full", **FAST)
    assert untimed["steps"] == FAST["max_steps"] and untimed["stopped"] == "steps"


def test_anneal_by_time_decays_the_learning_rate_by_the_time_limit(panel: pd.DataFrame) -> None:
    """``anneal_by_time``: the cosine schedule ends at the time limit when that comes before
    ``max_steps``; by default it goes by steps, so a run stopped on time ends mid-schedule."""
    options = {**FAST, "max_steps": 100_000, "eval_every": 100_000, "warmup_frac": 0.0}
    for by_time in (True, False):
        _, run = finetune_model(_tiny(), panel, strategy="full", lr=1e-3, max_seconds=1.5,
                                anneal_by_time=by_time, **options)
        assert run["stopped"] == "time" and 10 < run["steps"] < 100_000
        assert (run["last_lr"] < 0.05 * 1e-3) if by_time else (run["last_lr"] > 0.95 * 1e-3)


def test_the_fine_tuned_model_fine_tunes_on_fit(panel: pd.DataFrame, tiny_base: Path) -> None:
    from trendcast.models import make_model

    model = make_model("patchtst_finetuned", weights=tiny_base, max_steps=4, max_seconds=60.0)
    assert model.capabilities.time_capped
    fc = model.fit(panel).predict(7, quantiles=[0.1, 0.9])
    report = model.describe()["finetune_report"]
    assert report["strategy"] == "full" and 1 <= report["steps"] <= 4
    assert model.explanation_.startswith("PatchCast fine-tun")  # what it did, for the forecast's explanation
    assert len(fc) == 8 * 7 and np.isfinite(fc[["forecast", "q0.1", "q0.9"]].to_numpy()).all()
    # 20 days leave no room for a 14-day validation window: the shipped weights forecast, and say why
    young = panel.groupby("unique_id").tail(20)
    with pytest.raises(InputError, match="the 30 periods a 14-period validation window needs.*patchtst_pretrained"):
        finetune_model(_tiny(), young, strategy="full", val_h=14)
    tuned = make_model("patchtst_finetuned", weights=tiny_base, finetune_options={"val_h": 14}).fit(young)
    assert tuned.describe()["finetune_report"]["skipped"] == "no series has the 30 periods a 14-period validation window needs"
    assert tuned.explanation_.startswith("PatchCast not fine-tuned (no series has the 30 periods")
    zero_shot = make_model("patchtst_pretrained", weights=tiny_base).fit(young)
    pd.testing.assert_frame_equal(tuned.predict(7), zero_shot.predict(7))


def test_a_gain_within_the_noise_keeps_the_base_weights() -> None:
    from trendcast.models.base import clearly_better  # the rule fine-tuning keeps its weights by

    assert clearly_better(np.array([0.5, 0.6, 0.4, 0.5]), np.array([1.0, 1.1, 0.9, 1.0]))
    assert not clearly_better(np.array([0.2, 1.6, 0.3, 1.5]), np.array([1.0, 1.0, 1.0, 1.0]))  # lower mean, noisy
    assert not clearly_better(np.array([0.1]), np.array([1.0]))  # one step says nothing


def test_unknown_strategy_is_a_config_error(panel: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="strategy"):
        finetune_model(_tiny(), panel, strategy="everything")


def test_cli_finetune(fresh_warehouse: Path, tiny_base: Path, tmp_path: Path) -> None:
    _load_commands()
    out = tmp_path / "artefacts"
    res = CliRunner().invoke(
        app, ["finetune", "--db", str(fresh_warehouse), "--strategy", "lora", "--horizon", "14",
              "--out", str(out), "--steps", "4", "--base", str(tiny_base)],
    )
    assert res.exit_code == 0, res.output
    assert "Artefact" in res.output and len(list(out.iterdir())) == 1
    folder = next(out.iterdir())
    assert {"model.safetensors", "adapter.safetensors", "metadata.json"} <= {p.name for p in folder.iterdir()}
    bad = CliRunner().invoke(app, ["finetune", "--db", str(fresh_warehouse), "--strategy", "all"])
    assert bad.exit_code != 0 and isinstance(bad.exception, ConfigError)  # main() prints it in words


@pytest.mark.parametrize(("freq", "held_out"), [("D", 16), ("W-MON", 13), ("MS", 6)])
def test_validation_window_follows_the_data_frequency(freq: str, held_out: int) -> None:
    """28 days, 13 weeks or 6 months (at most the model's horizon): 28 months would swallow a
    monthly shop's history."""
    ds = pd.date_range("2021-01-04", periods=40, freq=freq)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], len(ds)), "ds": np.tile(ds, 2),
                       "y": np.tile(np.arange(40.0) % 5 + 10, 2)})
    _, report = finetune_model(_tiny(), df, strategy="head", max_steps=2, eval_every=1, batch_size=8)
    assert report["val_h"] == held_out


def test_finetuning_feeds_the_data_season_to_seasonal_inputs() -> None:
    """Weights with seasonal inputs learn from them on the shop's own season (7 for days); told
    there is none, those inputs stay zero and their weights untouched."""
    ds = pd.date_range("2024-01-01", periods=120, freq="D")
    weekend = np.where(ds.dayofweek >= 5, 8.0, 0.0)
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], len(ds)), "ds": np.tile(ds, 3),
                       "y": np.tile(10.0 + weekend, 3)})
    torch.manual_seed(0)
    base = PatchCast(replace(TINY, seasonal_inputs=True)).eval()
    tuned, _ = finetune_model(base, df, strategy="full", max_steps=5, eval_every=5, batch_size=8, patience=5)
    assert tuned.query_season.weight.abs().sum() > 0
    blind, _ = finetune_model(base, df, strategy="full", max_steps=5, eval_every=5, batch_size=8, patience=5,
                              season=0)
    assert blind.query_season.weight.abs().sum() == 0
