"""Funnel plots: control limits around a target for proportions and rates, and where each unit sits.

Method: Spiegelhalter DJ. *Funnel plots for comparing institutional performance.*
Stat Med 2005;24:1185-1202 (doi:10.1002/sim.1970).

- ``exact`` (proportions: binomial; rates: Poisson) — Spiegelhalter 2005 Appendix A.1: for a
  tail probability p, r_p is the smallest count with F(r_p) >= p, and the limit is
  (r_p − α)/n with α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)), interpolating the discrete
  distribution so the limits are smooth in n.
- ``wilson`` (proportions) — the Wilson score interval (Wilson 1927; Newcombe, Stat Med
  1998;17:857-72, method 3) evaluated at the target, as in the Public Health England / APHO
  funnel-plot tools.
- ``normal`` — target ± z·SE (SE = √(θ(1−θ)/n) for proportions, √(θ/n) for rates).

Limits are at 95% (z = 1.960) and 99.8% (z = 3.090), the conventional "2 and 3 sigma" funnels.

**Overdispersion** (``overdispersion=True``; Spiegelhalter DJ, *Handling over-dispersion of
performance indicators*, Qual Saf Health Care 2005;14:347-51): with many units (an ICB's
practices) real differences between them beyond chance make most units "outliers". The z-scores
z_i = (y_i − θ)/s_i are Winsorised (the 10% most extreme at each end set to the 10th/90th
percentile), φ = Σ z_w² / k; if k·φ > k − 1, a between-unit variance
τ² = (k·φ − (k − 1)) / (Σw − Σw²/Σw) (w = 1/s²) is added: limits θ ± z·√(s²(n) + τ²) (the additive
random-effects model of section 3.2.2). Otherwise the ordinary limits stand. φ and τ² are returned
in ``points.attrs``.
Rates are per person (or per person-year) in the calculation and reported per ``per`` (1,000).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

Kind = Literal["proportion", "rate"]
Method = Literal["exact", "wilson", "normal"]
LEVELS: tuple[float, ...] = (0.95, 0.998)


class Position(StrEnum):
    """Where a unit sits relative to the funnel (``_998`` = beyond the 99.8% limit)."""

    HIGH_998 = "above_998"
    HIGH_95 = "above_95"
    WITHIN = "within"
    LOW_95 = "below_95"
    LOW_998 = "below_998"
    NO_DATA = "no_data"


def _level_name(level: float) -> str:
    return f"{level * 100:g}".replace(".", "")  # 0.95 -> "95", 0.998 -> "998"


def _exact_quantile_limit(
    dist: stats.rv_discrete, p: float, n: np.ndarray
) -> np.ndarray:
    r_p = dist.ppf(p)
    f_r = dist.cdf(r_p)
    f_below = dist.cdf(r_p - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(f_r > f_below, (f_r - p) / (f_r - f_below), 0.0)
    return (r_p - alpha) / n


def proportion_limits(
    target: float,
    denominators: Sequence[float] | np.ndarray,
    *,
    method: Method = "exact",
    levels: Sequence[float] = LEVELS,
) -> pd.DataFrame:
    """Control limits for a proportion (0-1) at each denominator.

    Returns one row per denominator with columns ``lower_95``, ``upper_95``, ``lower_998``,
    ``upper_998`` (named from ``levels``), clipped to [0, 1].
    """
    if not 0 <= target <= 1:
        raise ValueError(f"target proportion {target!r} is not between 0 and 1")
    n = _check_denominators(denominators)
    out = pd.DataFrame({"denominator": n})
    for level in levels:
        lo_p, hi_p = (1 - level) / 2, 1 - (1 - level) / 2
        z = stats.norm.ppf(hi_p)
        if method == "exact":
            dist = stats.binom(n.astype(np.int64), target)
            lower = _exact_quantile_limit(dist, lo_p, n)
            upper = _exact_quantile_limit(dist, hi_p, n)
        elif method == "wilson":
            centre = (target + z**2 / (2 * n)) / (1 + z**2 / n)
            half = z * np.sqrt(target * (1 - target) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
            lower, upper = centre - half, centre + half
        elif method == "normal":
            se = np.sqrt(target * (1 - target) / n)
            lower, upper = target - z * se, target + z * se
        else:
            raise ValueError(f"unknown method {method!r}: use exact, wilson or normal")
        name = _level_name(level)
        out[f"lower_{name}"] = np.clip(lower, 0.0, 1.0)
        out[f"upper_{name}"] = np.clip(upper, 0.0, 1.0)
    return out


def rate_limits(
    target: float,
    denominators: Sequence[float] | np.ndarray,
    *,
    per: float = 1000.0,
    method: Literal["exact", "normal"] = "exact",
    levels: Sequence[float] = LEVELS,
) -> pd.DataFrame:
    """Control limits for a rate ``target`` (events per ``per`` people) at each population size.

    ``exact`` uses the Poisson distribution with mean n·θ (Spiegelhalter 2005, A.1.2).
    """
    if target < 0:
        raise ValueError(f"target rate {target!r} is negative")
    n = _check_denominators(denominators)
    theta = target / per
    out = pd.DataFrame({"denominator": n})
    for level in levels:
        lo_p, hi_p = (1 - level) / 2, 1 - (1 - level) / 2
        z = stats.norm.ppf(hi_p)
        if method == "exact":
            dist = stats.poisson(n * theta)
            lower = _exact_quantile_limit(dist, lo_p, n)
            upper = _exact_quantile_limit(dist, hi_p, n)
        elif method == "normal":
            se = np.sqrt(theta / n)
            lower, upper = theta - z * se, theta + z * se
        else:
            raise ValueError(f"unknown method {method!r} for rates: use exact or normal")
        name = _level_name(level)
        out[f"lower_{name}"] = np.clip(lower, 0.0, None) * per
        out[f"upper_{name}"] = upper * per
    return out


def _check_denominators(denominators: Sequence[float] | np.ndarray) -> np.ndarray:
    n = np.asarray(denominators, dtype="float64")
    if (n <= 0).any() or np.isnan(n).any():
        bad = int(np.argmax((n <= 0) | np.isnan(n)))
        raise ValueError(f"denominator at position {bad} is {n[bad]!r}; must be > 0")
    return n


def classify(value: float, limits: pd.Series, levels: Sequence[float] = LEVELS) -> Position:
    """Position of one value against one row of limits. A value on a limit is within it."""
    if value is None or pd.isna(value):
        return Position.NO_DATA
    inner, outer = (_level_name(x) for x in sorted(levels))
    if value > limits[f"upper_{outer}"]:
        return Position.HIGH_998
    if value > limits[f"upper_{inner}"]:
        return Position.HIGH_95
    if value < limits[f"lower_{outer}"]:
        return Position.LOW_998
    if value < limits[f"lower_{inner}"]:
        return Position.LOW_95
    return Position.WITHIN


def funnel(
    units: pd.DataFrame,
    *,
    kind: Kind = "proportion",
    numerator: str = "numerator",
    denominator: str = "denominator",
    target: float | None = None,
    method: Method = "exact",
    per: float = 1000.0,
    curve_points: int = 100,
    overdispersion: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Funnel plot data for units (e.g. practices) with a numerator and denominator each.

    ``target`` defaults to the overall mean (Σ numerator / Σ denominator; × ``per`` for rates).
    Returns ``(points, curve)``: points = the units with ``value``, their limits and ``position``;
    curve = limits over a range of denominators from 1 to 1.1 × the largest, for drawing.
    Proportions are reported as 0-1 fractions, rates per ``per``.
    """
    if kind == "rate" and method == "wilson":
        raise ValueError("Wilson limits are for proportions; use exact or normal for rates")
    usable = units[units[denominator] > 0]
    scale = per if kind == "rate" else 1.0
    if target is None:
        total = usable[denominator].sum()
        if total == 0:
            raise ValueError("no unit has a positive denominator: no target can be computed")
        target = float(usable[numerator].sum() / total * scale)

    theta = target / scale

    def se(n: np.ndarray) -> np.ndarray:
        var = theta * (1 - theta) if kind == "proportion" else theta
        return np.sqrt(var / n)

    tau2, phi = 0.0, float("nan")
    if overdispersion:
        phi, tau2 = _overdispersion(usable[numerator].to_numpy(dtype="float64"),
                                    usable[denominator].to_numpy(dtype="float64"), theta, se)

    def limits(n: np.ndarray) -> pd.DataFrame:
        if tau2 > 0:
            out = pd.DataFrame({"denominator": n})
            for level in LEVELS:
                z = stats.norm.ppf(1 - (1 - level) / 2)
                half = z * np.sqrt(se(n) ** 2 + tau2)
                lo, hi = theta - half, theta + half
                if kind == "proportion":
                    lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
                else:
                    lo = np.clip(lo, 0, None)
                name = _level_name(level)
                out[f"lower_{name}"] = lo * scale
                out[f"upper_{name}"] = hi * scale
            return out
        if kind == "proportion":
            return proportion_limits(target, n, method=method)
        return rate_limits(target, n, per=per, method="normal" if method == "normal" else "exact")

    points = units.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        points["value"] = np.where(
            units[denominator] > 0, units[numerator] / units[denominator] * scale, np.nan
        )
    points["target"] = target
    safe_n = np.where(units[denominator] > 0, units[denominator], 1).astype("float64")
    lim = limits(safe_n).drop(columns="denominator")
    lim.index = points.index
    lim.loc[~(units[denominator] > 0).to_numpy(), :] = np.nan
    points = pd.concat([points, lim], axis=1)
    points["position"] = [
        classify(v, row).value if not pd.isna(v) else Position.NO_DATA.value
        for v, (_, row) in zip(points["value"], lim.iterrows(), strict=True)
    ]
    top = max(float(usable[denominator].max()) if len(usable) else 1.0, 1.0) * 1.1
    grid = np.unique(np.round(np.geomspace(1, top, curve_points)))
    curve = limits(grid)
    curve["target"] = target
    points.attrs.update({"overdispersion": overdispersion, "phi": phi, "tau2": tau2})
    return points, curve


def _overdispersion(numerators: np.ndarray, denominators: np.ndarray, theta: float,
                    se: object) -> tuple[float, float]:
    """(φ, τ²) by Spiegelhalter 2005: Winsorised (10%) z-scores, additive random effects."""
    assert callable(se)
    k = len(numerators)
    if k < 3 or theta <= 0:
        return float("nan"), 0.0
    s = se(denominators)
    z = (numerators / denominators - theta) / s
    lo, hi = np.percentile(z, [10, 90])
    z_w = np.clip(z, lo, hi)
    phi = float(np.sum(z_w**2) / k)
    w = 1 / s**2
    if k * phi <= k - 1:
        return phi, 0.0
    tau2 = float((k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return phi, tau2
