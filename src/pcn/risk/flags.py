"""Reading per-patient 0/1 condition flags, whatever dtype the engine hands over."""

from __future__ import annotations

import numpy as np
import pandas as pd


def flag_array(values: pd.Series, *, column: str, score: str) -> np.ndarray:
    """0/1 int64 array from a flag column: bool, nullable boolean, Arrow bool, 0/1 numbers or
    text. Null means "not recorded", i.e. absent; anything else raises, naming column and row."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(dtype=bool).astype(np.int64)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64").fillna(0.0)
    else:
        numbers = pd.to_numeric(values.astype(object).where(values.notna(), 0), errors="coerce")
    bad = (numbers.isna() | ~numbers.isin([0, 1])).to_numpy(dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{score} input {column!r} must be 0/1 or boolean "
                         f"(row {row + 1}: {values.iloc[row]!r})")
    return numbers.to_numpy(dtype=np.float64).astype(np.int64)
