"""PatchCast's seasonal inputs: what each horizon step is told about its place in the season."""

from __future__ import annotations

import numpy as np
import torch

from trendcast.models.pretrained.model import PatchCast, PatchCastConfig, seasonal_inputs


def _weekly(n: int, profile: np.ndarray, trend: float = 0.0) -> torch.Tensor:
    t = np.arange(n)
    return torch.tensor(10.0 + trend * t + profile[t % 7], dtype=torch.float32)


def test_the_profile_is_the_weekly_pattern_aligned_to_each_horizon_step() -> None:
    profile = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 4.0]) - 1.0  # a weekend peak, centred
    x = _weekly(256, profile, trend=0.05)[None]  # the context ends on phase 255 % 7 = 3
    seas = seasonal_inputs(x, torch.ones_like(x, dtype=torch.bool), 7, 64)
    expected = profile[(256 + np.arange(64)) % 7]  # horizon step s is day 256 + s
    # a trend is removed with the trailing cycle mean (a constant shift, centred away)
    np.testing.assert_allclose(seas[0, :, 0].numpy(), expected, atol=1e-4)
    np.testing.assert_allclose(seas[0, :, 1].numpy(), expected + 0.05 * 3, atol=1e-4)  # one cycle ago
    assert torch.all(seas[0, :, 2] > 0.95)  # (almost) every cycle of the context behind each phase


def test_missing_steps_short_histories_and_no_season_give_what_is_known() -> None:
    profile = np.array([2.0, -1, -1, 0, 0, 0, 0])
    x = _weekly(256, profile)
    mask = torch.ones(256, dtype=torch.bool)
    mask[:200] = False  # 56 observed days: 8 cycles
    mask[230] = False
    both = torch.stack([x * mask, x * mask])
    seas = seasonal_inputs(both, torch.stack([mask, mask]), torch.tensor([7, 0]), 16)
    assert torch.isfinite(seas).all()
    np.testing.assert_allclose(seas[0, :, 0].numpy(), (profile - profile.mean())[(256 + np.arange(16)) % 7], atol=1e-4)
    assert 0.0 < float(seas[0, :, 2].max()) < 0.3  # few of the context's cycles seen
    assert torch.all(seas[1] == 0)  # no season: nothing
    assert torch.all(seasonal_inputs(both, torch.stack([mask, mask]), 200, 16) == 0)  # under two cycles


def test_weights_without_seasonal_inputs_forecast_the_same_whatever_the_season() -> None:
    torch.manual_seed(0)
    ctx = torch.rand(4, 256) * 10
    plain = PatchCast(PatchCastConfig(dropout=0.0)).eval()
    a = plain(ctx)[0]
    assert torch.equal(a, plain(ctx, season=7)[0])
    seasonal = PatchCast(PatchCastConfig(dropout=0.0, seasonal_inputs=True)).eval()
    seasonal.load_state_dict(plain.state_dict(), strict=False)
    # the new inputs start at zero weight: a model extended from old weights starts unchanged
    assert torch.allclose(seasonal(ctx, season=7)[0], a)
    with torch.no_grad():
        seasonal.query_season.weight.normal_()
    assert not torch.allclose(seasonal(ctx, season=7)[0], a)
