"""Demand pattern per series: smooth, erratic, intermittent or lumpy (Syntetos-Boylan-Croston).

Two numbers classify a series (Syntetos, Boylan & Croston, 2005):

- ``adi``: average demand interval, periods per non-zero demand (1.0 = sells every period);
- ``cv2``: squared coefficient of variation of the non-zero demand sizes.

With the published cut-offs ADI 1.32 and CV² 0.49: smooth (low, low), erratic (low ADI, high
CV²), intermittent (high ADI, low CV²), lumpy (high, high). Croston-type models are the right
tool for the last two; auto mode uses this to choose a model per demand class.

Periods before a series' first sale are not counted, so a product launched late is not called
intermittent for the months it was not on sale yet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trendcast.frame import ID, TARGET, TIME

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")
SPARSE = frozenset({"intermittent", "lumpy"})


def demand_pattern(df: pd.DataFrame) -> pd.DataFrame:
    """``unique_id, adi, cv2, pattern`` for every series of a long frame ``unique_id, ds, y``.

    A series that never sold gets ``adi = inf`` and the pattern ``intermittent``.
    """
    d = df[[ID, TIME, TARGET]].sort_values([ID, TIME])
    sold = d[TARGET].fillna(0) > 0
    started = sold.groupby(d[ID]).cummax()  # drop the periods before the first sale
    live = d[started]
    periods = live.groupby(ID).size()
    sizes = live.loc[live[TARGET] > 0].groupby(ID)[TARGET]
    nonzero = sizes.size()
    mean, std = sizes.mean(), sizes.std(ddof=0)
    out = pd.DataFrame(index=pd.Index(d[ID].unique(), name=ID))
    out["adi"] = (periods / nonzero).reindex(out.index).fillna(np.inf)
    out["cv2"] = ((std / mean) ** 2).reindex(out.index).fillna(0.0)
    sparse, variable = out["adi"] >= ADI_CUTOFF, out["cv2"] >= CV2_CUTOFF
    out["pattern"] = np.select(
        [~sparse & ~variable, ~sparse & variable, sparse & ~variable], PATTERNS[:3], default=PATTERNS[3]
    )
    return out.reset_index()
