"""Capacity-aware routing fed by the rota: spec tests on tiny hand-made rotas (issue 20).

The rota decides who is working; triage keeps its urgency and its rules for which role may
stand in (ADR 0140)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pcn.capacity.exceptions import ExceptionError, add_exception, list_exceptions
from pcn.capacity.rota import RotaException, capacity_by_day, who_works
from pcn.capacity.routing import declare_free_slots, free_slots
from pcn.store.database import Store, now_utc
from pcn.store.models import TriageRequestRow
from pcn.triage import requests as desk
from pcn.triage.requests import NewRequest

A = "A81001"
MONDAY = dt.date(2026, 3, 23)
GOOD_FRIDAY = dt.date(2026, 4, 3)
ROUTINE_GP = "I would like to talk to someone about HRT for my menopause symptoms"
CHEST = "crushing chest pain spreading to my left arm"
NO_BOOKINGS = pd.DataFrame(columns=["date", "practice_code", "role", "booked"])


def _staff() -> pd.DataFrame:
    rows = [("GP-1", A, "gp"), ("ANP-1", None, "anp")]
    return pd.DataFrame(
        [
            {
                "clinician_id": c,
                "practice_code": p,
                "pcn_code": "U00001",
                "role": r,
                "arrs": p is None,
                "wte": 1.0,
                "start_date": dt.date(2020, 1, 1),
                "end_date": None,
            }
            for c, p, r in rows
        ]
    )


def _free_on(
    day: dt.date, away: list[RotaException], booked: pd.DataFrame = NO_BOOKINGS
) -> dict[str, int]:
    rota = who_works(_staff(), day, day, away)
    return free_slots(capacity_by_day(rota, {A: 1.0}), booked, A, day)


def _working_day_for_both() -> dt.date:
    """A weekday in the test week when the GP's and the ANP's patterns both have sessions."""
    rota = who_works(_staff(), MONDAY, MONDAY + dt.timedelta(days=4))
    both = rota[rota["sessions"] > 0].groupby("date")["clinician_id"].nunique()
    return next(day for day, n in both.items() if n == 2)


def _submit(store: Store, text: str) -> desk.Submitted:
    return desk.submit(
        store,
        NewRequest(age=40, sex="F", text=text, practice_code=A),
        source="web_form",
        practices=(A,),
    )


def test_gp_on_leave_sends_routine_gp_work_to_the_working_anp_with_the_reason(store: Store) -> None:
    day = _working_day_for_both()
    free = _free_on(day, [RotaException("GP-1", day, day, "annual_leave")])
    assert free["gp"] == 0 and free["anp"] > 0
    declare_free_slots(store, A, now_utc().date(), free, "manager")
    answer = _submit(store, ROUTINE_GP)
    assert answer.route == "gp" and "capacity" not in answer.explanation  # patient's answer
    with store.read() as session:
        row = session.get(TriageRequestRow, answer.id)
        assert row is not None and row.route == "anp" and row.urgency == "routine"
        assert "capacity: no gp slots today" in row.explanation  # staff see why


def test_an_emergency_is_never_rerouted_whoever_is_away(store: Store) -> None:
    day = _working_day_for_both()
    free = _free_on(day, [RotaException("GP-1", day, day, "sickness")])
    declare_free_slots(store, A, now_utc().date(), free, "manager")
    answer = _submit(store, CHEST)
    with store.read() as session:
        row = session.get(TriageRequestRow, answer.id)
        assert row is not None and row.urgency == "emergency"
        assert row.route == "emergency_services"


def test_nobody_working_keeps_the_request_with_its_role_flagged_never_dropped(store: Store) -> None:
    free = _free_on(GOOD_FRIDAY, [])
    assert set(free.values()) == {0}
    declare_free_slots(store, A, now_utc().date(), free, "manager")
    answer = _submit(store, ROUTINE_GP)
    with store.read() as session:
        row = session.get(TriageRequestRow, answer.id)
        assert row is not None and row.route == "gp" and row.urgency == "routine"
        assert "capacity: no gp slots today; book the next available" in row.explanation


def test_booked_appointments_use_up_the_rota_slots() -> None:
    day = _working_day_for_both()
    free = _free_on(day, [])
    booked = pd.DataFrame(
        [{"date": day, "practice_code": A, "role": "anp", "booked": free["anp"] + 3}]
    )
    assert _free_on(day, [], booked)["anp"] == 0  # never negative
    assert _free_on(day, [], booked)["gp"] == free["gp"]


def test_rota_exceptions_are_validated_then_stored(store: Store) -> None:
    with pytest.raises(ExceptionError, match="end_date"):
        add_exception(store, "GP-1", MONDAY, MONDAY - dt.timedelta(days=1), "annual_leave", "m")
    with pytest.raises(ExceptionError, match="kind"):
        add_exception(store, "GP-1", MONDAY, MONDAY, "holiday", "m")
    with pytest.raises(ExceptionError, match="not in the staff register"):
        add_exception(store, "GP-9", MONDAY, MONDAY, "training", "m", known_staff={"GP-1"})
    assert list_exceptions(store) == []
    new_id = add_exception(store, "GP-1", MONDAY, MONDAY + dt.timedelta(days=2), "training", "m")
    stored = list_exceptions(store, MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=9))
    assert stored == [
        (new_id, RotaException("GP-1", MONDAY, MONDAY + dt.timedelta(days=2), "training"))
    ]
    assert list_exceptions(store, MONDAY + dt.timedelta(days=3)) == []
