"""A Townsend-score stand-in for QRISK3's deprivation input, from the IMD 2019 decile.

QRISK3 was derived with the Townsend deprivation score of the patient's census output area
(Hippisley-Cox et al., BMJ 2017;357:j2099). pcn's record carries the patient's LSOA and hence the
English IMD 2019 decile (1 = most deprived 10% of LSOAs), not a Townsend score, and no public
LSOA-level Townsend table is shipped. The mapping below (ADR 0031) places each IMD decile at the
matching quantile of a Townsend distribution:

    townsend(d) = -TOWNSEND_SD * Phi^-1((d - 0.5) / 10)

i.e. the mid-point of decile ``d`` of a centred normal distribution, with deprivation increasing
as the decile falls. Townsend scores are sums of four z-scores, so their area-level mean is 0 by
construction; ``TOWNSEND_SD`` = 3.0 makes the outer deciles land near +/-4.9, inside the roughly
-7 to +11 range of Townsend scores. The table is a stand-in, not a measurement: the IMD and
Townsend rankings agree closely but not exactly, and Townsend is right-skewed, which a normal
quantile ignores. A missing decile maps to 0 (the mean, i.e. "average deprivation").
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

#: Standard deviation assumed for the area-level Townsend distribution (see module docstring).
TOWNSEND_SD = 3.0


def _table() -> dict[int, float]:
    normal = NormalDist()
    return {d: -TOWNSEND_SD * normal.inv_cdf((d - 0.5) / 10) for d in range(1, 11)}


#: IMD 2019 decile (1 = most deprived) -> Townsend stand-in.
TOWNSEND_BY_IMD_DECILE: dict[int, float] = _table()


def townsend_from_imd_decile(decile: int | None) -> float:
    """The Townsend stand-in for one IMD 2019 decile; ``None`` (unknown LSOA) gives 0.0."""
    if decile is None:
        return 0.0
    if isinstance(decile, bool) or int(decile) != decile or not 1 <= int(decile) <= 10:
        raise ValueError(f"IMD decile must be an integer 1-10, got {decile!r}")
    return TOWNSEND_BY_IMD_DECILE[int(decile)]


def townsend_from_imd_deciles(deciles: pd.Series) -> pd.Series:
    """Vectorised :func:`townsend_from_imd_decile`; missing deciles give 0.0."""
    bad = deciles.notna() & ~deciles.isin(list(TOWNSEND_BY_IMD_DECILE))
    if bad.any():
        raise ValueError(f"IMD decile must be an integer 1-10, got {sorted(set(deciles[bad]))}")
    values = np.asarray(deciles.to_numpy(dtype=np.float64, na_value=np.nan))
    town = np.zeros(len(values), dtype=np.float64)
    known = ~np.isnan(values)
    town[known] = _TOWNSEND_TABLE[values[known].astype(np.intp)]
    return pd.Series(town, index=deciles.index, name=deciles.name)


#: TOWNSEND_BY_IMD_DECILE as an array indexed by decile (index 0 unused).
_TOWNSEND_TABLE = np.array([0.0] + [TOWNSEND_BY_IMD_DECILE[d] for d in range(1, 11)])
