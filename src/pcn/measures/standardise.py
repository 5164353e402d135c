"""Directly age-standardised rates (DSR) with Dobson confidence intervals, as Fingertips does.

Crude activity rates (admissions, A&E attendances, appointments per 1,000) mostly measure how old
a practice's list is. A DSR applies each practice's age-specific rates to one standard
population, so practices are compared as if they had the same age structure.

- **Standard population**: the European Standard Population 2013 (Eurostat, *Revision of the
  European Standard Population*, 2013), 19 five-year bands 0-4 ... 85-89 and 90+, weights summing
  to 100,000 (:data:`ESP2013`).
- **DSR** = Σ wᵢ·Oᵢ/nᵢ / Σ wᵢ × per, over the bands (Oᵢ events, nᵢ people in band i).
- **95% confidence interval**: Dobson et al., *Confidence intervals for weighted sums of Poisson
  parameters*, Stat Med 1991;10:457-62: with O = ΣOᵢ and var(DSR) = Σ (wᵢ/nᵢ)²·Oᵢ / (Σwᵢ)² × per²,
  DSR_L/U = DSR + √(var/O)·(O_L/U − O), O_L/U the exact Poisson limits for O (chi-square:
  O_L = χ²(α/2; 2O)/2, O_U = χ²(1−α/2; 2O+2)/2). As in Fingertips (PHE *Technical Guide:
  Confidence intervals*; *Fingertips data quality*), a DSR of fewer than 10 events is not
  published: it is *not available*.
- A band with people but no events contributes 0; a band with no people contributes nothing
  (the standard weights are then renormalised over the bands the practice has).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

#: European Standard Population 2013: (lower age of band, weight); the last band is 90+.
ESP2013: tuple[tuple[int, int], ...] = (
    (0, 5000), (5, 5500), (10, 5500), (15, 5500), (20, 6000), (25, 6000), (30, 6500),
    (35, 7000), (40, 7000), (45, 7000), (50, 7000), (55, 6500), (60, 6000), (65, 5500),
    (70, 5000), (75, 4000), (80, 2500), (85, 1500), (90, 1000),
)
#: Fewer events than this: the DSR is not published (Fingertips).
MIN_EVENTS = 10


def esp_band(age: pd.Series | np.ndarray) -> np.ndarray:
    """Index (0-18) of the ESP 2013 band of each age (NaN ages give -1)."""
    a = np.asarray(pd.to_numeric(pd.Series(age), errors="coerce"), dtype="float64")
    lows = np.array([lo for lo, _ in ESP2013], dtype="float64")
    band = np.searchsorted(lows, a, side="right") - 1
    return np.where(np.isnan(a) | (a < 0), -1, band)


def dsr(events: np.ndarray, population: np.ndarray, *, per: float = 1000.0,
        level: float = 0.95) -> tuple[float, float, float]:
    """(DSR, lower, upper) for one unit from per-band events and people (arrays of 19)."""
    o = np.asarray(events, dtype="float64")
    n = np.asarray(population, dtype="float64")
    w = np.array([wt for _, wt in ESP2013], dtype="float64")
    has = n > 0
    if not has.any():
        return float("nan"), float("nan"), float("nan")
    w = np.where(has, w, 0.0)
    total_w = w.sum()
    rate = np.where(has, o / np.where(has, n, 1.0), 0.0)
    value = float((w * rate).sum() / total_w * per)
    observed = float(o[has].sum())
    variance = float(((w / np.where(has, n, 1.0)) ** 2 * o).sum() / total_w**2 * per**2)
    alpha = 1 - level
    lower_o = stats.chi2.ppf(alpha / 2, 2 * observed) / 2 if observed > 0 else 0.0
    upper_o = stats.chi2.ppf(1 - alpha / 2, 2 * observed + 2) / 2
    if observed > 0:
        scale = np.sqrt(variance / observed)
        return value, float(value + scale * (lower_o - observed)), \
            float(value + scale * (upper_o - observed))
    return value, 0.0, float("nan")


def standardised_rates(indicator: object, profile: pd.DataFrame, *, as_of: date,
                       appointments: pd.DataFrame | None = None,
                       hospital_activity: pd.DataFrame | None = None,
                       pcn_code: str = "PCN") -> pd.DataFrame:
    """DSR per practice and for the PCN of a ``rate`` indicator (events per patients), with
    ``dsr``, ``dsr_lower``, ``dsr_upper`` and ``dsr_events`` (events counted in the DSR: those of
    registered patients of known age). Fewer than :data:`MIN_EVENTS` events: NaN."""
    from pcn.measures.expressions import evaluate
    from pcn.measures.indicators import EVENT_DATE, Indicator, _codelist_codes, _events

    assert isinstance(indicator, Indicator)
    if indicator.kind != "rate":
        raise ValueError(f"{indicator.id} is not a rate: only rates are age-standardised")
    table = indicator.numerator.table
    source = {"appointments": appointments, "hospital_activity": hospital_activity}[table]
    if source is None:
        raise ValueError(f"indicator {indicator.id!r} needs the {table} table")
    den_mask = evaluate(indicator.denominator.expression, profile, as_of=as_of,
                        codelist_codes=_codelist_codes)
    columns = indicator.numerator.expression.columns
    frame = _events(table, source, profile, frozenset(columns))
    if "age" not in frame.columns:
        frame = frame.merge(profile[["patient_id", "age"]], on="patient_id", how="left")
    num_mask = evaluate(indicator.numerator.expression, frame, as_of=as_of,
                        codelist_codes=_codelist_codes)
    when = pd.to_datetime(frame[EVENT_DATE[table]])
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    assert indicator.window_months is not None
    num_mask &= (when < end) & (when >= end - pd.DateOffset(months=indicator.window_months))
    people = pd.DataFrame({"org_code": profile.loc[den_mask, "practice_code"],
                           "band": esp_band(profile.loc[den_mask, "age"])})
    events = pd.DataFrame({"org_code": frame.loc[num_mask, "practice_code"],
                           "band": esp_band(frame.loc[num_mask, "age"])})
    people, events = people[people["band"] >= 0], events[events["band"] >= 0]
    bands = len(ESP2013)

    def grid(df: pd.DataFrame) -> pd.DataFrame:
        counts = df.groupby(["org_code", "band"]).size().unstack(fill_value=0)
        return counts.reindex(columns=range(bands), fill_value=0)

    n_by, o_by = grid(people), grid(events)
    orgs = sorted(set(n_by.index) | set(profile["practice_code"].dropna()))
    n_by = n_by.reindex(orgs, fill_value=0)
    o_by = o_by.reindex(orgs, fill_value=0)
    rows = []
    for level, org, o, n in [*(("practice", org, o_by.loc[org], n_by.loc[org]) for org in orgs),
                             ("pcn", pcn_code, o_by.sum(), n_by.sum())]:
        value, lower, upper = dsr(o.to_numpy(), n.to_numpy(), per=float(indicator.per))
        observed = int(o.sum())
        if observed < MIN_EVENTS:
            value = lower = upper = float("nan")
        rows.append({"level": level, "org_code": org, "dsr": value, "dsr_lower": lower,
                     "dsr_upper": upper, "dsr_events": observed})
    return pd.DataFrame(rows)
