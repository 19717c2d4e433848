"""A small character CNN for Chinese sentiment, run in numpy (the ``fast`` model's second opinion).

Why a CNN beside the sparse n-gram model: hashed n-grams see each 1-3 character window on its
own; the CNN learns dense character embeddings, so rare variants of a phrase share strength,
and its errors differ from the linear model's. Stacked with the sparse logit
(:class:`CnnStack`, weights fitted on out-of-fold logits of the training pool) it gains
accuracy at a fraction of the encoder's cost. Training is in torch
(:func:`trendcast.text.train.fit_char_cnn`); the shipped weights are plain numpy arrays and
inference is numpy only: embedding lookup, one matrix product per kernel width over sliding
windows, ReLU, max over time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from trendcast.text.shipped import is_shipped, shipped_path

CNN_FILE = "sentiment_cnn.npz"
PAD, UNKNOWN = 0, 1  # ids 0 and 1; vocabulary characters start at 2


@dataclass(frozen=True)
class CharCNN:
    """Embedding -> Conv1d per kernel width -> ReLU -> max over time -> linear logit (no dropout at inference)."""

    chars: str  # the vocabulary: character i has id i + 2
    emb: np.ndarray  # (len(chars) + 2, dim); row 0 (padding) is zero
    kernels: tuple[int, ...]
    conv_w: tuple[np.ndarray, ...]  # per kernel width k: (filters, dim * k), torch's (filters, dim, k) flattened
    conv_b: tuple[np.ndarray, ...]  # per kernel width: (filters,)
    out_w: np.ndarray  # (filters * len(kernels),)
    out_b: float
    max_len: int  # characters read per text (the first max_len)

    def ids(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Character ids per text (lower-cased, cut to ``max_len``, padded to the widest kernel).

        All texts are mapped in one vectorised look-up of their code points (a Python dict per
        character cost a third of the model's time)."""
        cut = [t.lower()[: self.max_len] for t in texts]
        points = np.frombuffer("".join(cut).encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
        codes, id_of = _lookup(self.chars)
        pos = np.minimum(np.searchsorted(codes, points), len(codes) - 1)
        mapped = np.where(codes[pos] == points, id_of[pos], UNKNOWN)
        width = max(self.kernels)
        out, start = [], 0
        for t in cut:
            seq = mapped[start : start + len(t)]
            start += len(t)
            out.append(seq if len(seq) >= width else np.concatenate([seq, np.full(width - len(seq), PAD)]))
        return out

    def logit(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """Log-odds of positive per text; texts are grouped by length so little time goes on padding."""
        seqs = self.ids(texts)
        out = np.zeros(len(seqs))
        order = np.argsort([len(s) for s in seqs], kind="stable")
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            width = max(len(seqs[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                ids[j, : len(seqs[i])] = seqs[i]
            out[rows] = self._forward(ids)
        return out

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        # the convolution is linear in the embeddings, so each character's response to the weights
        # of offset j in a window of width k is a row of a (vocabulary, filters) table computed once
        # per model (:func:`_char_tables`); a window's response is a sum of k shifted look-ups, done
        # one small table at a time so the working set stays in cache
        length = ids.shape[1]
        pooled = []
        for k, b, tables in zip(self.kernels, self.conv_b, _char_tables(self), strict=True):
            h = tables[0][ids[:, : length - k + 1]]
            h += b
            for j in range(1, k):
                h += tables[j][ids[:, j : length - k + 1 + j]]
            np.maximum(h, 0.0, out=h)
            h *= (ids[:, k - 1 :] != PAD)[:, :, None]  # windows that end on padding count as 0 (as in training)
            pooled.append(h.max(axis=1))
        return np.concatenate(pooled, axis=1) @ self.out_w + self.out_b


def _char_tables(model: CharCNN) -> list[list[np.ndarray]]:
    """Per kernel width k, per offset j: ``(vocabulary, filters)``, each character's embedding times
    the conv weights that multiply a character sitting j places into the window (torch's
    ``(filters, dim, k)`` layout, flattened). Cached per model object."""
    hit = _TABLES.get(id(model))
    if hit is not None and hit[0] is model:
        return hit[1]
    dim = model.emb.shape[1]
    tables = []
    for k, w in zip(model.kernels, model.conv_w, strict=True):
        w3 = w.reshape(w.shape[0], dim, k)
        tables.append([np.ascontiguousarray(model.emb @ w3[:, :, j].T, dtype=np.float32) for j in range(k)])
    _TABLES[id(model)] = (model, tables)
    return tables


_TABLES: dict[int, tuple[CharCNN, list[list[np.ndarray]]]] = {}


@lru_cache(maxsize=4)
def _lookup(chars: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted code points of the vocabulary and the id of each (character i of ``chars`` has id i + 2)."""
    points = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)
    order = np.argsort(points, kind="stable")
    return points[order], (order + 2).astype(np.int64)


@dataclass(frozen=True)
class CnnStack:
    """The CNN plus the logistic regression that mixes its logit with the sparse one (Chinese / mixed texts)."""

    cnn: CharCNN
    w_sparse: float
    w_cnn: float
    b: float
    meta: dict

    def logit(self, sparse_logit: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        return self.w_sparse * sparse_logit + self.w_cnn * self.cnn.logit(texts) + self.b

    def save(self, path: Path) -> None:
        cnn = self.cnn
        convs = {f"conv{k}_w": w.astype(np.float16) for k, w in zip(cnn.kernels, cnn.conv_w, strict=True)}
        convs |= {f"conv{k}_b": b.astype(np.float32) for k, b in zip(cnn.kernels, cnn.conv_b, strict=True)}
        np.savez_compressed(
            path, chars=np.array(cnn.chars), emb=cnn.emb.astype(np.float16), kernels=np.array(cnn.kernels, np.int32),
            out_w=cnn.out_w.astype(np.float32), out_b=np.float32(cnn.out_b), max_len=np.int32(cnn.max_len),
            stack=np.array([self.w_sparse, self.w_cnn, self.b], np.float64),
            meta=np.array(json.dumps(self.meta, ensure_ascii=False)), **convs)

    @classmethod
    def load(cls, path: Path | None = None) -> CnnStack:
        """Load the shipped CNN stack (or one at ``path``); plain arrays only, no pickle."""
        if path is None:
            path = shipped_path(CNN_FILE, "character CNN", "scripts/train_sentiment.py --cnn")
        with np.load(path, allow_pickle=False) as z:
            kernels = tuple(int(k) for k in z["kernels"])
            cnn = CharCNN(chars=str(z["chars"]), emb=z["emb"].astype(np.float32), kernels=kernels,
                          conv_w=tuple(z[f"conv{k}_w"].astype(np.float32) for k in kernels),
                          conv_b=tuple(z[f"conv{k}_b"].astype(np.float32) for k in kernels),
                          out_w=z["out_w"].astype(np.float32), out_b=float(z["out_b"]), max_len=int(z["max_len"]))
            w_sparse, w_cnn, b = (float(v) for v in z["stack"])
            return cls(cnn=cnn, w_sparse=w_sparse, w_cnn=w_cnn, b=b, meta=json.loads(str(z["meta"])))


def cnn_shipped() -> bool:
    return is_shipped(CNN_FILE)


@lru_cache(maxsize=1)
def default_cnn_stack() -> CnnStack:
    return CnnStack.load()
