"""Train the shipped sentiment head: ``python scripts/train_sentiment.py [--cache DIR] [--out FILE]``.

Seeded and deterministic given the same ../shared data (see trendcast.text.train for the recipe).
Writes ``src/trendcast/text/resources/sentiment_head.npz`` (numpy arrays, no pickle) and prints
test accuracy of both stages. Encoder vectors are cached in ``--cache`` so re-runs are quick.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from trendcast.text.sentiment import HEAD_FILE  # noqa: E402
from trendcast.text.train import STACK_ROWS, train_head  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "trendcast" / "sentiment", help="encoder vector cache")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "trendcast" / "text" / "resources" / HEAD_FILE)
    parser.add_argument("--stack-rows", type=int, default=STACK_ROWS, help="reviews_zh-train rows for stage 2")
    parser.add_argument("--folds", type=int, default=3, help="folds for the out-of-fold stage-1 logits")
    args = parser.parse_args()
    start = time.perf_counter()
    head, metrics = train_head(args.cache, stack_rows=args.stack_rows, folds=args.folds)
    head.meta["test_accuracy"] = metrics
    head.save(args.out)
    print(json.dumps(metrics, indent=1))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
