"""Fit the Carr-Hill-style age and rurality weights to the published weighted lists.

The Carr-Hill age-sex workload table and its other indices are not in any public file pcn could
obtain (docs/reference/funding.md). What *is* public is every practice's registered and weighted
list (NHS Payments to General Practice 2022-23) and its age structure (Apr 2020). This module fits,
by ordinary least squares over England's practices, the weight of a patient in each of three age
bands plus a term for a practice the publication classes as rural, so that
``weighted / registered ≈ w_0_15·s_0_15 + w_16_64·s_16_64 + w_65_plus·s_65_plus + w_rural·rural``
(``s`` = share of the list in the band). ``scripts/fit_funding_weights.py`` prints the result that
``definitions/funding/carr_hill.yaml`` records; a test refits and compares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pcn import refdata
from pcn.refdata.funding import gp_payments

#: Practices smaller than this are left out of the fit (new, closing or atypical lists).
MIN_LIST = 1000


@dataclass(frozen=True)
class Fit:
    weights: dict[str, float]
    n_practices: int
    r_squared: float
    median_abs_error_pct: float
    within_5pct: float


def fit_frame() -> pd.DataFrame:
    """Practices with both a published weighted list (2022-23) and an Apr 2020 age structure."""
    pay = gp_payments()
    ages = refdata.practices()[["practice_code", "list_size", "age_16_over", "age_65_over"]]
    d = pay.merge(ages, on="practice_code", how="inner")
    d = d[(d["registered_patients"] >= MIN_LIST) & (d["weighted_patients"] > 0)
          & d["list_size"].notna() & (d["list_size"].astype(float) > 0)
          & d["rurality"].isin(["Urban", "Rural"])].copy()
    n = d["list_size"].astype(float)
    d["s_0_15"] = (n - d["age_16_over"].astype(float)) / n
    d["s_65_plus"] = d["age_65_over"].astype(float) / n
    d["s_16_64"] = 1.0 - d["s_0_15"] - d["s_65_plus"]
    d["rural"] = (d["rurality"] == "Rural").astype(float)
    d["ratio"] = d["weighted_patients"] / d["registered_patients"]
    return d.reset_index(drop=True)


def fit() -> Fit:
    d = fit_frame()
    names = ["age_0_15", "age_16_64", "age_65_plus", "rural"]
    x = d[["s_0_15", "s_16_64", "s_65_plus", "rural"]].to_numpy(dtype=float)
    y = d["ratio"].to_numpy(dtype=float)
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ beta
    rel = np.abs(residual / y)
    return Fit(weights={k: float(v) for k, v in zip(names, beta, strict=True)},
               n_practices=len(d), r_squared=float(1 - residual.var() / y.var()),
               median_abs_error_pct=float(np.median(rel) * 100),
               within_5pct=float((rel < 0.05).mean()))
