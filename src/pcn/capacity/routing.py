"""The rota's free slots today, handed to triage's capacity-aware routing (ADR 0140).

Triage already routes by capacity when a practice has declared free slots for a day (the
``triage_capacity`` table; the engine keeps its urgency, never re-routes emergencies, only
substitutes roles its rules allow and stores the reason for staff). What it lacked was knowing
who is working: this module computes each role's free slots from the rota (bookable slots less
appointments already booked that day) and declares them, so no triage code changes.

A role nobody works today is declared with 0 free slots, so a request routed there goes to the
next allowed role or, when none has room, stays where triage sent it, flagged for staff.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pcn.capacity.definitions import CapacityDefinitions, load_definitions
from pcn.store.database import Store
from pcn.tasks.vocabulary import OWNER_ROLES


def free_slots(
    capacity: pd.DataFrame,
    demand: pd.DataFrame,
    practice_code: str,
    day: dt.date,
    definitions: CapacityDefinitions | None = None,
) -> dict[str, int]:
    """Free slots per routable role at one practice on one day (never negative).

    ``capacity``: rows of :func:`pcn.capacity.rota.capacity_by_day`; ``demand``: rows of
    :func:`pcn.capacity.demand.daily_demand` (``booked`` used). Every routable role with a slot
    length appears, with 0 when nobody in that role works that day.
    """
    d = definitions or load_definitions()
    cap = capacity[(capacity["practice_code"] == practice_code) & (capacity["date"] == day)]
    booked = demand[(demand["practice_code"] == practice_code) & (demand["date"] == day)]
    slots = dict(zip(cap["role"], cap["capacity_slots"], strict=True))
    used = dict(zip(booked["role"], booked["booked"], strict=True))
    return {
        role: max(0, int(slots.get(role, 0)) - int(used.get(role, 0)))
        for role in OWNER_ROLES
        if d.slot_minutes(role) > 0
    }


def declare_free_slots(
    store: Store, practice_code: str, day: dt.date, free: dict[str, int], declared_by: str
) -> None:
    """Record the day's free slots where triage reads them (replacing earlier figures)."""
    from pcn.triage.requests import set_capacity

    for role, slots in sorted(free.items()):
        set_capacity(store, practice_code, role, slots, day, declared_by)
