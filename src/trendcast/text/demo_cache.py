"""Encoder vectors of the bundled demo texts, shipped so ``trendcast demo`` runs in minutes.

The demo shop has 32k texts but only ~2k distinct ones; encoding those with e5-small takes
about 30 s on an idle 2-core machine and several minutes on a busy one. ``demo_step`` therefore
seeds the warehouse's embedding cache from ``resources/demo_vectors_e5-small.npz`` (the
encoder's own float16 output for every distinct demo text) and encodes only texts not in it.
Nothing is approximated: a changed demo generator just means more texts get encoded.

Regenerate after changing the demo texts or the encoder::

    .venv/bin/python -m trendcast.text.demo_cache
"""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path

import pandas as pd

from trendcast.text.clean import clean_text
from trendcast.text.embeddings import embed_texts, export_vectors
from trendcast.text.encoders import DEFAULT_ENCODER


def demo_cache_file(model: str = DEFAULT_ENCODER) -> Path | None:
    """The shipped vector file for ``model``, or None when there is none."""
    ref = resources.files("trendcast.text.resources").joinpath(f"demo_vectors_{model}.npz")
    return Path(str(ref)) if ref.is_file() else None


def build_demo_cache(out: Path, model: str = DEFAULT_ENCODER) -> int:
    """Encode every distinct (cleaned) demo text with ``model`` and save the vectors to ``out``."""
    from trendcast.data.demo import demo_paths

    texts = pd.read_csv(demo_paths()["texts"])["text"]
    distinct = sorted({clean_text(t) for t in texts} - {""})
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cache.duckdb"
        embed_texts(db, distinct, model=model)
        return export_vectors(db, out, model=model)


if __name__ == "__main__":
    target = Path(__file__).parent / "resources" / f"demo_vectors_{DEFAULT_ENCODER}.npz"
    n = build_demo_cache(target)
    print(f"wrote {n} vectors to {target} ({target.stat().st_size / 1e6:.2f} MB)")
