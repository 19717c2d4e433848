"""Sentence vectors for texts and products, cached in the warehouse so each text is encoded once.

Table ``text_embeddings(text_hash, model, vector FLOAT[])``: the key is a hash of the cleaned
text plus the encoder name, so a re-run (or a new day's ingest) only encodes texts never seen
before, and switching encoders never mixes vectors. Products are embedded from
``title + description`` for cold start and similar-product search.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from trendcast.data.tables import ddl
from trendcast.data.warehouse import Warehouse
from trendcast.errors import InputError, NotReadyError
from trendcast.text.clean import clean_text
from trendcast.text.encoders import DEFAULT_ENCODER, get_encoder

EMBED_TABLE = "text_embeddings"


def text_hash(text: str) -> str:
    """Stable 20-hex-char key of a (cleaned) text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


@contextmanager
def open_warehouse(db: Path | str | Warehouse, read_only: bool = False) -> Iterator[Warehouse]:
    """Use an open :class:`Warehouse` as is, or open (and later close) one from a path."""
    if isinstance(db, Warehouse):
        yield db
        return
    with Warehouse(db, read_only=read_only) as wh:
        yield wh


def _ensure_table(wh: Warehouse) -> None:
    wh.con.execute(ddl(EMBED_TABLE))


def embed_texts(
    db: Path | str | Warehouse,
    texts: Sequence[str],
    model: str = DEFAULT_ENCODER,
    batch_size: int = 256,
    on_batch=None,  # noqa: ANN001 - callable(n_done) for progress bars
) -> np.ndarray:
    """Vectors ``(len(texts), dim)`` for cleaned ``texts``: cached rows are read, new ones encoded and stored."""
    keys = [text_hash(t) for t in texts]
    with open_warehouse(db) as wh:
        _ensure_table(wh)
        have = _fetch(wh, sorted(set(keys)), model)
        todo = {k: t for k, t in zip(keys, texts, strict=True) if k not in have}
        if todo:
            encoder = get_encoder(model)
            items = list(todo.items())
            for i in range(0, len(items), batch_size):
                chunk = items[i : i + batch_size]
                vecs = encoder.encode([t for _, t in chunk])
                frame = pd.DataFrame({"text_hash": [k for k, _ in chunk], "model": model, "vector": list(vecs)})
                wh.con.register("emb_frame", frame)
                wh.con.execute(
                    f"INSERT OR IGNORE INTO {EMBED_TABLE} SELECT text_hash, model, vector::FLOAT[] FROM emb_frame"
                )
                wh.con.unregister("emb_frame")
                have.update(zip([k for k, _ in chunk], vecs, strict=True))
                if on_batch:
                    on_batch(len(chunk))
    if not keys:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([have[k] for k in keys]).astype(np.float32)


def _count(wh: Warehouse) -> int:
    # fetchall, not fetchone: DuckDB keeps a half-read result open and then refuses register()
    return int(wh.con.execute(f"SELECT count(*) FROM {EMBED_TABLE}").fetchall()[0][0])


def import_vectors(db: Path | str | Warehouse, path: Path, model: str = DEFAULT_ENCODER) -> int:
    """Seed the cache from an ``.npz`` with ``keys`` (text hashes) and ``vectors``; returns rows added.

    Lets a known corpus (the bundled demo texts) skip the encoder: the vectors are the encoder's
    own output, saved by :func:`export_vectors`. Existing rows are kept.
    """
    with np.load(path, allow_pickle=False) as z:
        frame = pd.DataFrame({"text_hash": z["keys"].astype(str), "model": model,
                              "vector": list(z["vectors"].astype(np.float32))})
    with open_warehouse(db) as wh:
        _ensure_table(wh)
        before = _count(wh)
        wh.con.register("emb_frame", frame)
        wh.con.execute(
            f"INSERT OR IGNORE INTO {EMBED_TABLE} SELECT text_hash, model, vector::FLOAT[] FROM emb_frame"
        )
        wh.con.unregister("emb_frame")
        return _count(wh) - before


def export_vectors(db: Path | str | Warehouse, path: Path, model: str = DEFAULT_ENCODER) -> int:
    """Write every cached vector of ``model`` to ``path`` (float16 ``.npz``); returns the row count."""
    with open_warehouse(db) as wh:
        _ensure_table(wh)
        rows = wh.con.execute(
            f"SELECT text_hash, vector FROM {EMBED_TABLE} WHERE model = ? ORDER BY text_hash", [model]
        ).fetchall()
    keys = np.array([k for k, _ in rows])
    vectors = np.array([v for _, v in rows], dtype=np.float16).reshape(len(rows), -1)
    np.savez_compressed(path, keys=keys, vectors=vectors)
    return len(rows)


def _fetch(wh: Warehouse, keys: list[str], model: str) -> dict[str, np.ndarray]:
    if not keys:
        return {}
    wh.con.register("want_keys", pd.DataFrame({"text_hash": keys}))
    rows = wh.con.execute(
        f"SELECT e.text_hash, e.vector FROM {EMBED_TABLE} e JOIN want_keys w USING (text_hash) WHERE e.model = ?",
        [model],
    ).fetchall()
    wh.con.unregister("want_keys")
    return {k: np.asarray(v, dtype=np.float32) for k, v in rows}


def _product_text(row: pd.Series) -> str:
    parts = [row.get("title"), row.get("description")]
    return clean_text(" ".join(str(p) for p in parts if isinstance(p, str) and p))


def embed_products(db: Path | str | Warehouse, model: str = DEFAULT_ENCODER) -> pd.DataFrame:
    """``item_id, vector`` (numpy float32 arrays) from each product's title and description."""
    with open_warehouse(db) as wh:
        products = wh.table("products")
        if products.empty:
            raise NotReadyError("The warehouse has no products: run `trendcast ingest --products FILE`.")
        texts = [_product_text(r) or str(r["item_id"]) for _, r in products.iterrows()]
        vecs = embed_texts(wh, texts, model=model)
    return pd.DataFrame({"item_id": products["item_id"].to_numpy(), "vector": list(vecs)})


def similar_items(
    db: Path | str | Warehouse, query: str, k: int = 10, model: str = DEFAULT_ENCODER
) -> pd.DataFrame:
    """The ``k`` products closest to ``query`` (an item_id in the catalogue, or any free text).

    Returns ``item_id, similarity, category, title``, best first; an item never matches itself.
    """
    with open_warehouse(db) as wh:
        emb = embed_products(wh, model=model)
        products = wh.table("products").set_index("item_id")
        matrix = np.vstack(emb["vector"].to_numpy())
        if query in set(emb["item_id"]):
            q = matrix[int(np.flatnonzero(emb["item_id"].to_numpy() == query)[0])]
            exclude = query
        else:
            text = clean_text(query)
            if not text:
                raise InputError("similar_items needs an item_id or a non-empty text.")
            q = embed_texts(wh, [text], model=model)[0]
            exclude = None
    sims = matrix @ q
    out = pd.DataFrame({"item_id": emb["item_id"], "similarity": sims})
    if exclude is not None:
        out = out[out["item_id"] != exclude]
    out = out.nlargest(k, "similarity").reset_index(drop=True)
    out["category"] = out["item_id"].map(products["category"])
    out["title"] = out["item_id"].map(products["title"])
    return out
