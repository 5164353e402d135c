"""MDT meetings (issue 17): a meeting's patient list is drawn from worklists (frailty, high
admission risk, care homes); each discussion is recorded, and what the meeting agreed becomes
tasks — and actions of the patient's care plan when they have one.

Creating a meeting and opening one are lists of patients: ``triage_work`` limited by
``scope_patients`` (one audit event naming the patients shown). Recording a discussion is
``triage_work`` on the patient (one audit event; the care-plan version it adds is part of it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from pcn.access.guard import NotFound, disclose_in_scope, require
from pcn.access.policy import Action, PatientScope, Principal, Purpose
from pcn.care import plans
from pcn.store.database import Store, now_utc
from pcn.store.models import CarePlanRow, MdtMeeting, MdtPatient
from pcn.tasks import service
from pcn.tasks.service import Candidate, PracticesOf, TaskError

#: Worklists a meeting usually draws on.
DEFAULT_WORKLISTS = ("anticipatory_care", "high_admission_risk", "care_home_residents")
MAX_PATIENTS = 60


@dataclass(frozen=True)
class MeetingPatient:
    patient_id: int
    practice_code: str
    worklist_id: str | None
    discussion: str | None
    discussed_by: str | None
    discussed_at: dt.datetime | None


@dataclass(frozen=True)
class Meeting:
    id: int
    title: str
    held_on: dt.date
    practice_code: str | None
    worklists: list[str]
    created_by: str
    created_at: dt.datetime
    patients: list[MeetingPatient]


def create(store: Store, who: Principal, *, title: str, held_on: dt.date,
           worklists: Sequence[str], candidates: dict[str, Sequence[Candidate]],
           limit: int = MAX_PATIENTS, route: str = "") -> int:
    """A meeting whose list holds the patients of ``worklists`` the caller may work (in list
    order, at most ``limit``, each once). One audit event naming them."""
    name = (title or "").strip()
    if not name or len(name) > 200 or "\x00" in name:
        raise TaskError("title", "give the meeting a title (at most 200 characters)")
    unknown = [w for w in worklists if w not in candidates]
    if not worklists or unknown:
        raise TaskError("worklists", "choose one or more of this network's worklists")

    def select_rows(scope: PatientScope) -> tuple[int, list[int]]:
        if scope.is_empty:
            raise NotFound()
        chosen: dict[int, tuple[str, str]] = {}
        for w in worklists:
            for c in candidates[w]:
                if len(chosen) >= limit:
                    break
                if c.patient_id not in chosen and scope.allows(
                        c.patient_id, frozenset({c.practice_code})):
                    chosen[c.patient_id] = (c.practice_code, w)
        now = now_utc()
        with store.session() as session:
            meeting = MdtMeeting(title=name, held_on=held_on, practice_code=who.practice_code,
                                 worklists=list(worklists), created_by=who.username,
                                 created_at=now)
            session.add(meeting)
            session.flush()
            for pid, (practice, w) in chosen.items():
                session.add(MdtPatient(meeting_id=meeting.id, patient_id=pid,
                                       practice_code=practice, worklist_id=w))
            meeting_id = meeting.id
        return meeting_id, sorted(chosen)

    return disclose_in_scope(store, who, select_rows, Purpose.DIRECT_CARE, Action.TRIAGE_WORK,
                             detail={"route": route, "op": "create_mdt_meeting",
                                     "worklists": list(worklists)})


def meetings(store: Store) -> list[Meeting]:
    """Meetings without their patients (titles and dates only: not identifiable)."""
    with store.read() as session:
        rows = session.scalars(select(MdtMeeting).order_by(MdtMeeting.held_on.desc(),
                                                           MdtMeeting.id.desc())).all()
        return [Meeting(m.id, m.title, m.held_on, m.practice_code, list(m.worklists),
                        m.created_by, m.created_at, []) for m in rows]


def get(store: Store, who: Principal, meeting_id: int, *, route: str = "") -> Meeting:
    """A meeting with the patients on it that the caller may work (one audit event)."""

    def select_rows(scope: PatientScope) -> tuple[Meeting, list[int]]:
        if scope.is_empty:
            raise NotFound()
        with store.read() as session:
            m = session.get(MdtMeeting, meeting_id)
            if m is None:
                raise NotFound()
            rows = session.scalars(select(MdtPatient).where(MdtPatient.meeting_id == m.id)
                                   .order_by(MdtPatient.id)).all()
            shown = [MeetingPatient(int(r.patient_id), r.practice_code, r.worklist_id,
                                    r.discussion, r.discussed_by, r.discussed_at)
                     for r in rows if scope.allows(int(r.patient_id),
                                                   frozenset({r.practice_code}))]
            meeting = Meeting(m.id, m.title, m.held_on, m.practice_code, list(m.worklists),
                              m.created_by, m.created_at, shown)
        return meeting, [p.patient_id for p in shown]

    return disclose_in_scope(store, who, select_rows, Purpose.DIRECT_CARE, Action.TRIAGE_WORK,
                             detail={"route": route, "op": "view_mdt_meeting",
                                     "meeting_id": meeting_id})


def record_discussion(store: Store, who: Principal, meeting_id: int, patient_id: int, *,
                      discussion: str, actions: Sequence[plans.PlanAction],
                      practices_of: PracticesOf, route: str = "") -> list[int]:
    """Record what the meeting said about one patient; the agreed actions become tasks (and
    care-plan actions when the patient has a plan). Returns the new tasks' ids."""
    text = (discussion or "").strip()
    if not text or "\x00" in text or len(text) > service.MAX_TEXT:
        raise TaskError("discussion", "summarise the discussion (at most "
                        f"{service.MAX_TEXT} characters)")
    with store.read() as session:
        on_list = session.scalar(select(MdtPatient).where(
            MdtPatient.meeting_id == meeting_id, MdtPatient.patient_id == patient_id))
    if on_list is None:
        # audited like any refusal: the patient is not on this meeting's list
        require(store, who, Action.TRIAGE_WORK, purpose=Purpose.DIRECT_CARE, patient_id=None,
                patient_practices=frozenset(), triage_request=True,
                detail={"route": route, "op": "mdt_discussion", "meeting_id": meeting_id})
        raise NotFound()  # pragma: no cover - the line above always refuses
    with store.read() as session:
        has_plan = session.scalar(select(CarePlanRow.id).where(
            CarePlanRow.patient_id == patient_id, CarePlanRow.status == "active")) is not None
    new = [a for a in actions if a.text.strip()]
    created: list[int] = []
    if has_plan and new:
        current = plans.current_unaudited(store, patient_id)
        assert current is not None
        saved = plans.save(store, who, patient_id, plans.PlanInput(
            current.what_matters, current.goals, [*current.actions, *new],
            current.coordinator, current.review_date), practices_of=practices_of,
            source="mdt", source_ref=f"mdt:{meeting_id}", route=route)
        created = [a.task_id for a in saved.actions[len(current.actions):]
                   if a.task_id is not None]
    else:
        practices = practices_of(patient_id)
        require(store, who, Action.TRIAGE_WORK, purpose=Purpose.DIRECT_CARE,
                patient_id=patient_id, patient_practices=practices,
                detail={"route": route, "op": "mdt_discussion", "meeting_id": meeting_id})
        owners = [service.Owner.parse(a.owner) for a in new]
        for owner in owners:
            service._check_owner(store, owner, practices)
        now = now_utc()
        with store.session() as session:
            for action, owner in zip(new, owners, strict=True):
                row = service._add(
                    session, (who.username, who.role.value), patient_id=patient_id,
                    practice_code=sorted(practices)[0], source="mdt", worklist_id=None,
                    source_ref=f"mdt:{meeting_id}", kind="mdt_action",
                    reason=action.text.strip()[:service.MAX_TEXT], priority="routine",
                    due_date=action.due_date, owner=owner, now=now)
                created.append(row.id)
    with store.session() as session:
        row = session.scalar(select(MdtPatient).where(
            MdtPatient.meeting_id == meeting_id, MdtPatient.patient_id == patient_id))
        assert row is not None
        row.discussion, row.discussed_by, row.discussed_at = text, who.username, now_utc()
    return created
