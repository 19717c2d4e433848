"""Exceptions a shop analyst can read.

Every error trendcast raises on purpose derives from :class:`TrendcastError`; the CLI prints
its message on one line and exits non-zero (``--verbose`` shows the traceback).
"""

from __future__ import annotations


class TrendcastError(Exception):
    """Base class: the message is written for the person running trendcast."""


class InputError(TrendcastError):
    """A file or table does not meet the input contract.

    Carries where the problem is so the message can point at it: file, row (1-based data row,
    header excluded), column and reason.
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file, self.row, self.column, self.reason = file, row, column, reason
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column '{column}'" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {reason}" if where else reason)


class ConfigError(TrendcastError):
    """A setting is out of range or contradicts another one."""


class NotReadyError(TrendcastError):
    """A step needs something that has not been produced yet (e.g. forecast before ingest)."""


class BusyError(TrendcastError):
    """The warehouse is held by another process (DuckDB allows one writer per file)."""
