"""Spec: coded events — has code, first/latest date, latest value, last-k statistics, counts,
medications, latest category and resolved-vs-active registers."""

from __future__ import annotations

import math

import pytest

from pcn.analytics import primitives as p
from pcn.refdata import codelist
from tests.spec.conftest import D, ev, med, patient

INDEX = D(2024, 3, 31)
HYP = sorted(codelist("nhsd-primary-care-domain-refsets-hyp_cod").codes)
HYPRES = sorted(codelist("nhsd-primary-care-domain-refsets-hypres_cod").codes)
SBP = sorted(codelist("opensafely-systolic-blood-pressure-qof").codes)
OTHER = "22298006"  # myocardial infarction: in none of the lists used here


def rows(engine, expr) -> list[dict]:
    return engine.to_arrow(expr.order_by("patient_id")).to_pylist()


@pytest.fixture
def events_engine(tiny_engine):
    return tiny_engine(
        patients=[patient(i) for i in range(1, 6)],
        clinical_events=[
            ev(1, D(2010, 5, 1), HYP[0]),
            ev(1, D(2020, 5, 1), HYP[1]),
            ev(1, D(2020, 5, 1), HYP[1]),            # duplicate entry
            ev(2, D(2024, 3, 31), HYP[0]),           # on the index date: inside
            ev(3, D(2024, 4, 1), HYP[0]),            # the day after: outside
            ev(3, D(2015, 1, 1), OTHER),
            ev(4, D(2023, 4, 1), HYP[0]),            # first day of a 12-month window
            ev(4, D(2023, 3, 31), HYP[2]),           # the day before the window
        ],
    )


def test_has_code_ever_before_and_in_window(events_engine) -> None:
    e = events_engine
    t = e.table("clinical_events")
    ever = rows(e, p.has_code(t, HYP))
    before = rows(e, p.has_code(t, HYP, end=INDEX))
    window = rows(e, p.has_code(t, HYP, start=p.window_start(INDEX, 12), end=INDEX))
    assert [r["patient_id"] for r in ever] == [1, 2, 3, 4]
    assert [r["patient_id"] for r in before] == [1, 2, 4]
    assert [r["patient_id"] for r in window] == [2, 4]
    assert all(r["has_code"] is True for r in ever)


def test_window_start_is_inclusive_and_month_aware() -> None:
    assert p.window_start(D(2024, 3, 31), 12) == D(2023, 4, 1)
    assert p.months_before(D(2024, 3, 31), 1) == D(2024, 2, 29)
    assert p.months_before(D(2023, 3, 31), 1) == D(2023, 2, 28)
    assert p.months_before(D(2024, 1, 15), 13) == D(2022, 12, 15)


def test_first_and_latest_date(events_engine) -> None:
    e = events_engine
    t = e.table("clinical_events")
    first = rows(e, p.first_date(t, HYP, end=INDEX))
    latest = rows(e, p.latest_date(t, HYP, end=INDEX))
    assert first == [{"patient_id": 1, "first_date": D(2010, 5, 1)},
                     {"patient_id": 2, "first_date": D(2024, 3, 31)},
                     {"patient_id": 4, "first_date": D(2023, 3, 31)}]
    assert latest == [{"patient_id": 1, "latest_date": D(2020, 5, 1)},
                      {"patient_id": 2, "latest_date": D(2024, 3, 31)},
                      {"patient_id": 4, "latest_date": D(2023, 4, 1)}]


def test_latest_value_breaks_ties_deterministically(tiny_engine) -> None:
    e = tiny_engine(
        patients=[patient(i) for i in range(1, 5)],
        clinical_events=[
            ev(1, D(2023, 1, 1), SBP[0], 150.0),
            ev(1, D(2024, 1, 1), SBP[0], 128.0),     # latest
            ev(1, D(2024, 6, 1), SBP[0], 190.0),     # after the index date
            ev(2, D(2024, 1, 1), SBP[0], 140.0),     # two readings on the latest day
            ev(2, D(2024, 1, 1), SBP[1], 132.0),
            ev(3, D(2024, 1, 1), SBP[0], None),      # no value: ignored
            ev(3, D(2022, 1, 1), SBP[0], 118.0),
            ev(4, D(2024, 1, 1), OTHER, 99.0),       # not in the codelist
        ],
    )
    t = e.table("clinical_events")
    highest = rows(e, p.latest_value(t, SBP, end=INDEX, name="sbp"))
    lowest = rows(e, p.latest_value(t, SBP, end=INDEX, prefer="lowest", name="sbp"))
    assert highest == [{"patient_id": 1, "sbp": 128.0, "sbp_date": D(2024, 1, 1)},
                       {"patient_id": 2, "sbp": 140.0, "sbp_date": D(2024, 1, 1)},
                       {"patient_id": 3, "sbp": 118.0, "sbp_date": D(2022, 1, 1)}]
    assert [r["sbp"] for r in lowest] == [128.0, 132.0, 118.0]


def test_latest_value_same_day_same_value_is_one_row(tiny_engine) -> None:
    e = tiny_engine(patients=[patient(1)], clinical_events=[
        ev(1, D(2024, 1, 1), SBP[0], 120.0), ev(1, D(2024, 1, 1), SBP[1], 120.0)])
    got = rows(e, p.latest_value(e.table("clinical_events"), SBP, end=INDEX))
    assert got == [{"patient_id": 1, "value": 120.0, "value_date": D(2024, 1, 1)}]


def test_mean_sd_of_last_k_values(tiny_engine) -> None:
    e = tiny_engine(
        patients=[patient(1), patient(2)],
        clinical_events=[
            ev(1, D(2020, 1, 1), SBP[0], 200.0),     # 4th latest: outside k=3
            ev(1, D(2021, 1, 1), SBP[0], 120.0),
            ev(1, D(2022, 1, 1), SBP[0], 130.0),
            ev(1, D(2023, 1, 1), SBP[0], 140.0),
            ev(2, D(2023, 1, 1), SBP[0], 150.0),     # a single value: SD undefined
        ],
    )
    got = rows(e, p.mean_sd_last(e.table("clinical_events"), SBP, k=3, end=INDEX, name="sbp"))
    assert got[0]["sbp_mean"] == pytest.approx(130.0)
    assert got[0]["sbp_sd"] == pytest.approx(10.0)
    assert got[0]["sbp_n"] == 3
    assert got[1]["sbp_mean"] == pytest.approx(150.0)
    assert got[1]["sbp_sd"] is None or math.isnan(got[1]["sbp_sd"])
    assert got[1]["sbp_n"] == 1


def test_count_events_and_distinct_codes(events_engine) -> None:
    got = rows(events_engine, p.count_events(events_engine.table("clinical_events"), HYP,
                                             start=D(2000, 1, 1), end=INDEX, name="hyp"))
    assert got == [{"patient_id": 1, "hyp_n": 3, "hyp_codes": 2},
                   {"patient_id": 2, "hyp_n": 1, "hyp_codes": 1},
                   {"patient_id": 4, "hyp_n": 2, "hyp_codes": 2}]


def test_distinct_medications_in_window(tiny_engine) -> None:
    e = tiny_engine(
        patients=[patient(1), patient(2)],
        medications=[
            med(1, D(2023, 4, 1), "39113611000001102"),
            med(1, D(2023, 9, 1), "39113611000001102"),   # same drug again
            med(1, D(2024, 3, 31), "42206511000001102"),
            med(1, D(2023, 3, 31), "39694711000001108"),  # before the window
            med(2, D(2024, 4, 1), "39113611000001102"),   # after the index date
        ],
    )
    m = e.table("medications")
    got = rows(e, p.distinct_medications(m, start=p.window_start(INDEX, 12), end=INDEX))
    assert got == [{"patient_id": 1, "medications": 2}]
    only = rows(e, p.distinct_medications(m, end=INDEX, codes=["39694711000001108"], name="n"))
    assert only == [{"patient_id": 1, "n": 1}]


def test_latest_category_smoking_status(tiny_engine) -> None:
    current = sorted(codelist("nhsd-primary-care-domain-refsets-lsmok_cod").codes)[0]
    ex = sorted(codelist("nhsd-primary-care-domain-refsets-exsmok_cod").codes)[0]
    never = "266919005"
    e = tiny_engine(
        patients=[patient(i) for i in range(1, 5)],
        clinical_events=[
            ev(1, D(2015, 1, 1), current), ev(1, D(2020, 1, 1), ex),      # quit: ex
            ev(2, D(2015, 1, 1), never), ev(2, D(2021, 1, 1), current),   # started: current
            ev(3, D(2022, 1, 1), ex), ev(3, D(2022, 1, 1), current),      # same day: current
            ev(4, D(2025, 1, 1), current),                                # after index
        ],
    )
    cats = {"current": [current], "ex": [ex], "never": [never]}
    got = rows(e, p.latest_category(e.table("clinical_events"), cats, end=INDEX, name="smoking"))
    assert [(r["patient_id"], r["smoking"], r["smoking_date"]) for r in got] == [
        (1, "ex", D(2020, 1, 1)), (2, "current", D(2021, 1, 1)), (3, "current", D(2022, 1, 1))]


def test_on_register_resolved_vs_active(tiny_engine) -> None:
    e = tiny_engine(
        patients=[patient(i) for i in range(1, 7)],
        clinical_events=[
            ev(1, D(2010, 1, 1), HYP[0]),                                   # active
            ev(2, D(2010, 1, 1), HYP[0]), ev(2, D(2015, 1, 1), HYPRES[0]),  # resolved
            ev(3, D(2010, 1, 1), HYP[0]), ev(3, D(2015, 1, 1), HYPRES[0]),
            ev(3, D(2020, 1, 1), HYP[1]),                                   # re-diagnosed
            ev(4, D(2010, 1, 1), HYP[0]), ev(4, D(2010, 1, 1), HYPRES[0]),  # same day: resolved
            ev(5, D(2010, 1, 1), HYP[0]), ev(5, D(2025, 1, 1), HYPRES[0]),  # resolved later
            ev(6, D(2024, 6, 1), HYP[0]),                                   # after index
        ],
    )
    got = rows(e, p.on_register(e.table("clinical_events"), HYP, HYPRES, end=INDEX, name="hyp"))
    assert [(r["patient_id"], r["hyp"], r["hyp_date"]) for r in got] == [
        (1, True, D(2010, 1, 1)), (3, True, D(2020, 1, 1)), (5, True, D(2010, 1, 1))]


def test_on_register_without_resolved_list_and_from_date(tiny_engine) -> None:
    e = tiny_engine(
        patients=[patient(1), patient(2)],
        clinical_events=[ev(1, D(2005, 1, 1), HYP[0]), ev(2, D(2006, 4, 1), HYP[0])],
    )
    got = rows(e, p.on_register(e.table("clinical_events"), HYP, start=D(2006, 4, 1), end=INDEX))
    assert [r["patient_id"] for r in got] == [2]


def test_attach_fills_missing_patients(events_engine) -> None:
    e = events_engine
    pop = e.table("patients").select("patient_id")
    t = e.table("clinical_events")
    out = p.attach(pop, p.has_code(t, HYP, end=INDEX, name="hyp"), fill={"hyp": False})
    out = p.attach(out, p.count_events(t, HYP, end=INDEX, name="n"), fill={"n_n": 0})
    got = rows(e, out)
    assert [(r["patient_id"], r["hyp"], r["n_n"], r["n_codes"]) for r in got] == [
        (1, True, 3, 2), (2, True, 1, 1), (3, False, 0, None), (4, True, 2, 2),
        (5, False, 0, None)]


def test_latest_by_tag_dates_and_values_in_one_pass(tiny_engine) -> None:
    import pyarrow as pa

    e = tiny_engine(
        patients=[patient(i) for i in range(1, 5)],
        clinical_events=[
            ev(1, D(2005, 1, 1), HYP[0]),                 # before the 'dx' start date: ignored
            ev(1, D(2010, 1, 1), HYP[0]),
            ev(1, D(2015, 1, 1), HYPRES[0]),
            ev(2, D(2012, 1, 1), HYP[1]),
            ev(3, D(2024, 6, 1), HYP[0]),                 # after the end date: ignored
            ev(1, D(2023, 1, 1), SBP[0], 150.0),
            ev(1, D(2023, 1, 1), SBP[0], 130.0),  # same day: tag 2 lowest, 3 highest
            ev(1, D(2023, 2, 1), SBP[0]),                 # no value: counts for dates only
            ev(2, D(2020, 1, 1), SBP[1], 120.0),
            ev(2, D(2024, 4, 1), SBP[1], 180.0),          # after the end date: ignored
            ev(4, D(2019, 1, 1), SBP[0], 140.0),          # before the 'lo' start date
        ],
    )
    codes = [HYP[0], HYP[1], HYPRES[0], *SBP[:2], *SBP[:2], *SBP[:2]]
    tags = [0, 0, 1, 2, 2, 3, 3, 4, 4]
    start = [D(2006, 1, 1), D(2006, 1, 1), None, D(2019, 6, 1), D(2019, 6, 1), None, None,
             None, None]
    prefer = [0.0, 0.0, 0.0, -1.0, -1.0, 1.0, 1.0, 0.0, 0.0]
    table = e.arrow_table(pa.table({
        "code": pa.array(codes, pa.string()), "tag": pa.array(tags, pa.int32()),
        "start_date": pa.array(start, pa.date32()), "prefer": pa.array(prefer, pa.float64()),
    }))
    got = e.to_arrow(p.latest_by_tag(e.table("clinical_events"), table, end=INDEX)
                     .order_by(["patient_id", "tag"])).to_pylist()
    assert [(r["patient_id"], r["tag"], r["latest_date"], r["latest_value"]) for r in got] == [
        (1, 0, D(2010, 1, 1), None), (1, 1, D(2015, 1, 1), None),
        (1, 2, D(2023, 1, 1), 130.0), (1, 3, D(2023, 1, 1), 150.0),
        (1, 4, D(2023, 2, 1), None),
        (2, 0, D(2012, 1, 1), None), (2, 2, D(2020, 1, 1), 120.0),
        (2, 3, D(2020, 1, 1), 120.0), (2, 4, D(2020, 1, 1), None),
        (4, 3, D(2019, 1, 1), 140.0), (4, 4, D(2019, 1, 1), None),
    ]


def test_issued_by_tag_windows_per_tag(tiny_engine) -> None:
    import pyarrow as pa

    statin, aspirin = "39694711000001108", "39113611000001102"
    e = tiny_engine(
        patients=[patient(i) for i in range(1, 4)],
        medications=[
            med(1, D(2023, 10, 1), statin),      # inside the 6-month window
            med(1, D(2023, 1, 1), aspirin),      # outside its 3-month window
            med(2, D(2024, 1, 1), aspirin), med(2, D(2024, 2, 1), aspirin),  # counted once
            med(3, D(2024, 4, 1), statin),       # after the end date
        ],
    )
    table = e.arrow_table(pa.table({
        "code": pa.array([statin, aspirin, statin, aspirin], pa.string()),
        "tag": pa.array([0, 1, 2, 2], pa.int32()),
        "start_date": pa.array([p.window_start(INDEX, 6), p.window_start(INDEX, 3), None, None],
                               pa.date32()),
    }))
    got = e.to_arrow(p.issued_by_tag(e.table("medications"), table, end=INDEX)
                     .order_by(["patient_id", "tag"])).to_pylist()
    assert [(r["patient_id"], r["tag"]) for r in got] == [(1, 0), (1, 2), (2, 1), (2, 2)]
