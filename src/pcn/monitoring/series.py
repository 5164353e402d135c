"""Series of home blood-pressure readings and their NICE NG136 category (ADR 0150).

A series is one patient's readings with no gap of more than ``max_gap_days`` between the
calendar dates of consecutive readings. The first calendar day of a series is discarded and the
rest averaged; the category is, in this order:

* ``severe``: any reading of the series (first day included) at or above 180 systolic or 120
  diastolic;
* ``insufficient``: fewer than 3 distinct calendar days left after the discard;
* on the hypertension register: ``target_met`` / ``above_target`` by the target for the
  person's age on the series' first day;
* otherwise ``stage2`` / ``stage1`` / ``normal``: a stage is reached when either mean reaches it.

Means are exact fractions (readings are compared without rounding); they are rounded only for
display.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from pcn.monitoring.rules import HomeBpRules, home_bp_rules

CATEGORIES = ("insufficient", "normal", "stage1", "stage2", "severe", "target_met", "above_target")
CATEGORY_TEXT = {
    "insufficient": "Not enough readings yet",
    "normal": "Normal home blood pressure",
    "stage1": "Stage 1 hypertension range",
    "stage2": "Stage 2 hypertension range",
    "severe": "Very high reading: needs a clinician today",
    "target_met": "On target",
    "above_target": "Above target",
}


@dataclass(frozen=True)
class BpReading:
    patient_id: int
    taken_at: dt.datetime
    systolic: Fraction
    diastolic: Fraction
    pulse: int | None = None

    @property
    def day(self) -> dt.date:
        return self.taken_at.date()


@dataclass(frozen=True)
class PatientFacts:
    """What the record says about one person that the category needs."""

    date_of_birth: dt.date | None = None
    #: Dates of hypertension diagnosis codes and of "hypertension resolved" codes.
    diagnosed_on: tuple[dt.date, ...] = ()
    resolved_on: tuple[dt.date, ...] = ()

    def age_on(self, day: dt.date) -> int | None:
        if self.date_of_birth is None:
            return None
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    def on_register(self, day: dt.date) -> bool:
        """QOF pattern: latest diagnosis on or before ``day`` not ended by a resolved code on
        the same day or later (up to ``day``)."""
        diagnosed = [d for d in self.diagnosed_on if d <= day]
        if not diagnosed:
            return False
        resolved = [d for d in self.resolved_on if d <= day]
        return not resolved or max(resolved) < max(diagnosed)


@dataclass(frozen=True)
class SeriesSummary:
    patient_id: int
    series_start: dt.date
    series_end: dt.date
    readings: tuple[BpReading, ...]
    used: tuple[BpReading, ...]
    days_used: int
    mean_systolic: Fraction | None
    mean_diastolic: Fraction | None
    category: str
    on_register: bool
    age: int | None
    severe_readings: tuple[BpReading, ...] = field(default=())

    @property
    def n_readings_used(self) -> int:
        return len(self.used)

    @property
    def key(self) -> str:
        """Stable identity of the series (for alerts: one task per series and alert)."""
        return f"{self.patient_id}:{self.series_start.isoformat()}"


def split_series(
    readings: Iterable[BpReading], rules: HomeBpRules | None = None
) -> list[list[BpReading]]:
    """One patient's readings cut into series at gaps of more than ``max_gap_days`` between
    consecutive readings' calendar dates (3 days apart: same series; 4: a new one)."""
    rules = rules or home_bp_rules()
    ordered = sorted(readings, key=lambda r: r.taken_at)
    out: list[list[BpReading]] = []
    for r in ordered:
        if out and (r.day - out[-1][-1].day).days <= rules.averaging.max_gap_days:
            out[-1].append(r)
        else:
            out.append([r])
    return out


def _mean(values: Sequence[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


def classify_series(
    series: Sequence[BpReading], facts: PatientFacts | None = None, rules: HomeBpRules | None = None
) -> SeriesSummary:
    rules = rules or home_bp_rules()
    facts = facts or PatientFacts()
    start, end = series[0].day, series[-1].day
    used = (
        tuple(r for r in series if r.day != start)
        if rules.averaging.discard_first_day
        else tuple(series)
    )
    days = len({r.day for r in used})
    mean_sys = _mean([r.systolic for r in used])
    mean_dia = _mean([r.diastolic for r in used])
    severe = tuple(
        r
        for r in series
        if r.systolic >= rules.severe.systolic_at_least
        or r.diastolic >= rules.severe.diastolic_at_least
    )
    on_register = facts.on_register(end)
    age = facts.age_on(start)
    if severe:
        category = "severe"
    elif days < rules.averaging.min_days_after_discard or mean_sys is None or mean_dia is None:
        category = "insufficient"
    elif on_register:
        target = rules.target_for(age)
        met = mean_sys < target.systolic_below and mean_dia < target.diastolic_below
        category = "target_met" if met else "above_target"
    else:
        s2, s1 = rules.diagnosis.stage2, rules.diagnosis.stage1
        if mean_sys >= s2.systolic_at_least or mean_dia >= s2.diastolic_at_least:
            category = "stage2"
        elif mean_sys >= s1.systolic_at_least or mean_dia >= s1.diastolic_at_least:
            category = "stage1"
        else:
            category = "normal"
    return SeriesSummary(
        patient_id=series[0].patient_id,
        series_start=start,
        series_end=end,
        readings=tuple(series),
        used=used,
        days_used=days,
        mean_systolic=mean_sys,
        mean_diastolic=mean_dia,
        category=category,
        on_register=on_register,
        age=age,
        severe_readings=severe,
    )


def summarise(
    readings: Iterable[BpReading], facts: dict[int, PatientFacts], rules: HomeBpRules | None = None
) -> list[SeriesSummary]:
    """Every series of every patient, sorted by patient and series start."""
    rules = rules or home_bp_rules()
    by_patient: dict[int, list[BpReading]] = {}
    for r in readings:
        by_patient.setdefault(r.patient_id, []).append(r)
    out: list[SeriesSummary] = []
    for pid in sorted(by_patient):
        for s in split_series(by_patient[pid], rules):
            out.append(classify_series(s, facts.get(pid), rules))
    return out


def display_mean(value: Fraction | None) -> str:
    """A mean as written in the summary CSV: one decimal place, empty when there is none."""
    if value is None:
        return ""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
