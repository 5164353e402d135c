"""Spec: grouped aggregates with Wilson 95% intervals."""

from __future__ import annotations

import math

import pytest

from pcn.analytics import primitives as p
from tests.spec.conftest import D, patient, reg


def _wilson_by_hand(x: int, n: int) -> tuple[float, float]:
    # Wilson (1927): (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), z = 1.96 (to 1e-4)
    z = 1.96
    ph = x / n
    centre = ph + z * z / (2 * n)
    half = z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def test_wilson_py_matches_textbook_values() -> None:
    # Newcombe (1998), table I example: 81/263 → 0.2553 to 0.3662
    low, high = p.wilson_interval_py(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    # 0 of 10: lower bound exactly 0, upper 0.2775
    assert p.wilson_interval_py(0, 10)[0] == 0.0
    assert round(p.wilson_interval_py(0, 10)[1], 4) == 0.2775


def test_grouped_rate_by_practice(tiny_engine) -> None:
    # practice A1: ages 30, 70, 80 (2 over 65); practice B1: ages 10, 20 (none); women: 1, 2, 4, 5
    dobs = [(1, "A1", D(1994, 1, 1), "F"), (2, "A1", D(1954, 1, 1), "F"),
            (3, "A1", D(1944, 1, 1), "M"), (4, "B1", D(2014, 1, 1), "F"),
            (5, "B1", D(2004, 1, 1), "F")]
    e = tiny_engine(patients=[patient(i, dob=d, sex=s) for i, _, d, s in dobs],
                    registrations=[reg(i, pr) for i, pr, _, _ in dobs])
    pop = p.registered_population(e.table("patients"), e.table("registrations"), D(2024, 3, 31))
    pop = p.attach(pop, p.age_at(e.table("patients"), D(2024, 3, 31)))
    pop = p.attach(pop, p.sex(e.table("patients")))
    by_practice = e.to_arrow(
        p.grouped_rate(pop, ["practice_code"], pop.age >= 65, name="older").order_by(
            "practice_code")).to_pylist()
    assert [(r["practice_code"], r["older_count"], r["older_denominator"]) for r in by_practice] \
        == [("A1", 2, 3), ("B1", 0, 2)]
    assert by_practice[0]["older"] == pytest.approx(2 / 3, abs=1e-12)
    for r, (x, n) in zip(by_practice, [(2, 3), (0, 2)], strict=True):
        lo, hi = _wilson_by_hand(x, n)
        assert r["older_ci_low"] == pytest.approx(lo, abs=1e-4)
        assert r["older_ci_high"] == pytest.approx(hi, abs=1e-4)

    # a restricted denominator (adults only) and one overall row
    overall = e.to_arrow(p.grouped_rate(pop, [], pop.sex == "F", pop.age >= 18,
                                        name="women")).to_pylist()
    assert [(r["women_count"], r["women_denominator"]) for r in overall] == [(3, 4)]
    lo, hi = _wilson_by_hand(3, 4)
    assert overall[0]["women_ci_low"] == pytest.approx(lo, abs=1e-4)


def test_grouped_rate_empty_denominator_is_null(tiny_engine) -> None:
    e = tiny_engine(patients=[patient(1, dob=D(2020, 1, 1))], registrations=[reg(1, "A1")])
    pop = p.attach(e.table("patients").select("patient_id"),
                   p.age_at(e.table("patients"), D(2024, 3, 31)))
    got = e.to_arrow(p.grouped_rate(pop, [], pop.age >= 65, pop.age >= 50, name="r")).to_pylist()
    assert got[0]["r_denominator"] == 0
    assert got[0]["r"] is None and got[0]["r_ci_low"] is None
