"""PatchCast: trendcast's own pretrained forecasting Transformer.

- :mod:`.model` the network; :mod:`.corpus` + :mod:`.pretrain` how the shipped weights were made;
- :mod:`.forecaster` ``PretrainedForecaster`` (registry name ``patchtst_pretrained``), zero-shot,
  and ``FinetunedForecaster`` (``patchtst_finetuned``), fine-tuned at every fit (auto's candidate);
- :mod:`.finetune` ``finetune(panel, strategy=...)`` -> versioned artefact directory;
- :mod:`.chronos_bolt` ``ChronosBoltLocal`` for a user's local Chronos-Bolt checkpoint.

Nothing here imports torch until used, so ``import trendcast`` stays fast.
"""

from __future__ import annotations

import time
from pathlib import Path


def demo_step(db: Path, out: Path) -> dict[str, str]:
    """Zero-shot forecast of every series over the data's usual horizon (28 days, 13 weeks or
    6 months), then a quick ``head`` fine-tune.

    Writes ``pretrained_forecast.csv`` and a fine-tuned artefact folder under ``out``.
    """
    import json

    import torch

    from trendcast.data.export import write_csv
    from trendcast.data.periods import panel_freq
    from trendcast.data.warehouse import Warehouse
    from trendcast.features.frequency import default_horizon, season_length, unit
    from trendcast.models.pretrained.finetune import finetune
    from trendcast.models.pretrained.forecaster import PretrainedForecaster

    torch.set_num_threads(1)  # a shared 2-core box: extra threads contend and run slower
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with Warehouse(db, read_only=True) as wh:
        panel = wh.sales_panel()
    freq = panel_freq(panel)
    h = default_horizon(freq)
    t0 = time.perf_counter()
    model = PretrainedForecaster(season_length=season_length(freq), freq=freq).fit(panel)
    fc = model.predict(h, quantiles=[0.1, 0.5, 0.9])
    zs_s = time.perf_counter() - t0
    fc_path = out / "pretrained_forecast.csv"
    write_csv(fc, fc_path)
    t1 = time.perf_counter()
    art = finetune(panel, strategy="head", out=out / "finetuned", max_steps=30, eval_every=10, batch_size=64)
    ft_s = time.perf_counter() - t1
    meta = json.loads((art / "metadata.json").read_text())
    return {
        "zero-shot forecast": f"{panel['unique_id'].nunique()} series x {h} {unit(freq)}s in {zs_s:.1f}s -> {fc_path}",
        "head fine-tune": (
            f"{meta['steps']} steps in {ft_s:.1f}s, validation pinball "
            f"{meta['val_loss_before']:.3f} -> {meta['val_loss']:.3f}"
        ),
        "artefact": str(art),
    }
