"""Directly standardised rates (ESP 2013) with Dobson intervals; funnel overdispersion
(Spiegelhalter 2005); positions read by the indicator's direction (issue 19)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pcn.measures.funnel import funnel
from pcn.measures.standardise import ESP2013, dsr, esp_band
from pcn.reporting.network import assessment


def test_esp2013_has_19_bands_summing_to_100000() -> None:
    assert len(ESP2013) == 19 and sum(w for _, w in ESP2013) == 100_000
    assert esp_band(np.array([0, 4, 5, 89, 90, 104])).tolist() == [0, 0, 1, 17, 18, 18]


def test_one_band_dobson_interval_is_the_exact_poisson_interval() -> None:
    events, people = np.zeros(19), np.zeros(19)
    events[6], people[6] = 25, 1000
    value, lower, upper = dsr(events, people, per=1000)
    assert value == pytest.approx(25.0)
    assert lower == pytest.approx(stats.chi2.ppf(0.025, 50) / 2)
    assert upper == pytest.approx(stats.chi2.ppf(0.975, 52) / 2)


def test_dsr_by_hand_over_two_bands() -> None:
    events, people = np.zeros(19), np.zeros(19)
    events[[6, 17]] = [10, 40]
    people[[6, 17]] = [100, 40]
    value, lower, upper = dsr(events, people, per=1000)
    w = np.array([6500.0, 1500.0])
    rate = np.array([0.1, 1.0])
    assert value == pytest.approx((w * rate).sum() / w.sum() * 1000)
    var = ((w / np.array([100, 40])) ** 2 * np.array([10, 40])).sum() / w.sum() ** 2 * 1e6
    o_l, o_u = stats.chi2.ppf(0.025, 100) / 2, stats.chi2.ppf(0.975, 102) / 2
    assert lower == pytest.approx(value + np.sqrt(var / 50) * (o_l - 50))
    assert upper == pytest.approx(value + np.sqrt(var / 50) * (o_u - 50))


def test_overdispersion_widens_limits_only_when_units_really_differ() -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(2000, 12000, 60).astype(float)
    true = np.clip(rng.normal(0.6, 0.08, 60), 0.05, 0.95)  # real differences between units
    units = pd.DataFrame({"numerator": rng.binomial(n.astype(int), true), "denominator": n})
    plain, _ = funnel(units, kind="proportion")
    wide, _ = funnel(units, kind="proportion", overdispersion=True)
    assert wide.attrs["tau2"] > 0 and wide.attrs["phi"] > 1
    outside = lambda p: (p["position"] != "within").sum()  # noqa: E731
    assert outside(wide) < outside(plain)
    same = pd.DataFrame({"numerator": (n * 0.6).round(), "denominator": n})
    calm, _ = funnel(same, kind="proportion", overdispersion=True)
    assert calm.attrs["tau2"] == 0.0
    base, _ = funnel(same, kind="proportion")
    assert calm["position"].tolist() == base["position"].tolist()


@pytest.mark.parametrize(("position", "low_is_good", "expected"), [
    ("above_998", True, "worse"), ("above_95", False, "better"), ("below_95", True, "better"),
    ("below_998", False, "worse"), ("above_95", None, "different"), ("within", True, ""),
])
def test_position_is_read_by_the_declared_direction(position: str, low_is_good: bool | None,
                                                    expected: str) -> None:
    assert assessment(position, low_is_good) == expected
