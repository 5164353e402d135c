"""Dry-run register definitions on a tiny population built from the definitions themselves.

For every register we make a handful of patients whose expected status follows from the
definition's fields alone (diagnosed → on; resolved later → off; re-diagnosed → on; under the
minimum age → off; diagnosed before ``diagnosed_from`` or outside the look-back → off; coded after
the index date → off; qualifying observation → on; on an excluded register → off). The engine's
answer is compared with those expectations. ``pcn definitions check`` runs it on DuckDB; the
spec tests run it on every engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

from pcn.analytics import primitives as p
from pcn.analytics.engine import Engine, EngineKind
from pcn.analytics.profile import PROFILE_PROVIDERS, RunContext, compute_profile
from pcn.analytics.registers import Register
from pcn.record.schemas import TABLES
from pcn.refdata import codelist

INDEX_DATE = dt.date(2024, 3, 31)
PRACTICE = "A00001"


@dataclass(frozen=True)
class Case:
    register: str
    patient_id: int
    why: str
    expected: bool


@dataclass
class TinyPopulation:
    tables: dict[str, pa.Table]
    cases: list[Case]


def _dob_for_age(age: int) -> dt.date:
    """Date of birth giving ``age`` on the index date (birthday well away from it)."""
    return dt.date(INDEX_DATE.year - age - 1, 9, 15)


def _first_code(ids: Sequence[str]) -> str:
    return sorted(codelist(ids[0]).codes)[0]


def tiny_population(registers: Sequence[Register]) -> TinyPopulation:
    by_id = {r.id: r for r in registers}
    patients: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    cases: list[Case] = []

    for n, r in enumerate(registers):
        next_id = iter(range((n + 1) * 100, (n + 2) * 100))
        lo = r.min_age or 0
        age = max(lo + 5, 30) if r.max_age is None else (lo + r.max_age) // 2
        sex = r.sex or "F"
        dx = _first_code(r.codelists)
        # A diagnosis date every condition of the definition accepts.
        dx_date = INDEX_DATE - dt.timedelta(days=30)
        earliest = r.diagnosed_from
        if r.lookback_months is not None:
            window = p.window_start(INDEX_DATE, r.lookback_months)
            earliest = window if earliest is None else max(earliest, window)

        def add(why: str, expected: bool, codes: Sequence[tuple[dt.date, str, float | None]],
                age: int = age, sex: str = sex, reg: Register = r,
                ids: Iterator[int] = next_id) -> int:
            pid = next(ids)
            patients.append({"patient_id": pid, "date_of_birth": _dob_for_age(age), "sex": sex})
            for date, code, value in codes:
                events.append({"patient_id": pid, "date": date, "snomed_code": code,
                               "numeric_value": value})
            cases.append(Case(reg.id, pid, why, expected))
            return pid

        add("diagnosed", True, [(dx_date, dx, None)])
        add("coded after the index date", False, [(INDEX_DATE + dt.timedelta(days=1), dx, None)])
        add("no diagnosis", False, [])
        if len(r.codelists) > 1:
            add("diagnosed with a code from the last codelist", True,
                [(dx_date, _first_code(r.codelists[-1:]), None)])
        if r.resolved_codelists:
            res = _first_code(r.resolved_codelists)
            before = dx_date - dt.timedelta(days=10)
            add("resolved after diagnosis", False, [(before, dx, None), (dx_date, res, None)])
            add("resolved on the day of diagnosis", False, [(dx_date, dx, None),
                                                             (dx_date, res, None)])
            add("re-diagnosed after resolution", True,
                [(before - dt.timedelta(days=10), dx, None), (before, res, None),
                 (dx_date, dx, None)])
        if r.min_age is not None and r.min_age > 0:
            add(f"aged {r.min_age - 1}, under the minimum", False, [(dx_date, dx, None)],
                age=r.min_age - 1)
            add(f"aged exactly {r.min_age}", True, [(dx_date, dx, None)], age=r.min_age)
        if r.max_age is not None:
            add(f"aged {r.max_age + 1}, over the maximum", False, [(dx_date, dx, None)],
                age=r.max_age + 1)
        if r.sex is not None:
            add("the other sex", False, [(dx_date, dx, None)], sex="M" if r.sex == "F" else "F")
        if earliest is not None:
            add("diagnosed the day before the earliest date counted", False,
                [(earliest - dt.timedelta(days=1), dx, None)])
            add("diagnosed on the earliest date counted", True, [(earliest, dx, None)])
        vc = r.value_criterion
        if vc is not None:
            obs = sorted(codelist(vc.codelist).codes)[0]
            in_window = INDEX_DATE - dt.timedelta(days=20)
            ok = vc.min_value if vc.min_value is not None else vc.max_value
            bad = (vc.min_value - 0.5) if vc.min_value is not None else (vc.max_value or 0) + 0.5
            add("qualifying observation", True, [(in_window, obs, ok)])
            add("non-qualifying observation", False, [(in_window, obs, bad)])
            add("qualifying observation, later non-qualifying", False,
                [(in_window - dt.timedelta(days=5), obs, ok), (in_window, obs, bad)])
            add("qualifying observation before the window", False,
                [(p.window_start(INDEX_DATE, vc.lookback_months) - dt.timedelta(days=1), obs,
                  ok)])
        for other_id in r.excluding_registers:
            other = by_id[other_id]
            other_age = max(age, other.min_age or 0)
            add(f"also on the {other_id} register", False,
                [(dx_date, dx, None), (dx_date, _first_code(other.codelists), None)],
                age=other_age)

    tables = {
        "patients": pa.Table.from_pylist(
            [{"nhs_number": "9990000000", "ethnicity_code": None, "lsoa_code": None,
              "date_of_death": None, **row} for row in patients], schema=TABLES["patients"].schema),
        "registrations": pa.Table.from_pylist(
            [{"patient_id": row["patient_id"], "practice_code": PRACTICE,
              "start_date": dt.date(1990, 1, 1), "end_date": None} for row in patients],
            schema=TABLES["registrations"].schema),
        "clinical_events": pa.Table.from_pylist(events, schema=TABLES["clinical_events"].schema),
    }
    for name in ("practices", "lsoa", "medications"):
        tables[name] = TABLES[name].schema.empty_table()
    return TinyPopulation(tables, cases)


@dataclass(frozen=True)
class Mismatch:
    case: Case
    got: bool

    def __str__(self) -> str:
        c = self.case
        return (f"{c.register}: patient {c.patient_id} ({c.why}) expected "
                f"{'on' if c.expected else 'off'} the register, got {'on' if self.got else 'off'}")


def dry_run(registers: Sequence[Register], kind: EngineKind = "duckdb") -> list[Mismatch]:
    """Run ``registers`` on their tiny population; return every disagreement."""
    pop = tiny_population(registers)
    providers = [q for q in PROFILE_PROVIDERS if q.name in ("demographics", "registers")]
    with Engine.from_arrow(pop.tables, kind) as engine:
        ctx = RunContext(engine=engine, index_date=INDEX_DATE, registers=list(registers))
        profile = compute_profile(ctx, providers)
        cols = ["patient_id", *[f"reg_{r.id}" for r in registers]]
        result = profile.select(cols).to_pylist()
    got = {row["patient_id"]: row for row in result}
    mismatches = []
    for case in pop.cases:
        value = bool(got.get(case.patient_id, {}).get(f"reg_{case.register}", False))
        if value != case.expected:
            mismatches.append(Mismatch(case, value))
    return mismatches
