"""Train the shipped sentiment models: ``python scripts/train_sentiment.py [--head | --english-only | --cascade | --cnn | --multilingual]``.

Seeded and deterministic given the same ../shared data (see trendcast.text.train for the recipes).
By default it writes ``src/trendcast/text/resources/sentiment_sparse.npz``, the
``fast``/``auto`` model; ``--head`` retrains the encoder-based ``full`` model
(``sentiment_head.npz``; encoder vectors are cached in ``--cache`` so re-runs are quick).
``--cascade`` fits the second stage of ``auto`` (``sentiment_cascade.npz``: the encoder for the
Chinese texts the sparse model is unsure of) and chooses its band by cross-validation on the
train splits. ``--cnn`` trains the character CNN of ``fast`` and its stack with the sparse logit
(``sentiment_cnn.npz``; out-of-fold logits of the Chinese train pool, CV figures printed).
``--multilingual`` fits the head for the other languages (``sentiment_multilingual.npz``: encoder
vectors of Chinese and English reviews, read across languages). All
write plain numpy arrays, no pickle, and print their held-out or CV figures.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from trendcast.text.charcnn import CNN_FILE  # noqa: E402
from trendcast.text.multilingual import MULTILINGUAL_FILE  # noqa: E402
from trendcast.text.sentiment import CASCADE_FILE, HEAD_FILE, SPARSE_FILE, SparseHead  # noqa: E402
from trendcast.text.train import (  # noqa: E402
    CNN_EPOCHS,
    STACK_ROWS,
    refit_english,
    train_cascade,
    train_cnn_stack,
    train_head,
    train_multilingual,
    train_sparse,
)

ROOT = Path(__file__).resolve().parents[1]
RES = ROOT / "src" / "trendcast" / "text" / "resources"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--head", action="store_true", help="retrain the encoder-based full model instead")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "trendcast" / "sentiment", help="encoder vector cache")
    parser.add_argument("--out", type=Path, default=None, help="output file (default: the shipped resource)")
    parser.add_argument("--stack-rows", type=int, default=STACK_ROWS, help="reviews_zh-train rows for the full model's stage 2")
    parser.add_argument("--folds", type=int, default=3, help="folds for out-of-fold stacking logits")
    parser.add_argument("--c-zh", type=float, default=16.0, help="inverse L2 strength, Chinese sparse model")
    parser.add_argument("--english-only", action="store_true",
                        help="refit only the English part of the shipped sparse model (seconds, not minutes)")
    parser.add_argument("--cascade", action="store_true",
                        help="fit the cascade's encoder stage and band (Chinese train pool, CV only)")
    parser.add_argument("--cnn", action="store_true",
                        help="fit the character CNN and its stack with the sparse logit (Chinese train pool, CV only)")
    parser.add_argument("--multilingual", action="store_true",
                        help="fit the head for languages other than Chinese and English (encoder vectors)")
    parser.add_argument("--epochs", type=int, default=CNN_EPOCHS, help="CNN training epochs")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.multilingual:
        out = args.out or RES / MULTILINGUAL_FILE
        model, report = train_multilingual(args.cache)
        model.meta["test_accuracy"] = report
    elif args.cnn:  # CV only: these report cross-validation, not test, figures
        out = args.out or RES / CNN_FILE
        model, report = train_cnn_stack(folds=args.folds, epochs=args.epochs)
    elif args.cascade:
        out = args.out or RES / CASCADE_FILE
        model, report = train_cascade(args.cache, folds=max(args.folds, 5))
    else:
        if args.head:
            out = args.out or RES / HEAD_FILE
            model, report = train_head(args.cache, stack_rows=args.stack_rows, folds=args.folds)
        elif args.english_only:
            out = args.out or RES / SPARSE_FILE
            model, report = refit_english(SparseHead.load(RES / SPARSE_FILE))
        else:
            out = args.out or RES / SPARSE_FILE
            model, report = train_sparse(c_zh=args.c_zh, folds=max(args.folds, 5))
        model.meta["test_accuracy"] = {**model.meta.get("test_accuracy", {}), **report}
    model.save(out)
    print(json.dumps(report, indent=1))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
