"""Spec: the practice summary from a hand-made profile — counts, register denominators under
age/sex conditions, PCN totals, row order, and Wilson intervals equal to the engine's form."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pcn.analytics import primitives as p
from pcn.analytics.registers import Register, default_registers
from pcn.analytics.summary import compute_summary


def _register(rid: str, **conditions: object) -> Register:
    base = default_registers()[0]
    return base.model_copy(update={"id": rid, "min_age": None, "max_age": None, "sex": None,
                                   **conditions})


REGISTERS = [_register("adult", min_age=18), _register("women", sex="F")]


def _profile(rows: list[tuple[str, int | None, str, int | None, bool, bool]]) -> pa.Table:
    practice, age, sex, quintile, adult, women = zip(*rows, strict=True)
    return pa.table({
        "practice_code": pa.array(practice, pa.string()),
        "age": pa.array(age, pa.int64()),
        "sex": pa.array(sex, pa.string()),
        "age_band": pa.array([None if a is None else
                              p.age_band_labels()[sum(a >= e for e in p.AGE_BAND_EDGES) - 1]
                              for a in age], pa.string()),
        "imd_quintile": pa.array(quintile, pa.int64()),
        "reg_adult": pa.array(adult, pa.bool_()),
        "reg_women": pa.array(women, pa.bool_()),
    })


@pytest.fixture
def summary() -> list[dict]:
    profile = _profile([
        ("B00002", 70, "F", 1, True, True),
        ("A00001", 10, "M", 5, False, False),
        ("A00001", 45, "F", None, True, False),
        ("A00001", None, "F", 2, False, True),   # age unknown: in no age-limited denominator
        ("Z99999", 30, "M", 3, True, False),     # practice outside the PCN table
    ])
    practices = pa.table({"practice_code": ["A00001", "B00002"], "pcn_code": ["U1", "U1"]})
    return compute_summary(profile, practices, REGISTERS).to_pylist()


def test_rows_ordered_practices_then_their_pcn_unknown_pcn_last(summary) -> None:
    assert [(r["level"], r["pcn_code"], r["practice_code"]) for r in summary] == [
        ("practice", "U1", "A00001"), ("practice", "U1", "B00002"), ("pcn", "U1", None),
        ("practice", None, "Z99999"), ("pcn", None, None)]


def test_counts_and_denominators(summary) -> None:
    a, b, pcn = summary[0], summary[1], summary[2]
    assert (a["list_size"], a["female"], a["male"]) == (3, 2, 1)
    assert (a["age_5_17"], a["age_40_64"], b["age_65_74"]) == (1, 1, 1)
    assert (a["imd_q5"], a["imd_q2"], a["imd_unknown"]) == (1, 1, 1)
    assert (a["reg_adult_count"], a["reg_adult_denominator"]) == (1, 1)
    assert (a["reg_women_count"], a["reg_women_denominator"]) == (1, 2)
    assert (pcn["list_size"], pcn["reg_adult_count"], pcn["reg_adult_denominator"]) == (4, 2, 2)
    assert pcn["reg_women_prevalence"] == pytest.approx(2 / 3)


def test_empty_denominator_gives_null_rates(summary) -> None:
    z = summary[3]
    assert (z["reg_women_count"], z["reg_women_denominator"]) == (0, 0)
    assert z["reg_women_prevalence"] is None and z["reg_women_ci_low"] is None


def test_intervals_are_the_oracle_values(summary) -> None:
    for row in summary:
        x, n = row["reg_women_count"], row["reg_women_denominator"]
        if n:
            low, high = p.wilson_interval_py(x, n)
            assert row["reg_women_ci_low"] == pytest.approx(low, abs=1e-15)
            assert row["reg_women_ci_high"] == pytest.approx(high, abs=1e-15)


def test_numpy_wilson_equals_engine_wilson(tiny_engine) -> None:
    from tests.spec.conftest import patient

    e = tiny_engine(patients=[patient(1)])
    x = [0, 1, 5, 81, 263, 999, 12_345]
    n = [10, 3, 5, 263, 1000, 1000, 50_000]
    t = e.arrow_table(pa.table({"x": pa.array(x, pa.int64()), "n": pa.array(n, pa.int64())}))
    low, high = p.wilson_interval(t.x, t.n)
    got = e.to_arrow(t.select("x", low=low, high=high).order_by("x")).to_pylist()
    np_low, np_high = p.wilson_interval_arrays(x, n)
    assert [r["low"] for r in got] == pytest.approx(list(np_low), abs=1e-15)
    assert [r["high"] for r in got] == pytest.approx(list(np_high), abs=1e-15)


def test_practice_in_two_pcns_is_an_error() -> None:
    profile = _profile([("A00001", 50, "F", 1, True, True)])
    practices = pa.table({"practice_code": ["A00001", "A00001"], "pcn_code": ["U1", "U2"]})
    with pytest.raises(ValueError, match="A00001 is listed in two PCNs"):
        compute_summary(profile, practices, REGISTERS)
