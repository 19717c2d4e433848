"""Progress events from long-running library code (auto mode's backtest, fits, selection).

Library modules never print: they call an ``on_progress`` callback with an :class:`AutoStep`,
and whoever called them decides how to show it (the CLI draws a Rich progress bar on a
terminal and writes one plain line per step otherwise, so logs and cron output stay readable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

STAGES = ("backtest", "select", "fit", "predict")
STATUSES = ("start", "done", "failed", "dropped")


@dataclass(frozen=True)
class AutoStep:
    """One step of auto mode: a candidate's backtest window, the selection, or a final fit."""

    stage: str
    model: str = ""
    window: int = 0  # 1-based backtest window (most recent first); 0 outside the backtest
    windows: int = 0  # windows planned at this moment (the time budget can lower it)
    status: str = "start"
    seconds: float = 0.0
    note: str = ""

    def line(self) -> str:
        """The step as one plain line, e.g. ``backtest auto_ets window 2/3: done in 4.1 s``."""
        what = " ".join(p for p in (self.stage, self.model) if p)
        if self.window:
            what += f" window {self.window}/{self.windows}"
        how = self.status if self.status != "done" else f"done in {self.seconds:.1f} s"
        return f"{what}: {how}" + (f" ({self.note})" if self.note else "")


ProgressCallback = Callable[[AutoStep], None]


def silent(_: AutoStep) -> None:
    """The default callback: show nothing."""
