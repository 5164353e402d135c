"""Demand forecasts 8 weeks ahead with prediction intervals, and their rolling-origin backtest.

Cheap at any scale (ADR 0141): one ETS model (statsmodels, additive error, damped additive
trend) per role on the network's weekly totals, then each practice's share of the role's last
12 weeks; a practice's interval adds the variance of splitting a total between practices
(binomial) to its share of the model's. Days take the role's weekday profile. So the number of
model fits grows with roles, not practices, and an ICS of 1M patients fits as fast as a PCN.

The backtest refits at each origin and compares, practice x role x week, with the seasonal
naive forecast "the same as the last complete week" (same weekday last week, summed).
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

HORIZON_WEEKS = 8
SHARE_WEEKS = 12
MIN_HISTORY_WEEKS = 16


@dataclass(frozen=True)
class Backtest:
    origins: list[dt.date]
    horizon_weeks: int
    model_mae: float
    naive_mae: float
    series: int

    @property
    def mae_ratio(self) -> float:
        return self.model_mae / self.naive_mae if self.naive_mae > 0 else float("nan")


def weekly_series(daily: pd.DataFrame, last_day: dt.date) -> pd.DataFrame:
    """Complete ISO weeks (Monday..Sunday) ending on or before ``last_day``: a matrix with
    (practice_code, role) rows and week-start columns of demand_requests."""
    frame = daily[["date", "practice_code", "role", "demand_requests"]].copy()
    dates = pd.to_datetime(frame["date"])
    frame["week"] = (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.date
    last_monday = last_day - dt.timedelta(days=last_day.weekday())
    complete_until = last_monday if last_day.weekday() < 6 else last_monday + dt.timedelta(7)
    frame = frame[frame["week"] < complete_until]
    matrix = frame.pivot_table(
        index=["practice_code", "role"],
        columns="week",
        values="demand_requests",
        aggfunc="sum",
        fill_value=0,
    )
    if matrix.shape[1]:
        weeks = pd.date_range(min(matrix.columns), max(matrix.columns), freq="7D").date
        matrix = matrix.reindex(columns=weeks, fill_value=0)
    return matrix.astype(float)


def _as_date(value: object) -> dt.date:
    """A week label of the matrix (pandas types its column labels loosely)."""
    if not isinstance(value, dt.date):
        raise TypeError(f"week label {value!r} is not a date")
    return value


def _fit_total(history: np.ndarray, horizon: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of an ETS forecast of one weekly series."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    if len(history) < MIN_HISTORY_WEEKS or np.all(history == history[0]):
        mean = np.full(horizon, history[-4:].mean() if len(history) else 0.0)
        sd = np.full(horizon, history[-12:].std() if len(history) > 1 else 0.0)
        return mean, sd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ETSModel(pd.Series(history), error="add", trend="add", damped_trend=True)
        fitted = model.fit(disp=False, maxiter=200)
        pred = fitted.get_prediction(start=len(history), end=len(history) + horizon - 1)
        frame = pred.summary_frame(alpha=1 - level)
    mean = frame["mean"].to_numpy()
    sd = (frame["pi_upper"].to_numpy() - mean) / norm.ppf(0.5 + level / 2)
    return np.maximum(mean, 0.0), np.maximum(sd, 0.0)


def forecast_weekly(
    matrix: pd.DataFrame, horizon: int = HORIZON_WEEKS, level: float = 0.8
) -> pd.DataFrame:
    """Forecast each (practice, role) row ``horizon`` weeks past the matrix's last week.

    Returns week, practice_code, role, forecast, low, high (``level`` prediction interval).
    """
    if matrix.empty:
        return pd.DataFrame(columns=["week", "practice_code", "role", "forecast", "low", "high"])
    z = norm.ppf(0.5 + level / 2)
    last = _as_date(max(matrix.columns))
    weeks = [last + dt.timedelta(days=7 * (h + 1)) for h in range(horizon)]
    parts = []
    for role, rows in matrix.groupby(level="role"):
        values = rows.to_numpy()
        total = values.sum(axis=0)
        mean, sd = _fit_total(total, horizon, level)
        recent = values[:, -SHARE_WEEKS:].sum(axis=1)
        share = recent / recent.sum() if recent.sum() > 0 else np.full(len(rows), 1 / len(rows))
        mu = share[:, None] * mean[None, :]
        var = (share[:, None] ** 2) * (sd[None, :] ** 2) + mu * (1 - share[:, None])
        half = z * np.sqrt(var)
        practices = rows.index.get_level_values("practice_code")
        parts.append(
            pd.DataFrame(
                {
                    "week": np.tile(np.array(weeks, dtype=object), len(rows)),
                    "practice_code": np.repeat(practices.to_numpy(), horizon),
                    "role": role,
                    "forecast": mu.ravel(),
                    "low": np.maximum(mu - half, 0).ravel(),
                    "high": (mu + half).ravel(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def weekday_profile(daily: pd.DataFrame) -> pd.DataFrame:
    """Share of a week's demand falling on each weekday, per role (network level)."""
    frame = daily[["date", "role", "demand_requests"]].copy()
    frame["weekday"] = pd.to_datetime(frame["date"]).dt.day_of_week
    table = frame.pivot_table(
        index="role", columns="weekday", values="demand_requests", aggfunc="sum", fill_value=0
    ).reindex(columns=range(7), fill_value=0)
    sums = table.sum(axis=1).replace(0, np.nan)
    return table.div(sums, axis=0).fillna(1 / 7)


def daily_forecast(weekly: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """Spread weekly forecasts over days by the role's weekday profile."""
    rows = []
    for offset in range(7):
        part = weekly.copy()
        part["date"] = part["week"].map(lambda w, o=offset: w + dt.timedelta(days=o))
        factor = part["role"].map(
            lambda r, o=offset: profile.loc[r, o] if r in profile.index else 1 / 7
        )
        for col in ("forecast", "low", "high"):
            part[col] = part[col] * factor
        rows.append(part)
    return pd.concat(rows, ignore_index=True).drop(columns="week")


def backtest(
    matrix: pd.DataFrame, horizon: int = HORIZON_WEEKS, origins: int = 6, step: int = 4
) -> Backtest:
    """Rolling-origin backtest: at each origin fit on the weeks before it, forecast ``horizon``
    weeks and score absolute errors against the seasonal naive (last complete week)."""
    n = matrix.shape[1]
    first_origin = n - horizon - step * (origins - 1)
    if first_origin < MIN_HISTORY_WEEKS:
        raise ValueError(
            f"backtest needs {MIN_HISTORY_WEEKS + horizon + step * (origins - 1)} complete "
            f"weeks of demand; the record has {n}"
        )
    model_err = naive_err = 0.0
    used: list[dt.date] = []
    weeks = [_as_date(w) for w in matrix.columns]
    for k in range(origins):
        cut = first_origin + k * step
        history = matrix.iloc[:, :cut]
        actual = matrix.iloc[:, cut : cut + horizon].to_numpy()
        predicted = forecast_weekly(history, horizon)
        wide = (
            predicted.pivot_table(
                index=["practice_code", "role"], columns="week", values="forecast"
            )
            .reindex(matrix.index)
            .to_numpy()
        )
        naive = np.repeat(history.to_numpy()[:, -1:], horizon, axis=1)
        model_err += float(np.abs(wide - actual).sum())
        naive_err += float(np.abs(naive - actual).sum())
        used.append(weeks[cut])
    cells = matrix.shape[0] * horizon * origins
    return Backtest(used, horizon, model_err / cells, naive_err / cells, matrix.shape[0])
