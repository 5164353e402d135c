"""One definition of "registered on a date" across every channel (issue 18): the engine's Ibis
population, the web's and the triage desk's pandas readers and the twin report's SQL agree on
hand-made registration periods, including one that ends on the index date itself."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from pcn.analytics.primitives import registered_population
from pcn.record.population import registered_on_mask, registered_on_sql
from pcn.triage.patients import PatientDirectory
from tests.spec.conftest import patient, reg

ON = dt.date(2026, 3, 31)
D = pd.Timestamp

# patient_id, start, end, and whether the registration counts on ON (by the stated rule, written
# out case by case here rather than computed)
CASES = [
    (1, D("2020-01-01"), None, True),           # open-ended
    (2, D("2020-01-01"), D("2026-03-31"), True),  # ends on the index date: still registered
    (3, D("2020-01-01"), D("2026-03-30"), False),  # ended the day before
    (4, D("2026-03-31"), None, True),           # starts on the index date
    (5, D("2026-04-01"), None, False),          # starts the day after
    (6, D("2026-03-31"), D("2026-03-31"), True),  # one day, that day
]
EXPECTED = {pid for pid, _, _, counts in CASES if counts}


def _registrations() -> pd.DataFrame:
    return pd.DataFrame({
        "patient_id": [c[0] for c in CASES],
        "practice_code": "A00001",
        "start_date": pd.to_datetime([c[1] for c in CASES]),
        "end_date": pd.to_datetime([c[2] for c in CASES]),
    })


def _patients() -> pd.DataFrame:
    return pd.DataFrame({"patient_id": [c[0] for c in CASES],
                         "nhs_number": [f"94345678{i:02d}" for i, *_ in CASES],
                         "date_of_birth": pd.to_datetime("1960-01-01"),
                         "date_of_death": pd.to_datetime([None] * len(CASES))})


def test_pandas_rule() -> None:
    regs = _registrations()
    mask = registered_on_mask(regs["start_date"], regs["end_date"], ON)
    assert set(regs.loc[mask, "patient_id"]) == EXPECTED


def test_sql_rule_on_duckdb() -> None:
    con = duckdb.connect()
    con.register("registrations", _registrations())
    rows = con.execute(f"SELECT patient_id FROM registrations r WHERE "
                       f"{registered_on_sql('r', ON)}").fetchall()
    assert {r[0] for r in rows} == EXPECTED


def test_engine_population(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    e = tiny_engine(
        patients=[patient(pid) for pid, *_ in CASES],
        registrations=[reg(pid, "A00001", start=start.date(),
                           end=end.date() if end is not None else None)
                       for pid, start, end, _ in CASES],
    )
    expr = registered_population(e.table("patients"), e.table("registrations"), ON)
    got = e.to_arrow(expr).column("patient_id").to_pylist()
    assert set(got) == EXPECTED


def test_the_triage_desk_sees_the_same_patients_at_their_practice() -> None:
    directory = PatientDirectory(_patients(), _registrations(), None, None, ON,
                                 long_term_registers=frozenset())
    matched = {pid: directory.match(patient_id=pid) for pid, *_ in CASES}
    with_practice = {pid for pid, known in matched.items() if known and known.practices}
    assert with_practice == EXPECTED
