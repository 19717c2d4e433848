"""PatchCast: a compact patch-based forecasting Transformer (PatchTST / Chronos-Bolt lineage).

Why this shape: patches turn 256 daily steps into 16 tokens, so a 3-layer encoder trains and
runs on a laptop CPU; instance scaling makes one set of weights work for series of any size;
horizon *query tokens* attend to the context jointly, so 64 steps x 9 quantiles come out of
one forward pass (direct multi-horizon, no error feedback), and future-known covariates (promo,
price, holidays) enter exactly where they matter: on the query token of the step they touch.

All linear maps are plain ``nn.Linear`` (attention included) so LoRA can target them by name.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from trendcast.errors import NotReadyError

QUANTILES: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class PatchCastConfig:
    """Every size of the network; saved next to the weights as ``config.json``."""

    context_length: int = 256
    patch_length: int = 16
    horizon: int = 64  # steps produced per pass; longer horizons roll forward
    d_model: int = 128
    n_layers: int = 3
    n_heads: int = 4
    d_ff: int = 256
    dropout: float = 0.1
    n_future_covariates: int = 3  # slots: promo, log price ratio, holiday/event
    n_past_covariates: int = 2  # slots: past-only signals (text mentions, sentiment, ...)
    quantiles: list[float] = field(default_factory=lambda: list(QUANTILES))
    # one extra output per step trained with squared error: a mean forecast whose sum over
    # many series stays unbiased (the mean of the 0.1-0.9 quantiles misses skewed tails)
    point_head: bool = False
    # seasonal inputs (recipe v3): each horizon query also reads the context's seasonal profile
    # for its step (see :func:`seasonal_inputs`), given the data's season length
    seasonal_inputs: bool = False

    @property
    def n_patches(self) -> int:
        return self.context_length // self.patch_length

    @property
    def n_queries(self) -> int:
        return math.ceil(self.horizon / self.patch_length)

    def to_json(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def from_json(cls, path: Path) -> PatchCastConfig:
        return cls(**json.loads(Path(path).read_text()))


class Attention(nn.Module):
    """Multi-head self-attention with separate q/k/v/o ``nn.Linear`` layers (LoRA-friendly)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.o_proj = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, key_padding: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.n_heads

        def split(z: torch.Tensor) -> torch.Tensor:
            return z.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        # key_padding: True where a token is padding -> never attended to
        mask = (~key_padding)[:, None, None, :]
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.o_proj(out.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm Transformer encoder block."""

    def __init__(self, cfg: PatchCastConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg.d_model, cfg.n_heads, cfg.dropout)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.fc1 = nn.Linear(cfg.d_model, cfg.d_ff)
        self.fc2 = nn.Linear(cfg.d_ff, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, key_padding: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), key_padding))
        return x + self.drop(self.fc2(F.gelu(self.fc1(self.norm2(x)))))


class ResidualMLP(nn.Module):
    """Two-layer MLP with a linear skip: Chronos-Bolt's patch/output embedding."""

    def __init__(self, d_in: int, d_hidden: int, d_out: int, dropout: float) -> None:
        super().__init__()
        self.hidden = nn.Linear(d_in, d_hidden)
        self.out = nn.Linear(d_hidden, d_out)
        self.skip = nn.Linear(d_in, d_out)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(F.gelu(self.hidden(x)))) + self.skip(x)


N_SEASONAL = 3  # seasonal inputs per horizon step: profile, last cycle, share of cycles seen


def seasonal_inputs(
    x: torch.Tensor, mask: torch.Tensor, season: torch.Tensor | int | None, n_steps: int,
) -> torch.Tensor:
    """Per horizon step, what the scaled context says about its place in the season: (B, n_steps, 3).

    Why: a small patch Transformer does not learn to average a weekly profile out of noisy
    daily counts (it forecast a weekend/weekday ratio of 1.07 where the data had 1.44), yet
    that profile is most of what AutoETS/AutoTheta know about a shop's days. For a season of
    ``m`` steps: each observed step's deviation from the mean of the ``m`` steps ending there
    (a full cycle, so free of the season itself), averaged per phase over the context and
    centred (the profile), the same deviation one cycle ago (the latest cycle, for profiles
    that change), and the share of the context's cycles behind each phase's average (how far
    to trust it). Rows without a season (0), or whose context is shorter than two cycles, get zeros.
    """
    b, t = x.shape
    out = x.new_zeros(b, n_steps, N_SEASONAL)
    if season is None:
        return out
    seasons = torch.as_tensor(season, device=x.device).reshape(-1).expand(b)
    m_all = mask.float()
    steps = torch.arange(n_steps, device=x.device)
    for m in torch.unique(seasons).tolist():
        if m < 2 or 2 * m > t:
            continue
        rows = seasons == m
        xs, ms = x[rows] * m_all[rows], m_all[rows]
        zero = xs.new_zeros(xs.shape[0], 1)
        cs, cn = torch.cat([zero, xs.cumsum(1)], 1), torch.cat([zero, ms.cumsum(1)], 1)
        win_sum, win_n = cs[:, m:] - cs[:, :-m], cn[:, m:] - cn[:, :-m]  # windows ending at m-1 .. t-1
        full = (win_n > m - 0.5) & (ms[:, m - 1:] > 0)
        dev = torch.where(full, xs[:, m - 1:] - win_sum / m, 0.0)
        ok = full.float()
        phase = (torch.arange(m - 1, t, device=x.device) - t) % m
        sums = xs.new_zeros(xs.shape[0], m).index_add_(1, phase, dev)
        cnts = xs.new_zeros(xs.shape[0], m).index_add_(1, phase, ok)
        seen = cnts > 0
        prof = sums / cnts.clamp_min(1.0)
        centre = (prof * seen).sum(1, keepdim=True) / seen.sum(1, keepdim=True).clamp_min(1)
        prof = torch.where(seen, prof - centre, 0.0)
        h_phase = steps % m
        last = dev[:, -m:][:, h_phase]  # the latest cycle's deviation at each step's phase
        out[rows] = torch.stack([prof[:, h_phase], last, cnts[:, h_phase] / (t // m)], dim=-1)
    return out


def instance_scale(
    context: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-series location (mean) and robust scale over observed context steps.

    Scale is the standard deviation floored by a fraction of the mean absolute value, so a
    flat series (std ~ 0) still gets a sensible unit and zeros-only series do not divide by 0.
    """
    m = mask.float()
    n = m.sum(-1, keepdim=True).clamp_min(1.0)
    loc = (context * m).sum(-1, keepdim=True) / n
    var = (((context - loc) ** 2) * m).sum(-1, keepdim=True) / n
    mean_abs = (context.abs() * m).sum(-1, keepdim=True) / n
    scale = torch.maximum(var.sqrt(), 0.1 * mean_abs).clamp_min(1e-3)
    return loc, scale


class PatchCast(nn.Module):
    """Context (+ optional covariates) -> quantiles for ``cfg.horizon`` steps, in one pass.

    Inputs (B = batch, L = context length <= cfg.context_length, H = cfg.horizon):
    - ``context`` (B, L) raw values, NaN where missing; ``mask`` (B, L) bool observed
    - ``future_cov`` (B, L + H, Kf) future-known covariates over context and horizon, or None
    - ``past_cov`` (B, L, Kp) past-only covariates over the context, or None
    Output: (B, H, Q) quantiles in the original units, plus (loc, scale) used.
    """

    def __init__(self, cfg: PatchCastConfig) -> None:
        super().__init__()
        self.cfg = cfg
        p, d = cfg.patch_length, cfg.d_model
        kf, kp = cfg.n_future_covariates, cfg.n_past_covariates
        self.patch_embed = ResidualMLP(p * (2 + kf + kp), cfg.d_ff, d, cfg.dropout)
        self.pos = nn.Parameter(torch.randn(cfg.n_patches + cfg.n_queries, d) * 0.02)
        self.query = nn.Parameter(torch.randn(cfg.n_queries, d) * 0.02)
        self.query_cov = nn.Linear(p * kf, d)
        if cfg.seasonal_inputs:  # zero at first: weights trained without them start unchanged
            self.query_season = nn.Linear(p * N_SEASONAL, d)
            nn.init.zeros_(self.query_season.weight)
            nn.init.zeros_(self.query_season.bias)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.norm = nn.LayerNorm(d)
        # the task head: fine-tuning strategy ``head`` trains only this module
        self.n_out = len(cfg.quantiles) + int(cfg.point_head)
        self.head = ResidualMLP(d, cfg.d_ff, p * self.n_out, cfg.dropout)

    def forward(
        self,
        context: torch.Tensor,
        mask: torch.Tensor | None = None,
        future_cov: torch.Tensor | None = None,
        past_cov: torch.Tensor | None = None,
        return_mean: bool = False,
        season: torch.Tensor | int | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """``(quantiles, loc, scale)``; with ``return_mean`` ``(quantiles, mean, loc, scale)``.

        ``mean`` is the point head's output, or None when the weights have no point head.
        ``season``: the data's season length (7 for days, 52 for weeks, 12 for months; one
        per row or one for all; 0 or None: none), read by weights with seasonal inputs.
        """
        cfg = self.cfg
        p, n_ctx, n_q = cfg.patch_length, cfg.n_patches, cfg.n_queries
        b, length = context.shape
        if mask is None:
            mask = ~torch.isnan(context)
        context = torch.nan_to_num(context, nan=0.0)
        # keep the most recent context_length steps; left-pad to a whole number of patches
        total = n_ctx * p
        if future_cov is None:
            future_cov = context.new_zeros(b, length + cfg.horizon, cfg.n_future_covariates)
        if past_cov is None:
            past_cov = context.new_zeros(b, length, cfg.n_past_covariates)
        fut_ctx, fut_h = future_cov[:, :length], future_cov[:, length:]
        context, mask = context[:, -total:], mask[:, -total:]
        fut_ctx, past_cov = fut_ctx[:, -total:], past_cov[:, -total:]
        pad = total - context.shape[1]
        if pad > 0:
            context = F.pad(context, (pad, 0))
            mask = F.pad(mask, (pad, 0), value=False)
            fut_ctx = F.pad(fut_ctx, (0, 0, pad, 0))
            past_cov = F.pad(past_cov, (0, 0, pad, 0))
        fut_h = F.pad(fut_h, (0, 0, 0, n_q * p - fut_h.shape[1]))[:, : n_q * p]

        loc, scale = instance_scale(context, mask)
        x = ((context - loc) / scale).clamp(-30.0, 30.0) * mask
        xm = mask.float()
        tokens = torch.cat(
            [
                x.view(b, n_ctx, p),
                xm.view(b, n_ctx, p),
                fut_ctx.reshape(b, n_ctx, p * cfg.n_future_covariates),
                past_cov.reshape(b, n_ctx, p * cfg.n_past_covariates),
            ],
            dim=-1,
        )
        h_ctx = self.patch_embed(tokens)
        h_q = self.query.expand(b, -1, -1) + self.query_cov(
            fut_h.reshape(b, n_q, p * cfg.n_future_covariates)
        )
        if cfg.seasonal_inputs:
            seas = seasonal_inputs(x, mask, season, n_q * p)
            h_q = h_q + self.query_season(seas.reshape(b, n_q, p * N_SEASONAL))
        hidden = torch.cat([h_ctx, h_q], dim=1) + self.pos
        # a context patch with no observed step is padding; queries are never padding
        padding = torch.cat([xm.view(b, n_ctx, p).sum(-1) == 0, mask.new_zeros(b, n_q)], dim=1)
        for block in self.blocks:
            hidden = block(hidden, padding)
        out = self.head(self.norm(hidden[:, n_ctx:]))  # (B, n_q, p * n_out)
        out = out.view(b, n_q * p, self.n_out)[:, : cfg.horizon] * scale[..., None] + loc[..., None]
        q = out[..., : len(cfg.quantiles)]
        if not return_mean:
            return q, loc, scale
        mean = out[..., -1] if cfg.point_head else None
        return q, mean, loc, scale


def pinball_loss(
    pred: torch.Tensor, target: torch.Tensor, target_mask: torch.Tensor, quantiles: torch.Tensor,
    scale: torch.Tensor | None = None, clip: float = 30.0, reduce: bool = True,
) -> torch.Tensor:
    """Mean quantile (pinball) loss over observed target steps, optionally in scaled units
    (``reduce=False``: every step's loss, averaged over the quantiles, the mask not applied).

    In scaled units errors are clipped at ``clip`` scales: a window whose context is flat
    (tiny scale) and whose future jumps would otherwise dominate a whole batch.
    """
    diff = target[..., None] - pred
    if scale is not None:
        diff = (diff / scale[..., None]).clamp(-clip, clip)
    loss = torch.maximum(quantiles * diff, (quantiles - 1) * diff)
    if not reduce:
        return loss.mean(-1)
    m = target_mask[..., None].float()
    return (loss * m).sum() / (m.sum() * len(quantiles)).clamp_min(1.0)


def squared_error(
    pred: torch.Tensor, target: torch.Tensor, target_mask: torch.Tensor, scale: torch.Tensor,
    clip: float = 10.0,
) -> torch.Tensor:
    """Mean squared error in scaled units (clipped): its minimiser is the conditional mean."""
    diff = ((target - pred) / scale).clamp(-clip, clip)
    m = target_mask.float()
    return (diff**2 * m).sum() / m.sum().clamp_min(1.0)


def training_loss(
    model: nn.Module, batch: dict[str, torch.Tensor], quantiles: torch.Tensor,
    mean_weight: float = 0.25,
) -> torch.Tensor:
    """Pinball loss over the quantiles, plus the point head's squared error when it has one.

    Used by pretraining and fine-tuning alike, so fine-tuning never lets the point head drift.
    """
    q, mean, _, scale = model(
        batch["context"], None, batch["future_cov"], batch["past_cov"], return_mean=True,
        season=batch.get("season"),
    )
    loss = pinball_loss(q, batch["target"], batch["target_mask"], quantiles, scale)
    if mean is not None:
        loss = loss + mean_weight * squared_error(mean, batch["target"], batch["target_mask"], scale)
    return loss


def point_forecast(quantiles: torch.Tensor, mean: torch.Tensor | None) -> torch.Tensor:
    """The point forecast: the point head when present, else the mean of the quantile curve."""
    return mean if mean is not None else quantiles.mean(-1)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILES = ("patchcast.safetensors", "model.safetensors")


def load_model(path: str | Path | None = None) -> PatchCast:
    """Load PatchCast from a weights directory (the shipped one by default) in eval mode.

    Works for the shipped base weights and for fine-tuned artefacts (``model.safetensors``).
    """
    folder = Path(path) if path is not None else WEIGHTS_DIR
    cfg_path = folder / "config.json"
    weights = next((folder / f for f in MODEL_FILES if (folder / f).exists()), None)
    if weights is None or not cfg_path.exists():
        raise NotReadyError(
            f"No PatchCast weights in {folder}: expected config.json and one of {', '.join(MODEL_FILES)}."
        )
    model = PatchCast(PatchCastConfig.from_json(cfg_path))
    model.load_state_dict(load_file(str(weights)))
    return model.eval()
