"""Tasks: create (one, or a worklist's patients in bulk), list, read and work one task.

The one work model of the operational store (ADR 0110): a task about a patient from a source
(worklist, online request, care-plan action, MDT discussion, or added by staff) with an owner (a
person, or a role queue of the task's practice or of the PCN), a status, contact attempts, a coded
outcome and its history. The JSON API, the CLI and the pages are thin edges over these functions.

Access and audit go through :mod:`pcn.access.guard` only, with the permission that already meant
"work patients' requests": ``triage_work``. One task is decided on the practices the patient is
registered at now (from the record, ``practices_of``) or, for a request matched to nobody, on the
practice it was sent to (``NETWORK`` when unallocated); a list is limited by ``scope_patients``.
Every call writes exactly one audit event; a denial raises :class:`~pcn.access.guard.NotFound`,
exactly like a task id that does not exist.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pcn.access.guard import NotFound, could_work, disclose_in_scope, require
from pcn.access.policy import NETWORK, Action, PatientScope, Principal, Purpose
from pcn.store import audit
from pcn.store.database import Store, now_utc
from pcn.store.idempotency import StoredResponse, recall, remember
from pcn.store.models import Task, TaskEvent
from pcn.tasks.vocabulary import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    OWNER_ROLES,
    PRIORITIES,
    SOURCES,
    STATUSES,
    TRANSITIONS,
    outcomes,
)

#: The record's practices for a patient id (empty when the record does not know the patient).
PracticesOf = Callable[[int], frozenset[str]]
MAX_TEXT = 2000
MAX_KIND = 64


class TaskError(ValueError):
    """Bad input: names the field and why (HTTP 422). ``authorised``: found after the access
    check and its audit event (e.g. an owner who may not work this patient)."""

    def __init__(self, field: str, problem: str, *, authorised: bool = False) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem, self.authorised = field, problem, authorised


class TaskConflict(ValueError):
    """The change does not fit the task's state (HTTP 409): a closed task, a patient who already
    has an open task on the worklist, a status that cannot follow the current one."""


@dataclass(frozen=True)
class TaskHistory:
    occurred_at: dt.datetime
    username: str
    role: str
    action: str
    reason: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class TaskView:
    """One task as staff see it."""

    id: int
    patient_id: int | None
    practice_code: str | None
    source: str
    worklist_id: str | None
    source_ref: str | None
    kind: str
    reason: str
    priority: str
    due_date: dt.date | None
    owner_user: str | None
    owner_role: str | None
    status: str
    attempts: int
    outcome_code: str | None
    outcome_term: str | None
    outcome_date: dt.date | None
    outcome_text: str | None
    notes: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    history: list[TaskHistory] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def body(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "history":
                value = [{"occurred_at": h.occurred_at.isoformat(), "username": h.username,
                          "role": h.role, "action": h.action, "reason": h.reason,
                          "detail": h.detail} for h in value]
            elif isinstance(value, dt.date | dt.datetime):
                value = value.isoformat()
            out[name] = value
        return out


def view_of(row: Task, history: Sequence[TaskEvent] = ()) -> TaskView:
    return TaskView(
        id=row.id, patient_id=row.patient_id, practice_code=row.practice_code, source=row.source,
        worklist_id=row.worklist_id, source_ref=row.source_ref, kind=row.kind, reason=row.reason,
        priority=row.priority, due_date=row.due_date, owner_user=row.owner_user,
        owner_role=row.owner_role, status=row.status, attempts=row.attempts,
        outcome_code=row.outcome_code, outcome_term=row.outcome_term,
        outcome_date=row.outcome_date, outcome_text=row.outcome_text, notes=row.notes,
        created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at,
        closed_at=row.closed_at,
        history=history_of(history))


def history_of(events: Iterable[TaskEvent]) -> list[TaskHistory]:
    """A task's stored events as staff read them (tasks and online requests alike)."""
    return [TaskHistory(e.occurred_at, e.username, e.role, e.action, e.reason, dict(e.detail))
            for e in events]


# ---- input ---------------------------------------------------------------------------------
def _text(field_name: str, value: str | None, *, required: bool = False,
          limit: int = MAX_TEXT) -> str | None:
    text = (value or "").strip()
    if "\x00" in text:
        raise TaskError(field_name, "must not contain a NUL character")
    if required and not text:
        raise TaskError(field_name, "must not be empty")
    if len(text) > limit:
        raise TaskError(field_name, f"at most {limit} characters")
    return text or None


def _priority(value: str | None) -> str:
    priority = (value or "routine").strip()
    if priority not in PRIORITIES:
        raise TaskError("priority", f"{priority!r} is not one of {', '.join(PRIORITIES)}")
    return priority


@dataclass(frozen=True)
class Owner:
    """A person (``user``) or a role queue (``role``) — the role queue of the task's practice
    (or of the PCN for a network task)."""

    user: str | None = None
    role: str | None = None

    @classmethod
    def parse(cls, value: str | None) -> Owner | None:
        text = _text("owner", value, limit=64)
        if text is None:
            return None
        if text in OWNER_ROLES:
            return cls(role=text)
        name = text.lower()
        if not name.replace(".", "").replace("_", "").replace("-", "").isalnum():
            raise TaskError("owner", f"{text!r} is neither a role queue "
                            f"({', '.join(OWNER_ROLES)}) nor a username")
        return cls(user=name)


#: The one answer for every owner who cannot take a task: unknown, disabled, not working tasks,
#: or of another practice (the same words whatever the reason, so no username is confirmed).
OWNER_REFUSED = ("name a colleague who works tasks for this patient's practice (an active "
                 "account of that practice, or a role queue)")


def _check_owner(store: Store, owner: Owner | None, practices: frozenset[str]) -> None:
    if owner is not None and owner.user is not None \
            and not could_work(store, owner.user, practices):
        raise TaskError("owner", OWNER_REFUSED, authorised=True)


@dataclass(frozen=True)
class NewTask:
    """A task about one patient: from a worklist (``worklist_id``) or a kind and reason."""

    patient_id: int
    kind: str | None = None
    reason: str | None = None
    worklist_id: str | None = None
    source: str = "manual"
    source_ref: str | None = None
    priority: str | None = None
    due_date: dt.date | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Created:
    id: int
    replay: StoredResponse | None = None


@dataclass(frozen=True)
class Idempotency:
    username: str
    key: str
    request_hash: str


def _worklist_kind(worklist_id: str, worklists: dict[str, str]) -> str:
    if worklist_id not in worklists:
        raise TaskError("worklist", f"{worklist_id!r} is not a worklist of this network")
    return worklist_id


def _add(session: Session, who: tuple[str, str], *, patient_id: int | None,
         practice_code: str | None, source: str, worklist_id: str | None,
         source_ref: str | None, kind: str, reason: str, priority: str,
         due_date: dt.date | None, owner: Owner | None, now: dt.datetime,
         detail: dict[str, Any] | None = None) -> Task:
    row = Task(patient_id=patient_id, practice_code=practice_code, source=source,
               worklist_id=worklist_id, source_ref=source_ref, kind=kind, reason=reason,
               priority=priority, due_date=due_date,
               owner_user=owner.user if owner else None,
               owner_role=owner.role if owner else None, status="open", attempts=0,
               created_by=who[0], created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    session.add(TaskEvent(task_id=row.id, occurred_at=now, username=who[0],
                          role=who[1], action="created", reason=None,
                          detail={"source": source, "worklist": worklist_id, "kind": kind,
                                  "priority": priority,
                                  "owner": (owner.user or owner.role) if owner else None,
                                  **(detail or {})}))
    return row


def _open_on_worklist(session: Session, worklist_id: str,
                      patient_ids: Iterable[int]) -> dict[int, int]:
    """Patient id → id of their open task on this worklist."""
    ids = sorted(set(patient_ids))
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for pid, tid in session.execute(
                select(Task.patient_id, Task.id).where(
                    Task.worklist_id == worklist_id, Task.patient_id.in_(chunk),
                    Task.status.in_(OPEN_STATUSES))):
            if pid is not None:
                found[int(pid)] = int(tid)
    return found


def create(store: Store, who: Principal, new: NewTask, *, practices_of: PracticesOf,
           worklists: dict[str, str], idempotency: Idempotency | None = None,
           respond: Callable[[int], str] | None = None, route: str = "") -> Created:
    """One task about one patient (one audit event). ``worklists``: id → title of the network's
    worklists. With ``idempotency`` a retry returns the first answer and stores nothing."""
    if new.source not in SOURCES:
        raise TaskError("source", f"{new.source!r} is not one of {', '.join(SOURCES)}")
    if new.worklist_id is not None:
        kind = _worklist_kind(new.worklist_id, worklists)
        reason = _text("reason", new.reason) or worklists[new.worklist_id]
        source = "worklist" if new.source == "manual" else new.source
    else:
        kind = _text("kind", new.kind, required=True, limit=MAX_KIND) or ""
        reason = _text("reason", new.reason, required=True) or ""
        source = new.source
    priority = _priority(new.priority)
    owner = Owner.parse(new.owner)
    practices = practices_of(new.patient_id)
    require(store, who, Action.TRIAGE_WORK, purpose=Purpose.DIRECT_CARE,
            patient_id=new.patient_id, patient_practices=practices,
            detail={"route": route, "op": "create_task", "worklist": new.worklist_id,
                    "kind": kind})
    _check_owner(store, owner, practices)
    now = now_utc()
    try:
        with store.session() as session:
            if idempotency is not None:
                stored = recall(session, idempotency.username, idempotency.key,
                                idempotency.request_hash)
                if stored is not None:
                    return Created(int(json.loads(stored.body)["id"]), replay=stored)
            if new.worklist_id is not None:
                existing = _open_on_worklist(session, new.worklist_id, [new.patient_id])
                if existing:
                    raise TaskConflict(f"patient {new.patient_id} already has an open task on "
                                       f"{new.worklist_id} (task {existing[new.patient_id]})")
            row = _add(session, (who.username, who.role.value), patient_id=new.patient_id,
                       practice_code=sorted(practices)[0], source=source,
                       worklist_id=new.worklist_id, source_ref=new.source_ref, kind=kind,
                       reason=reason, priority=priority, due_date=new.due_date, owner=owner,
                       now=now)
            if idempotency is not None:
                body = respond(row.id) if respond else json.dumps({"id": row.id})
                remember(session, idempotency.username, idempotency.key,
                         idempotency.request_hash, 201, body)
            return Created(row.id)
    except IntegrityError:
        if idempotency is None:
            raise
        with store.read() as session:
            stored = recall(session, idempotency.username, idempotency.key,
                            idempotency.request_hash)
        if stored is None:
            raise
        return Created(int(json.loads(stored.body)["id"]), replay=stored)


@dataclass(frozen=True)
class Candidate:
    """A patient on a worklist, as the published list shows them."""

    patient_id: int
    practice_code: str
    reason: str


@dataclass(frozen=True)
class BulkResult:
    created: list[int]
    #: patients in scope who already had an open task on the worklist
    already_open: list[int]
    #: patients asked for whom the caller may not work (left out, never named)
    out_of_scope: int


def _insert_bulk(store: Store, who: tuple[str, str], worklist_id: str,
                 candidates: Sequence[Candidate], worklists: dict[str, str],
                 owner: Owner | None, priority: str,
                 due_date: dt.date | None) -> tuple[list[int], list[int], list[int]]:
    """Insert the tasks in one transaction: (task ids, patients given one, patients who
    already had an open task)."""
    now = now_utc()
    created: list[int] = []
    with store.session() as session:
        existing = _open_on_worklist(session, worklist_id, [c.patient_id for c in candidates])
        seen: set[int] = set()
        for c in candidates:
            if c.patient_id in existing or c.patient_id in seen:
                continue
            seen.add(c.patient_id)
            row = _add(session, who, patient_id=c.patient_id, practice_code=c.practice_code,
                       source="worklist", worklist_id=worklist_id, source_ref=None,
                       kind=worklist_id, reason=c.reason or worklists[worklist_id],
                       priority=priority, due_date=due_date, owner=owner, now=now)
            created.append(row.id)
    return created, sorted(seen), sorted(existing)


def create_for_worklist(store: Store, who: Principal, worklist_id: str,
                        candidates: Sequence[Candidate], *, worklists: dict[str, str],
                        owner: str | None = None, priority: str | None = None,
                        due_date: dt.date | None = None, route: str = "") -> BulkResult:
    """A task for each candidate the caller may work who has no open task on the worklist (one
    audit event naming every patient given a task). All or nothing: an owner who cannot take
    every one of them refuses the whole request."""
    _worklist_kind(worklist_id, worklists)
    chosen_priority = _priority(priority)
    chosen_owner = Owner.parse(owner)

    def select_rows(scope: PatientScope) -> tuple[BulkResult, list[int]]:
        if scope.is_empty:
            raise NotFound()
        allowed = [c for c in candidates
                   if scope.allows(c.patient_id, frozenset({c.practice_code}))]
        for practice in sorted({c.practice_code for c in allowed}):
            _check_owner(store, chosen_owner, frozenset({practice}))
        created, given, existing = _insert_bulk(
            store, (who.username, who.role.value), worklist_id, allowed, worklists,
            chosen_owner, chosen_priority, due_date)
        out_of_scope = len({c.patient_id for c in candidates}) \
            - len({c.patient_id for c in allowed})
        return BulkResult(created, existing, out_of_scope), given

    return disclose_in_scope(store, who, select_rows, Purpose.POPULATION_HEALTH,
                             Action.TRIAGE_WORK,
                             detail={"route": route, "op": "create_tasks",
                                     "worklist": worklist_id})


#: Role recorded for work done by the server's operator from the command line.
SYSTEM_ROLE = "system"


def create_for_worklist_as_operator(store: Store, operator: str, worklist_id: str,
                                    candidates: Sequence[Candidate], *,
                                    worklists: dict[str, str], owner: str | None = None,
                                    priority: str | None = None,
                                    due_date: dt.date | None = None) -> BulkResult:
    """The command line's bulk create: the server's operator (who holds the store itself)
    creates tasks for every candidate; one audit event (role ``system``) names them all. A named
    owner must be able to work each candidate's practice."""
    _worklist_kind(worklist_id, worklists)
    chosen_priority = _priority(priority)
    chosen_owner = Owner.parse(owner)
    for practice in sorted({c.practice_code for c in candidates}):
        _check_owner(store, chosen_owner, frozenset({practice}))
    created, given, existing = _insert_bulk(store, (operator, SYSTEM_ROLE), worklist_id,
                                            candidates, worklists, chosen_owner,
                                            chosen_priority, due_date)
    audit.record(store, audit.Event(
        username=operator, role=SYSTEM_ROLE, action="create_tasks", outcome="ok",
        patient_id=given[0] if len(given) == 1 else None,
        purpose=Purpose.POPULATION_HEALTH.value,
        detail={"worklist": worklist_id, "tasks": len(created), "patient_ids": given}))
    return BulkResult(created, existing, 0)


# ---- reading -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskFilter:
    status: Sequence[str] = ()
    worklist_id: str | None = None
    #: a username, a role queue, or "me"
    owner: str | None = None
    patient_id: int | None = None
    practice_code: str | None = None
    #: only tasks of the caller's own organisation (their practice, or the PCN's own queue)
    team: bool = False
    source: str | None = None


def _in_scope(scope: PatientScope) -> Any:
    practices = sorted(c for c in scope.practice_codes if c != NETWORK)
    clause: Any = Task.practice_code.in_(practices)
    if NETWORK in scope.practice_codes:
        clause = clause | Task.practice_code.is_(None)
    if scope.patient_ids:
        clause = clause | Task.patient_id.in_(sorted(scope.patient_ids))
    return clause


def list_tasks(store: Store, who: Principal, wanted: TaskFilter | None = None, *,
               limit: int = 1000, route: str = "") -> list[TaskView]:
    """Tasks the caller may work, most urgent and oldest first (one audit event naming the
    patients shown)."""
    wanted = wanted or TaskFilter()
    _check_filter(wanted)

    def select_rows(scope: PatientScope) -> tuple[list[TaskView], list[int]]:
        if scope.is_empty:
            raise NotFound()
        views = _select(store, wanted, select(Task).where(_in_scope(scope)), who.username,
                        who.practice_code, limit)
        return views, [v.patient_id for v in views if v.patient_id is not None]

    return disclose_in_scope(store, who, select_rows, Purpose.DIRECT_CARE, Action.TRIAGE_WORK,
                             detail={"route": route, "list": "tasks",
                                     "filters": {k: v for k, v in {
                                         "status": list(wanted.status),
                                         "worklist": wanted.worklist_id,
                                         "owner": wanted.owner,
                                         "team": wanted.team}.items() if v}})


def _check_filter(wanted: TaskFilter) -> None:
    for name in ("worklist_id", "owner", "practice_code", "source"):
        value = getattr(wanted, name)
        if value is not None and ("\x00" in value or len(value) > 64):
            raise TaskError(name, "must not contain a NUL character or exceed 64 characters")
    bad = [s for s in wanted.status if s not in STATUSES]
    if bad:
        raise TaskError("status", f"{bad[0]!r} is not one of {', '.join(STATUSES)}")
    if wanted.source is not None and wanted.source not in SOURCES:
        raise TaskError("source", f"{wanted.source!r} is not one of {', '.join(SOURCES)}")


def _select(store: Store, wanted: TaskFilter, query: Any, username: str,
            practice_code: str | None, limit: int) -> list[TaskView]:
    if wanted.status:
        query = query.where(Task.status.in_(list(wanted.status)))
    if wanted.worklist_id:
        query = query.where(Task.worklist_id == wanted.worklist_id)
    if wanted.patient_id is not None:
        query = query.where(Task.patient_id == wanted.patient_id)
    if wanted.practice_code:
        query = query.where(Task.practice_code == wanted.practice_code)
    if wanted.source:
        query = query.where(Task.source == wanted.source)
    if wanted.team:
        query = query.where(Task.practice_code.is_(None) if practice_code is None
                            else Task.practice_code == practice_code)
    if wanted.owner:
        owner = username if wanted.owner == "me" else wanted.owner.strip()
        query = query.where(Task.owner_role == owner if owner in OWNER_ROLES
                            else Task.owner_user == owner.lower())
    rank = {p: i for i, p in enumerate(PRIORITIES)}
    with store.read() as session:
        rows = session.scalars(query.order_by(Task.created_at, Task.id).limit(limit)).all()
        views = [view_of(r) for r in rows]
    views.sort(key=lambda v: (v.status not in OPEN_STATUSES, rank.get(v.priority, 9),
                              v.due_date or dt.date.max, v.created_at, v.id))
    return views


def list_tasks_as_operator(store: Store, operator: str, wanted: TaskFilter | None = None, *,
                           limit: int = 1000) -> list[TaskView]:
    """The command line's list: every task (the operator holds the store itself); one audit
    event (role ``system``) naming the patients listed."""
    wanted = wanted or TaskFilter()
    _check_filter(wanted)
    views = _select(store, wanted, select(Task), operator, None, limit)
    shown = sorted({v.patient_id for v in views if v.patient_id is not None})
    audit.record(store, audit.Event(
        username=operator, role=SYSTEM_ROLE, action="list_tasks", outcome="ok",
        patient_id=shown[0] if len(shown) == 1 else None, purpose=Purpose.DIRECT_CARE.value,
        detail={"tasks": len(views), "patient_ids": shown}))
    return views


def _practices(row: Task | None, practices_of: PracticesOf) -> frozenset[str]:
    if row is None:
        return frozenset()
    if row.patient_id is not None:
        now = practices_of(int(row.patient_id))
        if now:
            return now
    return frozenset({row.practice_code or NETWORK})


def authorise_task(store: Store, who: Principal, task_id: int, *, op: str,
                   practices_of: PracticesOf, route: str = "",
                   detail: dict[str, Any] | None = None) -> frozenset[str]:
    """The access decision for one task (one audit event); NotFound when denied or absent.
    Returns the practices it was decided on."""
    with store.read() as session:
        row = session.get(Task, task_id)
        practices = _practices(row, practices_of)
        patient_id = row.patient_id if row else None
    require(store, who, Action.TRIAGE_WORK, purpose=Purpose.DIRECT_CARE, patient_id=patient_id,
            patient_practices=practices, triage_request=True,
            detail={"route": route, "task_id": task_id, "op": op, **(detail or {})})
    return practices


def get_unaudited(store: Store, task_id: int) -> TaskView:
    """A task already authorised (and audited) by the caller's action."""
    with store.read() as session:
        row = session.get(Task, task_id)
        if row is None:
            raise NotFound()
        history = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id)
                                  .order_by(TaskEvent.id)).all()
        return view_of(row, history)


def get(store: Store, who: Principal, task_id: int, *, practices_of: PracticesOf,
        route: str = "") -> TaskView:
    """One task with its history (one audit event)."""
    authorise_task(store, who, task_id, op="view", practices_of=practices_of, route=route)
    return get_unaudited(store, task_id)


# ---- working one task ----------------------------------------------------------------------
@dataclass(frozen=True)
class TaskChange:
    """What a PATCH may change; ``None`` leaves a field as it is."""

    status: str | None = None
    outcome_code: str | None = None
    outcome_date: dt.date | None = None
    outcome_text: str | None = None
    notes: str | None = None
    owner: str | None = None
    priority: str | None = None
    due_date: dt.date | None = None
    #: an unsuccessful attempt to contact the patient (counted; the task is then in progress)
    contact_attempt: bool = False

    def is_empty(self) -> bool:
        return all(getattr(self, f) in (None, False) for f in self.__dataclass_fields__)


def _validate_close(row: Task, status: str, change: TaskChange, today: dt.date,
                    satisfied_by: Callable[[str], frozenset[str]]) -> dict[str, Any]:
    """The outcome fields for closing ``row`` with ``status`` (raises TaskError)."""
    code = (change.outcome_code or "").strip() or None
    known = outcomes()
    if code is not None:
        if code not in known:
            raise TaskError("outcome_code", f"{code} is not a known task outcome code (see "
                            "docs/reference/tasks.md for the list)")
        if status not in known[code].closes:
            raise TaskError("outcome_code", f"{code} ({known[code].term}) records "
                            f"{' or '.join(known[code].closes)}, not {status}")
    elif status == "done" and row.worklist_id and satisfied_by(row.worklist_id):
        raise TaskError("outcome_code", "say what was done with a coded outcome (for example "
                        "1239511000000100 Structured medication review)")
    when = change.outcome_date or today
    if when > today:
        raise TaskError("outcome_date", f"{when.isoformat()} is in the future")
    if when < row.created_at.date() - dt.timedelta(days=366):
        raise TaskError("outcome_date", "more than a year before the task was created")
    if status == "unable_to_contact" and row.attempts + int(change.contact_attempt) < 1:
        raise TaskError("status", "record at least one attempt to contact the patient first")
    return {"outcome_code": code, "outcome_term": known[code].term if code else None,
            "outcome_date": when}


def update(store: Store, who: Principal, task_id: int, change: TaskChange, *,
           practices_of: PracticesOf, today: dt.date | None = None,
           satisfied_by: Callable[[str], frozenset[str]] = lambda _w: frozenset(),
           route: str = "") -> TaskView:
    """Work one task: move its status, record an attempt, an outcome, notes, a new owner
    (one audit event, one history entry). ``today``: the date work is recorded on (defaults to
    today's date). ``satisfied_by``: worklist id → codelists that take a patient off it."""
    if change.is_empty():
        raise TaskError("body", "nothing to change")
    if change.status is not None and change.status not in STATUSES:
        raise TaskError("status", f"{change.status!r} is not one of {', '.join(STATUSES)}")
    if change.priority is not None:
        _priority(change.priority)
    notes = _text("notes", change.notes)
    outcome_text = _text("outcome_text", change.outcome_text)
    owner = Owner.parse(change.owner) if change.owner is not None else None
    if change.outcome_code is not None and change.status not in CLOSED_STATUSES:
        raise TaskError("outcome_code", "an outcome is recorded when the task is closed: give "
                        "status done, declined, not_appropriate or unable_to_contact")
    practices = authorise_task(store, who, task_id, op="update", practices_of=practices_of,
                               route=route, detail={"status": change.status})
    _check_owner(store, owner, practices)
    today = today or dt.date.today()
    now = now_utc()
    with store.session() as session:
        query = select(Task).where(Task.id == task_id)
        if store.dialect == "postgresql":
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:  # pragma: no cover - authorised above; tasks are never deleted
            raise NotFound()
        if row.status in CLOSED_STATUSES:
            raise TaskConflict(f"task {task_id} is closed ({row.status})")
        changes: dict[str, Any] = {}
        action = "updated"
        if change.contact_attempt:
            row.attempts += 1
            changes["attempts"] = row.attempts
            action = "attempt"
            if change.status is None and row.status == "open":
                row.status = "in_progress"
                changes["status"] = "in_progress"
        if change.status is not None and change.status != row.status:
            if change.status not in TRANSITIONS[row.status]:
                raise TaskConflict(f"task {task_id} is {row.status}; it cannot become "
                                   f"{change.status}")
            if change.status in CLOSED_STATUSES and row.source == "triage_request":
                raise TaskConflict(f"task {task_id} is an online request: close it from the "
                                   "triage queue, after a clinician has reviewed it")
            if change.status in CLOSED_STATUSES:
                fields = _validate_close(row, change.status, change, today, satisfied_by)
                row.outcome_code = fields["outcome_code"]
                row.outcome_term = fields["outcome_term"]
                row.outcome_date = fields["outcome_date"]
                row.outcome_text = outcome_text
                row.closed_at = now
                changes.update({"outcome_code": row.outcome_code,
                                "outcome_date": row.outcome_date.isoformat()})
                action = "closed"
            elif action != "attempt":
                action = "started" if change.status == "in_progress" else "reopened"
            changes["from"] = row.status
            row.status = change.status
            changes["status"] = row.status
        if owner is not None:
            row.owner_user, row.owner_role = owner.user, owner.role
            changes["owner"] = owner.user or owner.role
            if action == "updated":
                action = "assigned"
        if change.priority is not None:
            row.priority = change.priority
            changes["priority"] = change.priority
        if change.due_date is not None:
            row.due_date = change.due_date
            changes["due_date"] = change.due_date.isoformat()
        if notes is not None:
            row.notes = notes
            changes["notes"] = True
        row.updated_at = now
        session.add(TaskEvent(task_id=row.id, occurred_at=now, username=who.username,
                              role=who.role.value, action=action, reason=notes,
                              detail=changes))
    return get_unaudited(store, task_id)


def latest_on_worklist(store: Store, worklist_id: str,
                       patient_ids: Iterable[int]) -> dict[int, TaskView]:
    """Each patient's task on a worklist: the open one, else the most recently closed. Not
    audited on its own: only for lists whose own disclosure is audited (the worklist page)."""
    ids = sorted({int(p) for p in patient_ids})
    found: dict[int, TaskView] = {}
    with store.read() as session:
        for start in range(0, len(ids), 500):
            rows = session.scalars(select(Task).where(
                Task.worklist_id == worklist_id, Task.patient_id.in_(ids[start:start + 500]))
                .order_by(Task.id)).all()
            for row in rows:
                view = view_of(row)
                pid = int(row.patient_id) if row.patient_id is not None else -1
                held = found.get(pid)
                if held is None or view.is_open or not held.is_open:
                    found[pid] = view
    return found


def open_tasks_of(store: Store, patient_id: int) -> list[TaskView]:
    """A patient's tasks, open first (for a page whose ``view_patient`` check is audited)."""
    with store.read() as session:
        rows = session.scalars(select(Task).where(Task.patient_id == patient_id)
                               .order_by(Task.id.desc())).all()
        views = [view_of(r) for r in rows]
    return sorted(views, key=lambda v: (not v.is_open, -v.id))


def worklist_task_rows(store: Store, worklist_id: str) -> list[dict[str, Any]]:
    """Every task of one worklist as plain rows, for aggregate figures (the funnel); the page
    showing them is audited as an aggregate view."""
    with store.read() as session:
        rows = session.execute(select(
            Task.patient_id, Task.practice_code, Task.worklist_id, Task.status, Task.attempts,
            Task.created_at, Task.closed_at).where(Task.worklist_id == worklist_id)).all()
    return [dict(r._mapping) for r in rows]
