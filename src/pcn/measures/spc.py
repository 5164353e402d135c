"""Statistical process control: XmR charts as NHS England "Making Data Count" (MDC) defines them.

Sources: NHS Improvement, *Making Data Count: Strengthening your decisions* (2019) and *Making Data
Count: Getting started* (2019); the MDC SPC Excel tools and their icon set; the NHS-R community's
NHSRplotthedots package documents where it matches and departs from the Excel tools.

- Centre line: mean of the values (or of the first ``baseline`` values, limits then fixed).
- Moving range: |x_i − x_(i−1)|; mean moving range MR̄ over the same points.
- Process limits: mean ± 2.66 × MR̄ (2.66 = 3 / d₂, d₂ = 1.128 for ranges of two); like the MDC
  Excel tools, outlying points are NOT screened out of MR̄.
- Special cause rules (MDC):
  1. a single point outside the process limits;
  2. a *shift*: a run of 7 or more consecutive points all above or all below the mean (a point
     on the mean breaks the run);
  3. a *trend*: 7 or more consecutive points each higher (or each lower) than the one before
     (equal neighbours break it);
  4. *two out of three*: 2 of 3 consecutive points in the outer third of the limits - beyond
     the 2σ line (mean ± ⅔ × 2.66 × MR̄) but *within* the process limits (a point outside them is
     rule 1) - on the same side, the three points all on that side of the mean. Only the points
     in the outer third are flagged.
- When rules clash, a point is labelled as NHSRplotthedots labels it (its documented order):
  outside the limits (its side of the mean) first, then a trend (the trend's direction; a point
  joining a rising and a falling trend takes the direction of the step after it), then two out of
  three, then a shift (its side of the mean). The label's direction is *high* or *low*; with
  ``low_is_good`` high is improvement when higher is better, else concern; ``low_is_good=None``
  gives "neither".
- Only independent values may be charted: one value per month counted in that month (monthly
  counts or rates). A month-end value of a rolling 12-month window shares 11 months with the next
  and is strongly autocorrelated, so the limits are too narrow and most points look special;
  such series are not charted (:func:`pcn.measures.indicators.spc_for`,
  :mod:`pcn.reporting.network`).
- Variation icon: from the latest point. Assurance icon (needs a target and a direction):
  *pass* when the target lies beyond the limits on the bad side (every point will meet it),
  *fail* when it lies beyond them on the good side, otherwise *hit and miss*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

LIMIT_FACTOR = 2.66
RUN_LENGTH = 7
TREND_LENGTH = 7
#: MDC asks for at least 15 points before limits are relied on (20 better).
MIN_POINTS = 15


class Variation(StrEnum):
    COMMON_CAUSE = "common_cause"
    IMPROVEMENT_HIGH = "special_cause_improvement_high"
    IMPROVEMENT_LOW = "special_cause_improvement_low"
    CONCERN_HIGH = "special_cause_concern_high"
    CONCERN_LOW = "special_cause_concern_low"
    NEITHER_HIGH = "special_cause_neither_high"
    NEITHER_LOW = "special_cause_neither_low"


class Assurance(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    HIT_AND_MISS = "hit_and_miss"


@dataclass(frozen=True)
class XmrChart:
    """An XmR chart: per-point table plus the summary the icons are drawn from."""

    points: pd.DataFrame
    mean: float
    mean_moving_range: float
    upper_limit: float
    lower_limit: float
    baseline: int
    variation: Variation | None
    assurance: Assurance | None
    few_points: bool


def _runs(flags: np.ndarray, length: int) -> np.ndarray:
    """Mark every element of each run of at least ``length`` consecutive True values."""
    out = np.zeros(len(flags), dtype=bool)
    start = None
    for i, flag in enumerate([*flags.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= length:
                out[start:i] = True
            start = None
    return out


def _trend(values: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(rising, falling): points in runs of ``length`` points each above/below the previous."""
    steps = np.diff(values)
    rising = np.zeros(len(values), dtype=bool)
    falling = np.zeros(len(values), dtype=bool)
    # A run of length-1 consecutive steps covers `length` points: the steps' points plus the first.
    for step_flags, out in ((steps > 0, rising), (steps < 0, falling)):
        in_run = _runs(step_flags, length - 1)
        out[1:] |= in_run
        out[:-1] |= in_run
    return rising, falling


def _trend_direction(values: np.ndarray, rising: np.ndarray, falling: np.ndarray
                     ) -> np.ndarray:
    """+1 / -1 for points in a rising / falling trend (0 elsewhere). A point that ends one trend
    and starts the other takes the direction of the step after it."""
    out = np.where(rising, 1, np.where(falling, -1, 0))
    both = np.flatnonzero(rising & falling)
    for i in both:
        step = values[i + 1] - values[i] if i + 1 < len(values) else values[i] - values[i - 1]
        out[i] = 1 if step > 0 else -1
    return out


def _two_of_three(above: np.ndarray, below: np.ndarray, near_high: np.ndarray,
                  near_low: np.ndarray) -> np.ndarray:
    flagged = np.zeros(len(above), dtype=bool)
    for start in range(len(above) - 2):
        window = slice(start, start + 3)
        for side, near in ((above, near_high), (below, near_low)):
            if side[window].all() and near[window].sum() >= 2:
                flagged[window] |= near[window]
    return flagged


def xmr(
    values: Sequence[float] | np.ndarray | pd.Series,
    periods: Sequence[object] | pd.Index | None = None,
    *,
    low_is_good: bool | None = None,
    target: float | None = None,
    baseline: int | None = None,
) -> XmrChart:
    """Build an XmR chart. ``baseline`` = number of leading points the limits are fixed from."""
    x = np.asarray(values, dtype="float64")
    if x.ndim != 1 or len(x) < 2:
        raise ValueError("an XmR chart needs a 1-D series of at least 2 values")
    if np.isnan(x).any():
        raise ValueError(f"value at position {int(np.argmax(np.isnan(x)))} is missing")
    if periods is not None and len(periods) != len(x):
        raise ValueError(f"{len(periods)} periods for {len(x)} values")
    base = len(x) if baseline is None else baseline
    if not 2 <= base <= len(x):
        raise ValueError(f"baseline {baseline} must be between 2 and the number of points")

    mean = float(x[:base].mean())
    moving_range = np.abs(np.diff(x))
    mr_bar = float(moving_range[: base - 1].mean())
    upper, lower = mean + LIMIT_FACTOR * mr_bar, mean - LIMIT_FACTOR * mr_bar
    two_sigma = 2 / 3 * LIMIT_FACTOR * mr_bar

    above, below = x > mean, x < mean
    outside_high, outside_low = x > upper, x < lower
    outside = outside_high | outside_low
    shift_high, shift_low = _runs(above, RUN_LENGTH), _runs(below, RUN_LENGTH)
    rising, falling = _trend(x, TREND_LENGTH)
    # the outer third: beyond the 2-sigma line but within the process limits
    near_high = (x > mean + two_sigma) & ~outside
    near_low = (x < mean - two_sigma) & ~outside
    two3 = _two_of_three(above, below, near_high, near_low)

    special = outside | shift_high | shift_low | rising | falling | two3
    side = np.where(above, 1, -1)
    trend_dir = _trend_direction(x, rising, falling)
    # rule-clash order: outside limits, trend, two of three, shift
    direction = np.where(
        outside, side,
        np.where(rising | falling, trend_dir, np.where(two3 | shift_high | shift_low, side, 0)),
    )
    high = direction > 0

    if low_is_good is None:
        kind = np.where(special, "neither", "common_cause")
    else:
        good_high = not low_is_good
        kind = np.where(
            special, np.where(high == good_high, "improvement", "concern"), "common_cause"
        )

    points = pd.DataFrame(
        {
            "period": list(periods) if periods is not None else range(len(x)),
            "value": x,
            "moving_range": np.concatenate([[np.nan], moving_range]),
            "mean": mean,
            "upper_limit": upper,
            "lower_limit": lower,
            "upper_two_sigma": mean + two_sigma,
            "lower_two_sigma": mean - two_sigma,
            "outside_limits": outside_high | outside_low,
            "shift": shift_high | shift_low,
            "trend": rising | falling,
            "two_of_three": two3,
            "special_cause": special,
            "point_type": kind,
            "side": [("high" if h else "low") if s else None
                     for s, h in zip(special.tolist(), high.tolist(), strict=True)],
        }
    )

    last_kind, last_high = str(kind[-1]), bool(high[-1])
    if last_kind == "common_cause":
        variation: Variation | None = Variation.COMMON_CAUSE
    else:
        variation = Variation(f"special_cause_{last_kind}_{'high' if last_high else 'low'}")

    assurance = None
    if target is not None and low_is_good is not None:
        # Higher is better: a target below the lower limit is always met, above the upper never.
        always_met, never_met = target < lower, target > upper
        if low_is_good:
            always_met, never_met = never_met, always_met
        assurance = (
            Assurance.PASS if always_met else Assurance.FAIL if never_met
            else Assurance.HIT_AND_MISS
        )
    return XmrChart(
        points=points,
        mean=mean,
        mean_moving_range=mr_bar,
        upper_limit=upper,
        lower_limit=lower,
        baseline=base,
        variation=variation,
        assurance=assurance,
        few_points=base < MIN_POINTS,
    )
