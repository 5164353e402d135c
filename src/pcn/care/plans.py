"""Personalised care and support plans (issue 17): what matters to the person, their goals,
the actions agreed (each becomes a task of the one work model), a named care coordinator and a
review date. Versioned: saving adds a version and supersedes the previous one.

Reading a plan is ``view_patient`` on the patient (one audit event); saving one is
``triage_work`` on the patient (the permission to work patients' tasks), one audit event, with
the new actions' tasks created in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from pcn.access.guard import NotFound, require
from pcn.access.policy import Action, Principal, Purpose
from pcn.store.database import Store, now_utc
from pcn.store.models import CarePlanRow
from pcn.tasks import service
from pcn.tasks.service import PracticesOf, TaskError

MAX_GOALS = 20
MAX_ACTIONS = 30


@dataclass(frozen=True)
class PlanAction:
    text: str
    owner: str | None = None
    due_date: dt.date | None = None
    task_id: int | None = None


@dataclass(frozen=True)
class PlanInput:
    what_matters: str
    goals: Sequence[str] = ()
    actions: Sequence[PlanAction] = ()
    coordinator: str | None = None
    review_date: dt.date | None = None


@dataclass(frozen=True)
class CarePlan:
    id: int
    patient_id: int
    practice_code: str | None
    version: int
    status: str
    what_matters: str
    goals: list[str]
    actions: list[PlanAction]
    coordinator: str | None
    review_date: dt.date | None
    created_by: str
    created_at: dt.datetime
    versions: list[tuple[int, str, dt.datetime]] = field(default_factory=list)


def _plan(row: CarePlanRow, versions: list[tuple[int, str, dt.datetime]] | None = None
          ) -> CarePlan:
    actions = [PlanAction(str(a.get("text", "")), a.get("owner"),
                          dt.date.fromisoformat(a["due_date"]) if a.get("due_date") else None,
                          a.get("task_id")) for a in row.actions]
    return CarePlan(row.id, int(row.patient_id), row.practice_code, row.version, row.status,
                    row.what_matters, list(row.goals), actions, row.coordinator,
                    row.review_date, row.created_by, row.created_at, versions or [])


def _current(session: Any, patient_id: int) -> CarePlanRow | None:
    return session.scalar(select(CarePlanRow).where(
        CarePlanRow.patient_id == patient_id, CarePlanRow.status == "active")
        .order_by(CarePlanRow.version.desc()).limit(1))


def current_unaudited(store: Store, patient_id: int) -> CarePlan | None:
    """The active plan, for a page whose own ``view_patient`` check is already audited."""
    with store.read() as session:
        row = _current(session, patient_id)
        if row is None:
            return None
        versions = [(r.version, r.created_by, r.created_at) for r in session.scalars(
            select(CarePlanRow).where(CarePlanRow.patient_id == patient_id)
            .order_by(CarePlanRow.version.desc()))]
        return _plan(row, versions)


def plans_of(store: Store, patient_id: int) -> list[CarePlan]:
    """Every version, newest first (unaudited: for an already authorised read)."""
    with store.read() as session:
        rows = session.scalars(select(CarePlanRow).where(CarePlanRow.patient_id == patient_id)
                               .order_by(CarePlanRow.version.desc())).all()
        return [_plan(r) for r in rows]


def get(store: Store, who: Principal, patient_id: int, *, practices_of: PracticesOf,
        route: str = "") -> CarePlan | None:
    """The active plan (one audit event, ``view_patient``); None when there is none yet."""
    require(store, who, Action.VIEW_PATIENT, purpose=Purpose.DIRECT_CARE,
            patient_id=patient_id, patient_practices=practices_of(patient_id),
            detail={"route": route, "op": "view_care_plan"})
    return current_unaudited(store, patient_id)


def _clean(plan: PlanInput) -> PlanInput:
    what = (plan.what_matters or "").strip()
    if not what:
        raise TaskError("what_matters", "say what matters to the person, in their words")
    if len(what) > service.MAX_TEXT:
        raise TaskError("what_matters", f"at most {service.MAX_TEXT} characters")
    goals = [g.strip() for g in plan.goals if g and g.strip()]
    if len(goals) > MAX_GOALS:
        raise TaskError("goals", f"at most {MAX_GOALS} goals")
    actions = [a for a in plan.actions if a.text and a.text.strip()]
    if len(actions) > MAX_ACTIONS:
        raise TaskError("actions", f"at most {MAX_ACTIONS} actions")
    for text in [what, *goals, *(a.text for a in actions), plan.coordinator or ""]:
        if "\x00" in text:
            raise TaskError("plan", "must not contain a NUL character")
    return PlanInput(what, goals, actions, (plan.coordinator or "").strip() or None,
                     plan.review_date)


def save(store: Store, who: Principal, patient_id: int, plan: PlanInput, *,
         practices_of: PracticesOf, source: str = "care_plan", source_ref: str | None = None,
         route: str = "") -> CarePlan:
    """Save a new version of the patient's plan; actions without a task get one (one audit
    event for the whole save)."""
    plan = _clean(plan)
    practices = practices_of(patient_id)
    require(store, who, Action.TRIAGE_WORK, purpose=Purpose.DIRECT_CARE,
            patient_id=patient_id, patient_practices=practices,
            detail={"route": route, "op": "save_care_plan"})
    if not practices:  # pragma: no cover - the policy refuses a patient nobody registers
        raise NotFound()
    owners = [service.Owner.parse(a.owner) for a in plan.actions]
    for owner in owners:
        service._check_owner(store, owner, practices)
    now = now_utc()
    practice = sorted(practices)[0]
    with store.session() as session:
        previous = _current(session, patient_id)
        version = (previous.version + 1) if previous is not None else 1
        if previous is not None:
            previous.status = "superseded"
        row = CarePlanRow(patient_id=patient_id, practice_code=practice, version=version,
                          status="active", what_matters=plan.what_matters,
                          goals=list(plan.goals), actions=[], coordinator=plan.coordinator,
                          review_date=plan.review_date, created_by=who.username,
                          created_at=now)
        session.add(row)
        session.flush()
        stored: list[dict[str, Any]] = []
        for action, owner in zip(plan.actions, owners, strict=True):
            task_id = action.task_id
            if task_id is None:
                task = service._add(
                    session, (who.username, who.role.value), patient_id=patient_id,
                    practice_code=practice, source=source, worklist_id=None,
                    source_ref=source_ref or f"care_plan:{row.id}", kind="care_plan_action",
                    reason=action.text.strip()[:service.MAX_TEXT], priority="routine",
                    due_date=action.due_date, owner=owner, now=now,
                    detail={"care_plan_version": version})
                task_id = task.id
            stored.append({"text": action.text.strip(), "owner": action.owner,
                           "due_date": action.due_date.isoformat() if action.due_date
                           else None, "task_id": task_id})
        row.actions = stored
    result = current_unaudited(store, patient_id)
    assert result is not None
    return result
