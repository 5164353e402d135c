"""Issue 19: Making Data Count rules as published, cross-checked against an independent
implementation written here from NHSRplotthedots' documented semantics (close-to-limits means the
outer third *within* the limits; rule clashes labelled outside limits > trend > two in three >
shift), and the clashes that pcn got wrong before."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pcn.measures.spc import xmr


def reference(y: list[float]) -> tuple[float, float, float, list[int]]:
    """(mean, lower, upper, direction per point: +1 high special, -1 low special, 0 common)."""
    n = len(y)
    mean = sum(y) / n
    mr = sum(abs(y[i] - y[i - 1]) for i in range(1, n)) / (n - 1)
    upper, lower = mean + 2.66 * mr, mean - 2.66 * mr
    near_up, near_lo = mean + 2 * 2.66 / 3 * mr, mean - 2 * 2.66 / 3 * mr
    rel = [1 if v > mean else -1 if v < mean else 0 for v in y]
    outside = [v > upper or v < lower for v in y]
    close = [(not outside[i]) and (y[i] > near_up or y[i] < near_lo) for i in range(n)]
    in_shift = [False] * n
    for end in range(6, n):
        window = rel[end - 6:end + 1]
        if window[0] != 0 and all(r == window[0] for r in window):
            for i in range(end - 6, end + 1):
                in_shift[i] = True
    trend = [0] * n  # direction of each 7-point run a point belongs to
    rising = [False] * n
    falling = [False] * n
    for end in range(6, n):
        steps = [y[i] - y[i - 1] for i in range(end - 5, end + 1)]
        if all(s > 0 for s in steps):
            for i in range(end - 6, end + 1):
                rising[i] = True
        if all(s < 0 for s in steps):
            for i in range(end - 6, end + 1):
                falling[i] = True
    for i in range(n):
        if rising[i] and falling[i]:
            step = y[i + 1] - y[i] if i + 1 < n else y[i] - y[i - 1]
            trend[i] = 1 if step > 0 else -1
        elif rising[i]:
            trend[i] = 1
        elif falling[i]:
            trend[i] = -1
    two3 = [False] * n
    for start in range(n - 2):
        idx = range(start, start + 3)
        same_side = abs(sum(rel[i] for i in idx)) == 3
        if same_side and sum(close[i] for i in idx) >= 2:
            for i in idx:
                if close[i]:
                    two3[i] = True
    direction = []
    for i in range(n):
        side = 1 if rel[i] > 0 else -1
        if outside[i]:
            direction.append(side)
        elif trend[i]:
            direction.append(trend[i])
        elif two3[i] or in_shift[i]:
            direction.append(side)
        else:
            direction.append(0)
    return mean, lower, upper, direction


def directions(chart) -> list[int]:  # type: ignore[no-untyped-def]
    return [0 if not s else (1 if side == "high" else -1)
            for s, side in zip(chart.points["special_cause"], chart.points["side"], strict=True)]


series = st.lists(st.integers(0, 30).map(float), min_size=2, max_size=40)


@settings(max_examples=300, deadline=None)
@given(series)
def test_limits_and_flags_agree_with_an_independent_implementation(y: list[float]) -> None:
    if max(y) == min(y):
        return
    chart = xmr(y, low_is_good=False)
    mean, lower, upper, expected = reference(y)
    assert np.isclose(chart.mean, mean) and np.isclose(chart.lower_limit, lower)
    assert np.isclose(chart.upper_limit, upper)
    assert directions(chart) == expected


BASE = [10.0, 11.0] * 8  # mean 10.5, MR 1: limits 7.84-13.16, 2-sigma lines 8.73-12.27


def test_two_of_three_counts_only_the_outer_third_within_the_limits() -> None:
    y = [*BASE, 14.0, 12.5, 11.0]  # 14 is outside (rule 1); 12.5 alone is near
    chart = xmr(y, baseline=16, low_is_good=False)
    pts = chart.points
    assert bool(pts.loc[16, "outside_limits"])
    assert not bool(pts.loc[17, "two_of_three"]) and not bool(pts.loc[17, "special_cause"])


def test_outside_the_limits_outranks_a_trend_when_labelling() -> None:
    y = [*BASE, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 10.4]  # 5 is below the lower limit and starts
    chart = xmr(y, baseline=16, low_is_good=False)     # a 7-point rise
    assert bool(chart.points.loc[16, "outside_limits"]) and bool(chart.points.loc[16, "trend"])
    assert chart.points.loc[16, "side"] == "low"
    assert chart.points.loc[16, "point_type"] == "concern"
    assert chart.points.loc[22, "point_type"] == "improvement"  # the rise itself
