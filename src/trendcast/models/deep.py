"""Deep global forecasters in plain PyTorch: LSTM, TCN and a Transformer encoder.

All three share one recipe (in the spirit of MQ-RNN / DeepAR, kept small enough to train on a
laptop CPU in minutes) and differ only in the encoder that reads the context window:

- **windows**: training samples are (context of ``input_size`` steps, next ``horizon`` steps)
  cut at random points of every series; a series shorter than the context is left-padded with
  zeros and an "observed" flag of 0, so short series still train and forecast;
- **per-window scaling**: each window is divided by the mean absolute value of its context
  (floored at a tenth of the series' mean, so an all-zero series has a scale near zero and
  forecasts zero); the log of the scale is fed to the head, so one global model serves big and
  small series alike;
- **inputs per step**: scaled target, observed flag, the seasonal phase (sin/cos of the
  position in ``season_length``), and every numeric covariate standardised per series.
  Future-known covariates (``future_known``, default price and promo) are also given for each
  horizon step; past-only ones (text signals) only in the context;
- **head**: for every horizon step an MLP reads (encoder state, log scale, that step's
  future-known inputs, a step embedding) and outputs a point forecast (trained with squared
  error, so it estimates the mean, which RMSE-type metrics reward) and a grid of quantiles
  (trained with the pinball loss); requested quantiles are interpolated on that grid;
- **early stopping**: the last ``horizon`` steps of every series are held out as validation
  targets; the weights with the lowest validation loss are kept;
- **seeded**: the same data and seed give the same forecasts.

Horizons longer than the trained ``horizon`` roll forward: the point forecast is appended to
the context and the model is applied again.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from trendcast.errors import ConfigError, InputError
from trendcast.features.frequency import default_horizon
from trendcast.models.base import (
    FORECAST,
    ID,
    TARGET,
    TIME,
    Capabilities,
    Forecaster,
    quantile_column,
)

DEFAULT_FUTURE_KNOWN = ("price", "promo")
TRAIN_QUANTILES = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
ARCHS = ("lstm", "tcn", "transformer")


def interpolate_grid(pred: np.ndarray, grid: tuple[float, ...], wanted: list[float]) -> np.ndarray:
    """(..., len(grid)) quantile predictions -> (..., len(wanted)), linear, flat beyond the ends."""
    g = np.asarray(grid)
    out = np.empty((*pred.shape[:-1], len(wanted)), dtype=float)
    for j, q in enumerate(wanted):
        k = int(np.clip(np.searchsorted(g, q), 1, len(g) - 1))
        w = float(np.clip((q - g[k - 1]) / (g[k] - g[k - 1]), 0.0, 1.0))
        out[..., j] = (1 - w) * pred[..., k - 1] + w * pred[..., k]
    return out


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Use ``n`` CPU threads inside the block and restore the previous setting after it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


# -- data ----------------------------------------------------------------------------------------
@dataclass
class SeriesTable:
    """Every series stacked into flat arrays, each left-padded by the context length.

    ``start[i]``/``end[i]`` index series ``i``'s first padded row and one past its last row,
    so the context of the forecast made at ``t`` is rows ``t-L .. t-1``.
    """

    ids: list[str]
    y: np.ndarray  # (N,) raw target, 0 in padding
    observed: np.ndarray  # (N,) 1 where y is real
    covs: np.ndarray  # (N, C) standardised covariates (all numeric ones)
    phase: np.ndarray  # (N,) position in the season
    start: np.ndarray
    end: np.ndarray
    floor: np.ndarray  # (n_series,) smallest scale allowed per series


def _phase(ds: pd.Series, freq: str, season_length: int) -> np.ndarray:
    """Steps since an epoch, modulo the season: the weekday for daily data with season 7."""
    offset = pd.tseries.frequencies.to_offset(freq)
    dates = pd.DatetimeIndex(pd.to_datetime(ds))
    try:
        nanos = offset.nanos  # fixed frequencies: days, hours ...
    except ValueError:  # weeks, months ...: count calendar periods
        nanos = 7 * 86_400 * 10**9 if freq.upper().startswith("W") else None
    if nanos:
        epoch = np.datetime64("2000-01-03", "ns")  # a Monday
        steps = (dates.to_numpy().astype("datetime64[ns]") - epoch).astype(np.int64) // nanos
    else:
        steps = pd.PeriodIndex(dates, freq=freq.upper()[0]).asi8
    return np.mod(steps, max(season_length, 1)).astype(np.float32)


# -- networks ------------------------------------------------------------------------------------
def _build_network(
    arch: str, n_in: int, n_future: int, horizon: int, hidden: int, layers: int,
    n_out: int, input_size: int, dropout: float,
) -> Any:
    import torch
    from torch import nn

    class Encoder(nn.Module):
        """Context (B, L, n_in) -> state (B, hidden)."""

        def __init__(self) -> None:
            super().__init__()
            if arch == "lstm":
                self.rnn = nn.LSTM(n_in, hidden, num_layers=layers, batch_first=True,
                                   dropout=dropout if layers > 1 else 0.0)
            elif arch == "tcn":
                blocks, dilation, reach = [], 1, 1
                ch = n_in
                while reach < input_size or len(blocks) < layers:
                    blocks.append(_TCNBlock(ch, hidden, dilation, dropout))
                    reach += 2 * dilation
                    ch, dilation = hidden, dilation * 2
                self.tcn = nn.Sequential(*blocks)
            else:
                self.proj = nn.Linear(n_in, hidden)
                self.pos = nn.Parameter(torch.zeros(1, input_size, hidden))
                nn.init.normal_(self.pos, std=0.02)
                layer = nn.TransformerEncoderLayer(
                    hidden, nhead=4, dim_feedforward=2 * hidden, dropout=dropout, batch_first=True
                )
                self.encoder = nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if arch == "lstm":
                out, _ = self.rnn(x)
                return out[:, -1]
            if arch == "tcn":
                return self.tcn(x.transpose(1, 2))[:, :, -1]
            z = self.encoder(self.proj(x) + self.pos[:, -x.shape[1] :])
            return z[:, -1] + z.mean(dim=1)

    class _TCNBlock(nn.Module):
        """Two dilated causal convolutions with a residual connection."""

        def __init__(self, c_in: int, c_out: int, dilation: int, p: float) -> None:
            super().__init__()
            self.pad = 2 * dilation
            self.conv1 = nn.Conv1d(c_in, c_out, 3, dilation=dilation)
            self.conv2 = nn.Conv1d(c_out, c_out, 3, dilation=dilation)
            self.drop = nn.Dropout(p)
            self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = self.drop(torch.relu(self.conv1(nn.functional.pad(x, (self.pad, 0)))))
            h = self.drop(torch.relu(self.conv2(nn.functional.pad(h, (self.pad, 0)))))
            return torch.relu(h + self.skip(x))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = Encoder()
            self.step = nn.Embedding(horizon, 8)
            self.head = nn.Sequential(
                nn.Linear(hidden + 1 + n_future + 8, hidden), nn.ReLU(), nn.Dropout(dropout),
                nn.Linear(hidden, n_out),
            )

        def forward(self, ctx: torch.Tensor, log_scale: torch.Tensor, fut: torch.Tensor) -> torch.Tensor:
            b, h = fut.shape[0], fut.shape[1]
            z = self.encoder(ctx)
            steps = self.step.weight[:h].unsqueeze(0).expand(b, h, -1)
            parts = [z.unsqueeze(1).expand(b, h, -1), log_scale.view(b, 1, 1).expand(b, h, 1), fut, steps]
            return self.head(torch.cat(parts, dim=-1))  # (B, H, n_out)

    return Net()


# -- the forecaster ------------------------------------------------------------------------------
class DeepForecaster(Forecaster):
    """Shared training and forecasting for :class:`LSTMModel`, :class:`TCNModel` and
    :class:`TransformerModel`; see the module docstring for the recipe.

    Parameters: ``input_size`` (context steps; default 8 seasons, at most 64), ``horizon``
    (trained steps; default 28 daily / 13 weekly), ``hidden_size``, ``num_layers``,
    ``dropout``, ``learning_rate``, ``batch_size``, ``max_steps`` (optimiser steps),
    ``val_every`` and ``patience`` (early stopping, in validations), ``future_known``
    (covariates whose future values are given in ``X_future``), ``n_threads``, ``seed``.
    """

    arch: ClassVar[str] = "lstm"
    capabilities: ClassVar[Capabilities] = Capabilities(
        future_covariates=True, past_covariates=True, native_quantiles=True, global_model=True
    )

    def __init__(
        self,
        season_length: int = 7,
        freq: str = "D",
        input_size: int | None = None,
        horizon: int | None = None,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
        learning_rate: float = 2e-3,
        batch_size: int = 128,
        max_steps: int = 600,
        val_every: int = 50,
        patience: int = 4,
        future_known: tuple[str, ...] | list[str] = DEFAULT_FUTURE_KNOWN,
        n_threads: int = 1,
        seed: int = 0,
        **params: object,
    ) -> None:
        super().__init__(season_length=season_length, freq=freq, **params)
        self.input_size = int(input_size or min(max(8 * self.season_length, 28), 64))
        self.horizon = int(horizon or default_horizon(freq))
        if self.input_size < 2 or self.horizon < 1:
            raise ConfigError("Deep models need input_size >= 2 and horizon >= 1.")
        self.hidden_size, self.num_layers = int(hidden_size), int(num_layers)
        self.dropout, self.learning_rate = float(dropout), float(learning_rate)
        self.batch_size, self.max_steps = int(batch_size), int(max_steps)
        self.val_every, self.patience = max(1, int(val_every)), int(patience)
        self.future_known = tuple(future_known)
        self.n_threads, self.seed = int(n_threads), int(seed)

    # -- data preparation ---------------------------------------------------------------------
    def _table(self, df: pd.DataFrame) -> SeriesTable:
        L = self.input_size
        sizes = df.groupby(ID, sort=True).size()
        n_pad = len(sizes) * L
        total = len(df) + n_pad
        y = np.zeros(total, np.float32)
        observed = np.zeros(total, np.float32)
        covs = np.zeros((total, len(self.covariates_)), np.float32)
        phase = np.zeros(total, np.float32)
        start = np.zeros(len(sizes), np.int64)
        end = np.zeros(len(sizes), np.int64)
        raw_cov = df[self.covariates_].to_numpy(dtype=np.float32) if self.covariates_ else None
        std_cov = (raw_cov - self.cov_mean_[df[ID]].to_numpy()) / self.cov_std_[df[ID]].to_numpy() \
            if raw_cov is not None else None
        ph = _phase(df[TIME], self.freq, self.season_length)
        yv = df[TARGET].to_numpy(dtype=np.float32)
        pos, src = 0, 0
        for i, n in enumerate(sizes.to_numpy()):
            start[i] = pos
            rows = slice(pos + L, pos + L + n)
            y[rows], observed[rows] = yv[src : src + n], 1.0
            phase[pos : pos + L + n] = np.concatenate(
                [np.mod(ph[src] - np.arange(L, 0, -1), max(self.season_length, 1)), ph[src : src + n]]
            )
            if std_cov is not None:
                covs[rows] = std_cov[src : src + n]
            pos += L + n
            src += n
            end[i] = pos
        floor = np.maximum(0.1 * df.groupby(ID, sort=True)[TARGET].apply(lambda s: s.abs().mean()), 1e-6)
        return SeriesTable(list(sizes.index), y, observed, covs, phase, start, end,
                           floor.to_numpy(dtype=np.float32))

    def _cov_stats(self, df: pd.DataFrame) -> None:
        """Per-series mean/std of every covariate (a column that never varies gets std 1)."""
        g = df.groupby(ID, sort=True)[self.covariates_]
        mean, std = g.mean(), g.std(ddof=0).fillna(0.0)
        std = std.where(std > 1e-9, 1.0)
        # indexable by unique_id, giving (n_rows, C) arrays
        self.cov_mean_ = _RowLookup(mean.astype(np.float32))
        self.cov_std_ = _RowLookup(std.astype(np.float32))

    def _batch(
        self, t: SeriesTable, series: np.ndarray, at: np.ndarray, h: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Inputs for forecasts made at flat positions ``at`` (rows of series ``series``).

        Returns (context (B, L, n_in), log scale (B,), future inputs (B, h, n_future), scale).
        """
        L = self.input_size
        ctx_idx = at[:, None] + np.arange(-L, 0)[None, :]
        y_ctx, obs = t.y[ctx_idx], t.observed[ctx_idx]
        scale = np.abs(y_ctx * obs).sum(1) / np.maximum(obs.sum(1), 1.0)
        scale = np.maximum(scale, t.floor[series]).astype(np.float32)
        phase_ctx = t.phase[ctx_idx] * (2 * math.pi / max(self.season_length, 1))
        ctx = [y_ctx / scale[:, None], obs, np.sin(phase_ctx), np.cos(phase_ctx)]
        ctx = np.stack(ctx, axis=-1)
        if t.covs.shape[1]:
            ctx = np.concatenate([ctx, t.covs[ctx_idx]], axis=-1)
        fut_idx = at[:, None] + np.arange(h)[None, :]
        fut_idx = np.minimum(fut_idx, len(t.y) - 1)
        phase_f = t.phase[fut_idx] * (2 * math.pi / max(self.season_length, 1))
        fut = [np.sin(phase_f)[..., None], np.cos(phase_f)[..., None]]
        if self.future_idx_:
            fut.append(t.covs[fut_idx][..., self.future_idx_])
        return (ctx.astype(np.float32), np.log(scale).astype(np.float32),
                np.concatenate(fut, axis=-1).astype(np.float32), scale)

    # -- training -----------------------------------------------------------------------------
    def _fit(self, df: pd.DataFrame, static_df: pd.DataFrame | None) -> None:
        import torch

        numeric = [c for c in df.columns if c not in (ID, TIME, TARGET)
                   and pd.api.types.is_numeric_dtype(df[c])]
        self.covariates_ = numeric
        self.future_cols_ = [c for c in numeric if c in self.future_known]
        self.future_idx_ = [numeric.index(c) for c in self.future_cols_]
        df = df[[ID, TIME, TARGET, *numeric]].copy()
        df[TARGET] = df[TARGET].astype(float)
        if df[numeric].isna().any().any():
            df[numeric] = df.groupby(ID)[numeric].ffill().fillna(0.0)
        self._cov_stats(df)
        self.last_cov_ = df.groupby(ID, sort=True)[numeric].last() if numeric else None
        self.history_ = df
        table = self._table(df)
        self.table_ = table
        H, L = self.horizon, self.input_size
        # a forecast made at row p needs p+H <= end; validation: the last H rows of each series
        lo = table.start + L + 1  # at least one observed point of context
        val_at = table.end - H
        has_val = val_at - H >= lo  # only where training windows remain before it
        train_hi = np.where(has_val, val_at - H, table.end - H)  # inclusive upper bound
        ok = train_hi >= lo
        if not ok.any():
            raise InputError(
                f"Every series is shorter than {H + 1} steps: too short to train a "
                f"{self.name} model for a {H}-step horizon; pass a smaller horizon."
            )
        counts = np.where(ok, train_hi - lo + 1, 0)
        n_out = 1 + len(TRAIN_QUANTILES)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        n_future = 2 + len(self.future_idx_)
        with torch_threads(self.n_threads):
            net = _build_network(self.arch, 4 + len(numeric), n_future, H, self.hidden_size,
                                 self.num_layers, n_out, L, self.dropout)
            opt = torch.optim.AdamW(net.parameters(), lr=self.learning_rate, weight_decay=1e-4)
            sched = torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=self.learning_rate, total_steps=max(self.max_steps, 1), pct_start=0.1
            )
            val = None
            if has_val.any() and self.patience > 0:
                vs = np.flatnonzero(has_val)
                val = self._tensors(table, vs, val_at[vs], H)
            probs = counts / counts.sum()
            best, best_state, stale, self.history_loss_ = np.inf, None, 0, []
            for step in range(1, self.max_steps + 1):
                net.train()
                series = rng.choice(len(counts), size=self.batch_size, p=probs)
                at = lo[series] + (rng.random(self.batch_size) * counts[series]).astype(np.int64)
                loss = self._loss(net, self._tensors(table, series, at, H))
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                opt.step()
                sched.step()
                if val is not None and (step % self.val_every == 0 or step == self.max_steps):
                    net.eval()
                    with torch.no_grad():
                        v = float(self._loss(net, val))
                    self.history_loss_.append((step, loss.item(), v))
                    if v < best - 1e-6:
                        best, best_state, stale = v, copy.deepcopy(net.state_dict()), 0
                    else:
                        stale += 1
                        if stale >= self.patience:
                            break
            if best_state is not None:
                net.load_state_dict(best_state)
        self.steps_trained_ = step
        self.val_loss_ = best
        self.net_ = net.eval()

    def _tensors(self, t: SeriesTable, series: np.ndarray, at: np.ndarray, h: int) -> tuple[Any, ...]:
        import torch

        ctx, log_scale, fut, scale = self._batch(t, series, at, h)
        tgt_idx = at[:, None] + np.arange(h)[None, :]
        target = t.y[tgt_idx] / scale[:, None]
        return (torch.from_numpy(ctx), torch.from_numpy(log_scale), torch.from_numpy(fut),
                torch.from_numpy(target.astype(np.float32)))

    @staticmethod
    def _loss(net: Any, batch: tuple[Any, ...]) -> Any:
        """Squared error of the point output plus the mean pinball loss of the quantile grid."""
        import torch

        ctx, log_scale, fut, target = batch
        out = net(ctx, log_scale, fut)
        point, quant = out[..., 0], out[..., 1:]
        qs = torch.tensor(TRAIN_QUANTILES, dtype=out.dtype)
        diff = target.unsqueeze(-1) - quant
        pinball = torch.maximum(qs * diff, (qs - 1) * diff).mean()
        return pinball + 0.5 * ((point - target) ** 2).mean()

    # -- forecasting --------------------------------------------------------------------------
    def _future_covariates(self, h: int, X_future: pd.DataFrame | None) -> pd.DataFrame:
        """Standardised future-known covariates on the forecast grid (missing: last value)."""
        grid = self.future_dates(h)
        cols = self.future_cols_
        if not cols:
            return grid
        have = [c for c in cols if X_future is not None and c in X_future.columns]
        if have:
            if ID not in X_future.columns or TIME not in X_future.columns:
                raise InputError("X_future needs unique_id and ds columns.")
            fut = X_future[[ID, TIME, *have]].copy()
            fut[TIME] = pd.to_datetime(fut[TIME]).astype(grid[TIME].dtype)
            grid = grid.merge(fut.drop_duplicates([ID, TIME]), on=[ID, TIME], how="left")
        for c in cols:  # not given, or a gap: the last known value
            last = grid[ID].map(self.last_cov_[c])
            grid[c] = grid[c].fillna(last) if c in grid.columns else last
        mean = self.cov_mean_[grid[ID]].to_numpy()[:, self.future_idx_]
        std = self.cov_std_[grid[ID]].to_numpy()[:, self.future_idx_]
        grid[cols] = (grid[cols].to_numpy(dtype=np.float32) - mean) / std
        return grid

    def _predict(self, h: int, X_future: pd.DataFrame | None, quantiles: list[float]) -> pd.DataFrame:
        import torch

        grid = self._future_covariates(h, X_future)
        t = copy.copy(self.table_)
        n = len(t.ids)
        H = self.horizon
        fut_cov = grid[self.future_cols_].to_numpy(dtype=np.float32) if self.future_cols_ else None
        # append the horizon rows to each series (after its end) so windows can be cut as usual
        y_parts, o_parts, c_parts, p_parts = [], [], [], []
        new_start, pos = np.zeros(n, np.int64), 0
        last_cov = t.covs[t.end - 1]
        for i in range(n):
            seg = slice(t.start[i], t.end[i])
            y_parts += [t.y[seg], np.zeros(h, np.float32)]
            o_parts += [t.observed[seg], np.zeros(h, np.float32)]
            covs = np.repeat(last_cov[i : i + 1], h, axis=0)  # past-only ones: last value
            if fut_cov is not None:
                covs[:, self.future_idx_] = fut_cov[i * h : (i + 1) * h]
            c_parts += [t.covs[seg], covs]
            last_phase = t.phase[t.end[i] - 1]
            p_parts += [t.phase[seg], np.mod(last_phase + np.arange(1, h + 1), max(self.season_length, 1))]
            new_start[i] = pos
            pos += (t.end[i] - t.start[i]) + h
        t.y, t.observed = np.concatenate(y_parts), np.concatenate(o_parts)
        t.covs, t.phase = np.concatenate(c_parts), np.concatenate(p_parts).astype(np.float32)
        t.end = new_start + (self.table_.end - self.table_.start)
        t.start = new_start
        series = np.arange(n)
        point = np.zeros((n, h), np.float32)
        quant = np.zeros((n, h, len(TRAIN_QUANTILES)), np.float32)
        done = 0
        with torch_threads(self.n_threads), torch.no_grad():
            while done < h:
                k = min(H, h - done)
                at = t.end + done
                ctx, log_scale, fut, scale = self._batch(t, series, at, H)
                out = self.net_(torch.from_numpy(ctx), torch.from_numpy(log_scale),
                                torch.from_numpy(fut)).numpy()[:, :k] * scale[:, None, None]
                point[:, done : done + k] = np.maximum(out[..., 0], 0.0)
                quant[:, done : done + k] = out[..., 1:]
                rows = at[:, None] + np.arange(k)[None, :]
                t.y[rows], t.observed[rows] = point[:, done : done + k], 1.0  # roll forward
                done += k
        res = grid[[ID, TIME]].copy()
        res[FORECAST] = point.reshape(-1)
        if quantiles:
            q = interpolate_grid(quant, TRAIN_QUANTILES, quantiles).reshape(-1, len(quantiles))
            for j, qq in enumerate(quantiles):
                res[quantile_column(qq)] = q[:, j]
        return res


class _RowLookup:
    """``lookup[ids]`` -> DataFrame of per-series rows in the order of ``ids``."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __getitem__(self, ids: pd.Series) -> pd.DataFrame:
        return self.frame.reindex(pd.Index(ids)).fillna(0.0)


class LSTMModel(DeepForecaster):
    """A two-layer LSTM encoder with a multi-horizon quantile head (MQ-RNN style)."""

    name = "lstm"
    arch = "lstm"


class TCNModel(DeepForecaster):
    """Dilated causal convolutions (temporal convolutional network) as the encoder."""

    name = "tcn"
    arch = "tcn"


class TransformerModel(DeepForecaster):
    """A small Transformer encoder (self-attention over the context window) as the encoder."""

    name = "transformer"
    arch = "transformer"
