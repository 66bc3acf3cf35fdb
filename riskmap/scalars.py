"""One way to turn a numpy or pandas cell into a plain Python value, for JSON, history and comparisons.

>>> import numpy as np, pandas as pd
>>> [plain_scalar(v) for v in (np.int64(3), np.float32(0.5), np.bool_(True), float("nan"), pd.NA, pd.NaT, "甲")]
[3, 0.5, True, None, None, None, '甲']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def plain_scalar(v):
    """numpy scalars unwrapped (``.item()``); missing values (None, NaN, ``pd.NA``, NaT) as None; the rest as
    it is (text, dates and timestamps keep their type)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v
