"""XmR charts and Making Data Count rules on hand-computed series."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcn.measures.spc import Assurance, Variation, xmr

# 12 baseline points: mean 138/12 = 11.5; moving ranges 2,1,2,1,1,1,2,1,2,1,1 -> MR-bar 15/11.
BASE = [10, 12, 11, 13, 12, 11, 10, 12, 13, 11, 12, 11]
MEAN = 11.5
MR_BAR = 15 / 11
UPL, LPL = MEAN + 2.66 * MR_BAR, MEAN - 2.66 * MR_BAR  # 15.127, 7.873
TWO_SIGMA_HIGH = MEAN + 2 / 3 * 2.66 * MR_BAR  # 13.918


def test_limits_by_hand_and_common_cause() -> None:
    chart = xmr(BASE, low_is_good=False)
    assert chart.mean == pytest.approx(MEAN)
    assert chart.mean_moving_range == pytest.approx(MR_BAR)
    assert chart.upper_limit == pytest.approx(UPL)
    assert chart.lower_limit == pytest.approx(LPL)
    assert chart.points["moving_range"].tolist()[1:4] == [2, 1, 2]
    assert not chart.points["special_cause"].any()
    assert chart.variation is Variation.COMMON_CAUSE
    assert chart.few_points  # 12 < 15 points


def test_baseline_fixes_limits_from_first_points() -> None:
    chart = xmr([*BASE, 30, 40], baseline=12)
    assert chart.mean == pytest.approx(MEAN) and chart.upper_limit == pytest.approx(UPL)
    unfixed = xmr([*BASE, 30, 40])
    assert unfixed.mean == pytest.approx((138 + 70) / 14)


@pytest.mark.parametrize(
    ("low_is_good", "icon"),
    [(False, Variation.IMPROVEMENT_HIGH), (True, Variation.CONCERN_HIGH),
     (None, Variation.NEITHER_HIGH)],
)
def test_point_outside_limits(low_is_good: bool | None, icon: Variation) -> None:
    chart = xmr([*BASE, 16], baseline=12, low_is_good=low_is_good)
    assert UPL < 16
    assert chart.points["outside_limits"].tolist() == [False] * 12 + [True]
    assert chart.variation is icon


def test_point_below_lower_limit_low_is_good() -> None:
    chart = xmr([*BASE, 7], baseline=12, low_is_good=True)
    assert chart.variation is Variation.IMPROVEMENT_LOW


def test_shift_needs_seven_points_on_one_side() -> None:
    seven = xmr([*BASE, *[12] * 7], baseline=12, low_is_good=True)
    assert seven.points["shift"].tolist() == [False] * 12 + [True] * 7
    assert seven.variation is Variation.CONCERN_HIGH
    six = xmr([*BASE, *[12] * 6, 11], baseline=12, low_is_good=True)
    assert not six.points["shift"].any()
    assert six.variation is Variation.COMMON_CAUSE


def test_point_on_mean_breaks_a_run() -> None:
    chart = xmr([*BASE, 12, 12, 12, 11.5, 12, 12, 12, 12], baseline=12)
    assert not chart.points["shift"].any()


def test_trend_of_seven_rising_points() -> None:
    rising = [9.5, 10, 10.5, 11, 11.5, 12, 12.5]
    chart = xmr([*BASE, *rising], baseline=12, low_is_good=True)
    assert chart.points["trend"].tolist() == [False] * 12 + [True] * 7
    # the trend's direction decides high/low even for points below the mean
    assert chart.points["side"].tolist()[12:] == ["high"] * 7
    assert chart.variation is Variation.CONCERN_HIGH
    six = xmr([*BASE, *rising[:6]], baseline=12)
    assert not six.points["trend"].any()


def test_falling_trend_with_a_tie_is_broken() -> None:
    falling = [13, 12.5, 12, 12, 11.5, 11, 10.5]
    chart = xmr([*BASE, *falling], baseline=12)
    assert not chart.points["trend"].any()


def test_two_out_of_three_beyond_two_sigma_same_side() -> None:
    assert TWO_SIGMA_HIGH < 14 and TWO_SIGMA_HIGH < 14.2 and UPL > 14.2
    chart = xmr([*BASE, 14, 11.6, 14.2], baseline=12, low_is_good=False)
    assert chart.points["two_of_three"].tolist() == [False] * 12 + [True, False, True]
    assert chart.variation is Variation.IMPROVEMENT_HIGH
    # middle point below the mean: not a signal
    split = xmr([*BASE, 14, 11, 14.2], baseline=12, low_is_good=False)
    assert not split.points["two_of_three"].any()
    assert split.variation is Variation.COMMON_CAUSE


@pytest.mark.parametrize(
    ("target", "low_is_good", "expected"),
    [
        (7.0, False, Assurance.PASS),  # below the lower limit: always met
        (16.0, False, Assurance.FAIL),  # above the upper limit: never met
        (12.0, False, Assurance.HIT_AND_MISS),
        (16.0, True, Assurance.PASS),
        (7.0, True, Assurance.FAIL),
    ],
)
def test_assurance_icons(target: float, low_is_good: bool, expected: Assurance) -> None:
    assert xmr(BASE, low_is_good=low_is_good, target=target).assurance is expected


def test_no_assurance_without_direction_or_target() -> None:
    assert xmr(BASE, target=12.0).assurance is None
    assert xmr(BASE, low_is_good=True).assurance is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="position 2"):
        xmr([1.0, 2.0, float("nan")])
    with pytest.raises(ValueError, match="baseline"):
        xmr(BASE, baseline=1)
    with pytest.raises(ValueError, match="3 periods for 12 values"):
        xmr(BASE, periods=["a", "b", "c"])


# --- oracle: rules re-implemented by brute force over windows --------------------------------


def _windows(n: int, size: int) -> list[range]:
    return [range(s, s + size) for s in range(n - size + 1)]


def _oracle_flags(x: list[float]) -> dict[str, list[bool]]:
    n = len(x)
    mean = sum(x) / n
    mr = sum(abs(x[i] - x[i - 1]) for i in range(1, n)) / (n - 1)
    upper, lower = mean + 2.66 * mr, mean - 2.66 * mr
    hi2, lo2 = mean + 2 / 3 * 2.66 * mr, mean - 2 / 3 * 2.66 * mr
    shift, trend, two3 = [False] * n, [False] * n, [False] * n
    for w in _windows(n, 7):
        if all(x[i] > mean for i in w) or all(x[i] < mean for i in w):
            for i in w:
                shift[i] = True
        if all(x[i] > x[i - 1] for i in list(w)[1:]) or all(x[i] < x[i - 1] for i in list(w)[1:]):
            for i in w:
                trend[i] = True
    for w in _windows(n, 3):
        # Making Data Count: the outer third *within* the limits (a point beyond them is the
        # other rule's), as ADR 0124 and the implementation say
        for side, near in ((lambda v: v > mean, lambda v: hi2 < v <= upper),
                           (lambda v: v < mean, lambda v: lower <= v < lo2)):
            if all(side(x[i]) for i in w) and sum(near(x[i]) for i in w) >= 2:
                for i in w:
                    two3[i] = two3[i] or near(x[i])
    outside = [v > upper or v < lower for v in x]
    return {"shift": shift, "trend": trend, "two_of_three": two3, "outside_limits": outside}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 12).map(float), min_size=2, max_size=40))
def test_rules_match_brute_force_oracle(values: list[float]) -> None:
    chart = xmr(values)
    for rule, flags in _oracle_flags(values).items():
        assert chart.points[rule].tolist() == flags, rule


def test_constant_series_has_zero_width_limits() -> None:
    chart = xmr([5.0] * 20, low_is_good=True)
    assert chart.mean_moving_range == 0.0
    assert chart.upper_limit == chart.lower_limit == 5.0
    assert chart.variation is Variation.COMMON_CAUSE  # points on the mean are not signals
    moved = xmr([5.0] * 20 + [6.0], baseline=20, low_is_good=True)
    assert moved.points["outside_limits"].iloc[-1]
    assert moved.variation is Variation.CONCERN_HIGH
