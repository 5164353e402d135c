"""Spec tests for the rota and capacity on tiny hand-made registers (issue 20)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pcn.capacity.definitions import load_definitions
from pcn.capacity.rota import (
    RotaException,
    capacity_by_day,
    england_bank_holidays,
    weekly_pattern,
    who_works,
)

MONDAY = dt.date(2026, 3, 23)  # a week with no bank holiday
EASTER_WEEK = dt.date(2026, 3, 30)  # Good Friday 3 April 2026


def _staff(*rows: tuple[str, str | None, str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "clinician_id": cid,
                "practice_code": practice,
                "pcn_code": "U00001",
                "role": role,
                "arrs": practice is None,
                "wte": wte,
                "start_date": dt.date(2020, 1, 1),
                "end_date": None,
            }
            for cid, practice, role, wte in rows
        ]
    )


def test_a_full_time_person_works_nine_sessions_and_half_time_five_never_at_weekends() -> None:
    full, half = weekly_pattern("GP-1", 1.0), weekly_pattern("GP-2", 0.5)
    assert len(full) == 9 and len(half) == 5  # 9 x 4 h 10 min = 37.5 h; 0.5 x 9 rounds to 5
    assert all(day < 5 for day, _ in full + half)
    assert weekly_pattern("GP-1", 1.0) == full  # the same every run


def test_england_bank_holidays_come_from_the_maintained_calendar() -> None:
    days = england_bank_holidays(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert dt.date(2026, 4, 3) in days and dt.date(2026, 4, 6) in days  # Good Friday, Easter Mon
    assert dt.date(2026, 8, 31) in days  # summer bank holiday (England, not Scotland's 3 Aug)
    assert dt.date(2026, 8, 3) not in days
    # GOV.UK lists 8 for England in 2026; Boxing Day falls on a Saturday, substitute Monday 28th
    assert len([d for d in days if d.weekday() < 5]) == 8
    assert dt.date(2026, 12, 28) in days


def test_rota_takes_out_bank_holidays_and_recorded_leave_and_says_why() -> None:
    staff = _staff(("GP-1", "A00001", "gp", 1.0), ("NURSE-1", "A00001", "practice_nurse", 1.0))
    end = EASTER_WEEK + dt.timedelta(days=6)
    leave = [RotaException("NURSE-1", EASTER_WEEK, EASTER_WEEK + dt.timedelta(days=1), "training")]
    rota = who_works(staff, EASTER_WEEK, end, leave)
    friday = rota[rota["date"] == dt.date(2026, 4, 3)]
    assert (friday["sessions"] == 0).all()
    assert friday["away"].str.startswith("bank holiday: Good Friday").all()
    nurse = rota[rota["clinician_id"] == "NURSE-1"]
    assert set(nurse[nurse["date"] <= EASTER_WEEK + dt.timedelta(days=1)]["away"]) == {"training"}
    gp = rota[rota["clinician_id"] == "GP-1"]
    # 9 planned sessions a week; the GP loses only what the pattern had on Good Friday
    assert gp["planned_sessions"].sum() == 9
    assert gp["sessions"].sum() == 9 - int(
        friday[friday["clinician_id"] == "GP-1"]["planned_sessions"].sum()
    )


def test_nobody_is_rostered_before_they_start_or_after_they_leave() -> None:
    staff = _staff(("GP-1", "A00001", "gp", 1.0))
    staff.loc[0, "start_date"] = MONDAY + dt.timedelta(days=7)
    assert who_works(staff, MONDAY, MONDAY + dt.timedelta(days=6)).empty


def test_capacity_minutes_slots_and_pcn_staff_shared_by_list_size() -> None:
    d = load_definitions()
    staff = _staff(("GP-1", "A00001", "gp", 1.0), ("ANP-1", None, "anp", 1.0))
    rota = who_works(staff, MONDAY, MONDAY + dt.timedelta(days=4))
    cap = capacity_by_day(rota, {"A00001": 3000.0, "A00002": 1000.0})
    week = cap.groupby(["practice_code", "role"])["capacity_minutes"].sum()
    gp_minutes = 9 * d.session_minutes * d.roles["gp"].patient_facing
    anp_minutes = 9 * d.session_minutes * d.roles["anp"].patient_facing
    assert week[("A00001", "gp")] == pytest.approx(gp_minutes, abs=3)
    assert ("A00002", "gp") not in week.index  # a practice's own GP serves only that practice
    assert week[("A00001", "anp")] == pytest.approx(anp_minutes * 0.75, abs=3)
    assert week[("A00002", "anp")] == pytest.approx(anp_minutes * 0.25, abs=3)
    gp_days = cap[(cap["role"] == "gp")]
    assert (gp_days["capacity_slots"] == (gp_days["capacity_minutes"] // 10)).all()
