"""Access measures on hand-made requests with expected answers (issue 20)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pcn.capacity.measures import by_practice, monthly, request_measures

T = dt.datetime


def _requests(*rows: tuple[str, dt.datetime, dt.datetime | None, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["practice_code", "received_at", "reviewed_at", "urgency"])


NOW = T(2026, 4, 20, 12, 0)


def test_one_working_day_counts_working_days_and_skips_easter() -> None:
    frame = _requests(
        ("A", T(2026, 3, 23, 10), T(2026, 3, 24, 17), "routine"),  # Mon -> Tue 17:00: yes
        ("A", T(2026, 3, 23, 10), T(2026, 3, 25, 9), "routine"),  # Mon -> Wed: no
        # Thu 2 April 19:00: clock starts Tue 7 April 08:00 (Good Friday, weekend, Easter Monday)
        ("B", T(2026, 4, 2, 19), T(2026, 4, 8, 10), "routine"),  # Wed 8 April: yes
        ("B", T(2026, 4, 4, 11), T(2026, 4, 9, 9), "routine"),  # Sat -> Thu 9 April: no
    )
    out = request_measures(frame, NOW)
    assert out["answered_within_working_day"].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert out["received_in_core_hours"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert out["month"].tolist() == ["2026-03", "2026-03", "2026-04", "2026-04"]


def test_urgent_same_day_and_undecided_requests_left_out() -> None:
    frame = _requests(
        ("A", T(2026, 4, 20, 9), T(2026, 4, 20, 11), "urgent"),  # same day: yes
        ("A", T(2026, 4, 17, 17), T(2026, 4, 20, 9), "urgent"),  # Fri 17:00 -> Mon: no
        ("A", T(2026, 4, 20, 10), None, "routine"),  # not answered, still in time: undecided
        ("A", T(2026, 4, 14, 10), None, "routine"),  # not answered, deadline passed: no
    )
    out = request_measures(frame, NOW)
    assert out["urgent_answered_same_day"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(out["urgent_answered_same_day"].iloc[2])
    assert np.isnan(out["answered_within_working_day"].iloc[2])
    table = by_practice(out, "answered_within_working_day")
    assert table.to_dict("records") == [{"practice_code": "A", "numerator": 2, "denominator": 3}]
    months = monthly(out, "urgent_answered_same_day")
    assert months[["numerator", "denominator"]].values.tolist() == [[1, 2]]


def test_funnel_and_monthly_spc_come_from_the_shared_modules() -> None:
    from pcn.capacity.measures import access_summary

    fast = [
        ("A", T(2026, m, 2, 10), T(2026, m, 2, 12), "routine") for m in (1, 2, 3) for _ in range(60)
    ]
    slow = [
        ("B", T(2026, m, 2, 10), T(2026, m, 20, 12), "routine")
        for m in (1, 2, 3)
        for _ in range(60)
    ]
    points, chart = access_summary(
        request_measures(_requests(*fast, *slow), NOW), "answered_within_working_day"
    )
    position = dict(zip(points["practice_code"], points["position"], strict=True))
    assert position["A"].startswith("above") and position["B"].startswith("below")
    assert chart is not None and len(chart.points) == 3  # type: ignore[attr-defined]
