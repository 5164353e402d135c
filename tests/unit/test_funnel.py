"""Funnel plot limits: published worked examples and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pcn.measures.funnel import Position, funnel, proportion_limits, rate_limits


def test_wilson_matches_newcombe_1998_worked_examples() -> None:
    # Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
    # methods. Stat Med 1998;17:857-72, Table II, method 3 (score, no continuity correction):
    # 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
    for k, n, lo, hi in [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605)]:
        lim = proportion_limits(k / n, [n], method="wilson").iloc[0]
        assert round(lim["lower_95"], 4) == lo
        assert round(lim["upper_95"], 4) == hi


def test_exact_binomial_hand_worked_n10_half() -> None:
    # Binomial(10, 0.5): F(1)=11/1024, F(2)=56/1024, F(7)=968/1024, F(8)=1013/1024,
    # F(9)=1023/1024.  Spiegelhalter 2005 A.1.1: limit = (r_p - alpha)/n with
    # alpha = (F(r_p) - p)/(F(r_p) - F(r_p - 1)).
    f = {1: 11 / 1024, 2: 56 / 1024, 7: 968 / 1024, 8: 1013 / 1024, 9: 1023 / 1024}
    lower_95 = (2 - (f[2] - 0.025) / (f[2] - f[1])) / 10
    upper_95 = (8 - (f[8] - 0.975) / (f[8] - f[7])) / 10
    upper_998 = (9 - (f[9] - 0.999) / (f[9] - f[8])) / 10
    lim = proportion_limits(0.5, [10], method="exact").iloc[0]
    assert lim["lower_95"] == pytest.approx(lower_95)  # 0.13244
    assert lim["upper_95"] == pytest.approx(upper_95)  # 0.76756
    assert lim["upper_998"] == pytest.approx(upper_998)  # 0.89976


def _brute_force_limit(theta: float, n: int, p: float) -> float:
    cdf, total = [], 0.0
    for r in range(n + 1):
        total += math.comb(n, r) * theta**r * (1 - theta) ** (n - r)
        cdf.append(total)
    r_p = next(r for r, f in enumerate(cdf) if f >= p - 1e-15)
    below = cdf[r_p - 1] if r_p > 0 else 0.0
    alpha = (cdf[r_p] - p) / (cdf[r_p] - below)
    return min(max((r_p - alpha) / n, 0.0), 1.0)


@pytest.mark.parametrize("theta", [0.03, 0.2, 0.5, 0.77, 0.96])
@pytest.mark.parametrize("n", [7, 40, 333])
def test_exact_binomial_matches_independent_brute_force(theta: float, n: int) -> None:
    lim = proportion_limits(theta, [n], method="exact").iloc[0]
    for col, p in [("lower_95", 0.025), ("upper_95", 0.975), ("lower_998", 0.001),
                   ("upper_998", 0.999)]:
        assert lim[col] == pytest.approx(_brute_force_limit(theta, n, p), abs=1e-9)


def test_normal_limits_hand_formula_at_998() -> None:
    lim = proportion_limits(0.3, [100], method="normal").iloc[0]
    se = math.sqrt(0.3 * 0.7 / 100)
    assert lim["upper_998"] == pytest.approx(0.3 + 3.090232 * se, rel=1e-6)
    assert lim["lower_95"] == pytest.approx(0.3 - 1.959964 * se, rel=1e-6)


def test_exact_poisson_rate_hand_worked() -> None:
    # 200 per 1,000 in a population of 10: Poisson mean 2.
    cdf = [sum(math.exp(-2) * 2**k / math.factorial(k) for k in range(r + 1)) for r in range(8)]
    upper_95 = (5 - (cdf[5] - 0.975) / (cdf[5] - cdf[4])) / 10 * 1000  # 476.6
    lim = rate_limits(200, [10], per=1000).iloc[0]
    assert lim["upper_95"] == pytest.approx(upper_95)
    assert lim["lower_95"] == 0.0  # (0 - alpha)/n < 0, clipped


def test_limits_contain_target_and_narrow_with_size() -> None:
    for method in ("exact", "wilson", "normal"):
        lim = proportion_limits(0.4, [20, 200, 2000, 20000], method=method)  # type: ignore[arg-type]
        assert (lim["lower_998"] <= lim["lower_95"]).all()
        assert (lim["lower_95"] <= 0.4).all() and (lim["upper_95"] >= 0.4).all()
        assert (lim["upper_95"] <= lim["upper_998"]).all()
        widths = (lim["upper_95"] - lim["lower_95"]).to_numpy()
        assert (np.diff(widths) < 0).all()


def test_funnel_classifies_units_against_overall_mean() -> None:
    units = pd.DataFrame(
        {"practice_code": ["A", "B", "C", "D"], "numerator": [8, 5, 2, 0],
         "denominator": [10, 10, 10, 0]}
    )
    points, curve = funnel(units)
    # target = 15/30 = 0.5: hand-worked limits above — 0.8 is beyond 95% (0.768) but inside 99.8%
    # (0.900); 0.2 is above the 95% lower limit (0.132), so within.
    assert points["target"].iloc[0] == pytest.approx(0.5)
    assert points.set_index("practice_code")["position"].to_dict() == {
        "A": Position.HIGH_95.value,
        "B": Position.WITHIN.value,
        "C": Position.WITHIN.value,
        "D": Position.NO_DATA.value,
    }
    assert curve["denominator"].min() == 1 and curve["denominator"].max() >= 10


def test_funnel_rate_position_uses_per_1000() -> None:
    units = pd.DataFrame({"numerator": [30, 100], "denominator": [1000, 1000]})
    points, _ = funnel(units, kind="rate", target=30.0)
    assert points["value"].tolist() == [30.0, 100.0]
    assert points["position"].tolist() == ["within", "above_998"]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        proportion_limits(1.2, [10])
    with pytest.raises(ValueError, match="position 1"):
        proportion_limits(0.2, [10, 0])
    units = pd.DataFrame({"numerator": [3], "denominator": [100]})
    with pytest.raises(ValueError, match="Wilson limits are for proportions"):
        funnel(units, kind="rate", method="wilson")


@pytest.mark.parametrize("mean", [0.4, 3.0, 25.0])
def test_exact_poisson_matches_independent_brute_force(mean: float) -> None:
    n = 1000.0
    cdf, total, r = [], 0.0, 0
    while total < 0.9999:
        total += math.exp(-mean) * mean**r / math.factorial(r)
        cdf.append(total)
        r += 1

    def limit(p: float) -> float:
        r_p = next(i for i, f in enumerate(cdf) if f >= p)
        below = cdf[r_p - 1] if r_p else 0.0
        return max((r_p - (cdf[r_p] - p) / (cdf[r_p] - below)) / n * 1000, 0.0)

    lim = rate_limits(mean, [n]).iloc[0]  # target per 1,000 x population 1,000 = Poisson mean
    assert lim["lower_998"] == pytest.approx(limit(0.001))
    assert lim["upper_95"] == pytest.approx(limit(0.975))
