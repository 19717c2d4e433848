"""Receive an uploaded file into a temporary folder within limits, streamed, memory bounded.

The request body limit (see :class:`trendcast.api.app.BodyLimit`) bounds what is *sent*; a
0.5 MB gzip can still hold 200 MB of rows. So a compressed CSV is decompressed here while it is
copied, chunk by chunk, counting decompressed bytes and rows, and the upload is refused (HTTP
413) the moment either passes the server's limit; the warehouse is never touched. Parquet is
checked from its footer (row count and uncompressed size) before anything reads the data.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import BinaryIO

from trendcast.errors import InputError, TrendcastError

CHUNK = 1024 * 1024


class TooLarge(TrendcastError):
    """An upload is over the server's byte or row limit (answered with HTTP 413)."""


def _limit_error(name: str, what: str) -> TooLarge:
    return TooLarge(f"'{name}' is larger than the server accepts: {what} (start `trendcast serve` "
                    "with bigger --max-upload-mb / --max-upload-rows, or ingest from the CLI).")


def receive(src: BinaryIO, name: str, folder: Path, max_bytes: int, max_rows: int) -> Path:
    """Copy ``src`` into ``folder``; gzip is stored decompressed. Raise TooLarge past a limit."""
    low = name.lower()
    if low.endswith((".parquet", ".pq", ".parq")):
        return _parquet(src, name, folder, max_bytes, max_rows)
    gz = low.endswith(".gz")
    out = folder / (name[:-3] if gz else name)
    inflate = zlib.decompressobj(wbits=47) if gz else None  # 47: gzip or zlib header, auto
    written = rows = 0
    with out.open("wb") as fh:

        def put(piece: bytes) -> None:
            nonlocal written, rows
            written += len(piece)
            if written > max_bytes:
                what = "once decompressed" if gz else "as sent"
                raise _limit_error(name, f"more than {max_bytes / 1e6:g} MB {what}")
            rows += piece.count(b"\n")
            if rows > max_rows + 1:  # + the header line
                raise _limit_error(name, f"more than {max_rows:,} rows")
            fh.write(piece)

        while chunk := src.read(CHUNK):
            if inflate is None:
                put(chunk)
                continue
            data = chunk
            while data:
                # at most CHUNK bytes out per call, written at once: a bomb never sits in memory
                put(_inflate(inflate, data, name))
                data = inflate.unconsumed_tail
                if inflate.eof and inflate.unused_data:  # concatenated gzip members
                    data = inflate.unused_data
                    inflate = zlib.decompressobj(wbits=47)
    if inflate is not None and not inflate.eof and written:
        raise InputError("the gzip stream is cut short (the upload is incomplete)", file=name)
    return out


def _inflate(inflate: zlib._Decompress, data: bytes, name: str) -> bytes:
    try:
        return inflate.decompress(data, CHUNK)
    except zlib.error as exc:
        raise InputError(f"not a valid gzip file ({exc})", file=name) from None


def _parquet(src: BinaryIO, name: str, folder: Path, max_bytes: int, max_rows: int) -> Path:
    import pyarrow.parquet as pq

    out = folder / name
    written = 0
    with out.open("wb") as fh:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise _limit_error(name, f"more than {max_bytes / 1e6:g} MB")
            fh.write(chunk)
    try:
        meta = pq.ParquetFile(out).metadata
    except Exception as exc:  # pyarrow raises several types for a damaged footer
        raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0][:200]})",
                         file=name) from None
    if meta.num_rows > max_rows:
        raise _limit_error(name, f"{meta.num_rows:,} rows (limit {max_rows:,})")
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if size > max_bytes * 4:  # decoded columns take more room than CSV text; allow for it
        raise _limit_error(name, f"{size / 1e6:.0f} MB once decompressed")
    return out
