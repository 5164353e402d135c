"""Spec: registered population, age and age band, sex, deprivation."""

from __future__ import annotations

import datetime as dt

from pcn.analytics import primitives as p
from tests.spec.conftest import D, lsoa_row, patient, reg

INDEX = D(2024, 3, 31)


def rows(engine, expr, order=("patient_id",)) -> list[dict]:
    return engine.to_arrow(expr.order_by(list(order))).to_pylist()


def test_registered_population_on_index_date(tiny_engine) -> None:
    e = tiny_engine(
        patients=[patient(1), patient(2), patient(3), patient(4), patient(5, died=INDEX),
                  patient(6, died=INDEX + dt.timedelta(days=1)), patient(7)],
        registrations=[
            reg(1, "A1"),                                    # registered, open-ended
            reg(2, "A1", end=INDEX),                         # last day registered = index
            reg(3, "A1", end=INDEX - dt.timedelta(days=1)),  # left the day before
            reg(4, "A1", start=INDEX + dt.timedelta(days=1)),  # joins the day after
            reg(5, "A1"),                                    # died on the index date
            reg(6, "A1"),                                    # dies the day after
            reg(7, "A1", start=D(2001, 1, 1), end=D(2020, 1, 1)),  # moved from A1 to A2
            reg(7, "A2", start=D(2020, 1, 2)),
        ],
    )
    got = rows(e, p.registered_population(e.table("patients"), e.table("registrations"), INDEX))
    assert got == [
        {"patient_id": 1, "practice_code": "A1"},
        {"patient_id": 2, "practice_code": "A1"},
        {"patient_id": 6, "practice_code": "A1"},
        {"patient_id": 7, "practice_code": "A2"},
    ]


def test_overlapping_registrations_count_once_at_latest_practice(tiny_engine) -> None:
    e = tiny_engine(
        patients=[patient(1)],
        registrations=[reg(1, "B1", start=D(2010, 1, 1)), reg(1, "A1", start=D(2015, 1, 1)),
                       reg(1, "C1", start=D(2015, 1, 1))],
    )
    got = rows(e, p.registered_population(e.table("patients"), e.table("registrations"), INDEX))
    assert got == [{"patient_id": 1, "practice_code": "C1"}]


def test_age_at_counts_birthdays_by_day(tiny_engine) -> None:
    e = tiny_engine(patients=[
        patient(1, dob=D(1960, 3, 31)),   # birthday on the index date: 64
        patient(2, dob=D(1960, 4, 1)),    # birthday tomorrow: 63
        patient(3, dob=D(2000, 2, 29)),   # leap-day birth: 24 on 31 March 2024
        patient(4, dob=D(2024, 3, 31)),   # born on the index date: 0
        patient(5, dob=D(1923, 12, 31)),  # 100
    ])
    got = rows(e, p.age_at(e.table("patients"), INDEX))
    assert [r["age"] for r in got] == [64, 63, 24, 0, 100]


def test_age_at_leap_day_birthday_in_non_leap_year(tiny_engine) -> None:
    e = tiny_engine(patients=[patient(1, dob=D(2000, 2, 29))])
    on_28th = rows(e, p.age_at(e.table("patients"), D(2023, 2, 28)))
    on_1st = rows(e, p.age_at(e.table("patients"), D(2023, 3, 1)))
    assert on_28th[0]["age"] == 22
    assert on_1st[0]["age"] == 23


def test_age_band_edges(tiny_engine) -> None:
    dobs = {1: D(2024, 3, 31), 2: D(2019, 4, 1), 3: D(2019, 3, 31), 4: D(2006, 3, 31),
            5: D(1939, 3, 31), 6: D(1939, 4, 1)}
    e = tiny_engine(patients=[patient(i, dob=d) for i, d in dobs.items()])
    ages = p.age_at(e.table("patients"), INDEX)
    got = rows(e, ages.mutate(band=p.age_band(ages.age)))
    assert [(r["age"], r["band"]) for r in got] == [
        (0, "0-4"), (4, "0-4"), (5, "5-17"), (18, "18-39"), (85, "85+"), (84, "75-84")]
    assert p.age_band_labels() == ["0-4", "5-17", "18-39", "40-64", "65-74", "75-84", "85+"]


def test_sex(tiny_engine) -> None:
    e = tiny_engine(patients=[patient(1, sex="M"), patient(2, sex="F")])
    assert rows(e, p.sex(e.table("patients"))) == [
        {"patient_id": 1, "sex": "M"}, {"patient_id": 2, "sex": "F"}]


def test_deprivation_joins_lsoa(tiny_engine) -> None:
    e = tiny_engine(
        patients=[patient(1, lsoa="E01000001"), patient(2, lsoa="E01000002"), patient(3),
                  patient(4, lsoa="E01000009")],
        lsoa=[lsoa_row("E01000001", 1, "A1"), lsoa_row("E01000002", 10, "E2"),
              lsoa_row("E01000003", 6)],
    )
    got = rows(e, p.deprivation(e.table("patients"), e.table("lsoa")))
    assert got == [
        {"patient_id": 1, "lsoa_code": "E01000001", "imd_decile": 1, "imd_quintile": 1,
         "rural_urban": "A1"},
        {"patient_id": 2, "lsoa_code": "E01000002", "imd_decile": 10, "imd_quintile": 5,
         "rural_urban": "E2"},
        {"patient_id": 3, "lsoa_code": None, "imd_decile": None, "imd_quintile": None,
         "rural_urban": None},
        {"patient_id": 4, "lsoa_code": "E01000009", "imd_decile": None, "imd_quintile": None,
         "rural_urban": None},
    ]


def test_sample_patients_is_a_deterministic_hash_share(tiny_engine) -> None:
    ids = list(range(1, 401))
    e = tiny_engine(patients=[patient(i) for i in ids], registrations=[reg(i) for i in ids])
    pop = p.registered_population(e.table("patients"), e.table("registrations"), INDEX)
    half = [r["patient_id"] for r in rows(e, p.sample_patients(pop, 0.5))]
    # The definition, evaluated in plain Python: both engines must keep exactly these patients.
    assert half == [i for i in ids if (i * 2_654_435_761) % 1_000_003 < 500_002]
    assert 150 <= len(half) <= 250  # about half, and not a contiguous block
    assert half != ids[: len(half)]
    assert rows(e, p.sample_patients(pop, 0.0)) == []
    assert len(rows(e, p.sample_patients(pop, 1.0))) == len(ids)
