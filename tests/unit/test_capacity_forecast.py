"""The forecast and its backtest on hand-made series whose answers are known by construction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from pcn.capacity.forecast import backtest, forecast_weekly, weekly_series

START = dt.date(2024, 1, 1)  # a Monday


def _matrix(values: dict[tuple[str, str], np.ndarray]) -> pd.DataFrame:
    n = len(next(iter(values.values())))
    weeks = [START + dt.timedelta(days=7 * i) for i in range(n)]
    index = pd.MultiIndex.from_tuples(list(values), names=["practice_code", "role"])
    return pd.DataFrame(np.vstack(list(values.values())), index=index, columns=weeks)


def test_weekly_series_keeps_complete_weeks_only() -> None:
    days = [START + dt.timedelta(days=i) for i in range(16)]  # two weeks and two days
    daily = pd.DataFrame({"date": days, "practice_code": "A", "role": "gp", "demand_requests": 1})
    matrix = weekly_series(daily, days[-1])
    assert list(matrix.columns) == [START, START + dt.timedelta(days=7)]
    assert matrix.to_numpy().tolist() == [[7.0, 7.0]]


def test_backtest_on_a_straight_trend_knows_the_naive_error_and_beats_it() -> None:
    # 100 + 2 per week: "same as last week" is wrong by 2 x h at horizon h, so its mean
    # absolute error over h = 1..8 is 2 x 4.5 = 9 by construction.
    trend = 100 + 2.0 * np.arange(60)
    result = backtest(_matrix({("A", "gp"): trend}), horizon=8, origins=3, step=4)
    assert result.naive_mae == pytest.approx(9.0)
    assert result.model_mae < 1.0
    assert result.mae_ratio < 0.2


def test_backtest_on_a_flat_noisy_series_prefers_the_level_to_last_week() -> None:
    rng = np.random.default_rng(7)
    noisy = 200 + rng.normal(0, 10, 80)
    result = backtest(_matrix({("A", "gp"): noisy}), horizon=8, origins=6, step=4)
    # last week's noise is carried forward by the naive; a level averages it out
    assert result.mae_ratio < 0.95


def test_backtest_refuses_too_short_a_history() -> None:
    with pytest.raises(ValueError, match="complete weeks"):
        backtest(_matrix({("A", "gp"): np.ones(20)}))


def test_practices_share_the_role_forecast_and_intervals_contain_it() -> None:
    base = 300 + 0 * np.arange(40.0)
    matrix = _matrix({("A", "gp"): base * 0.75, ("B", "gp"): base * 0.25})
    out = forecast_weekly(matrix, horizon=8)
    by_practice = out.groupby("practice_code")["forecast"].mean()
    assert by_practice["A"] == pytest.approx(225, rel=0.01)
    assert by_practice["B"] == pytest.approx(75, rel=0.01)
    assert (out["low"] <= out["forecast"]).all() and (out["forecast"] <= out["high"]).all()
    assert (out["high"] > out["low"]).all()  # splitting between practices is never certain
