"""Online consultation requests: submit (triage, store, answer), the staff queue, and the staff
actions on one request (accept, override, assign, close). The web form, the JSON API and the pages
are thin edges over these functions (ADR 0080).

Access and audit go through :mod:`pcn.access.guard` only: submitting needs
``submit_triage_request`` (the public form is audited as ``public``/``patient``); the queue is
``triage_work`` as a list limited by ``scope_patients``; every action on one request is
``triage_work`` decided on the practice the request was sent to (``NETWORK`` when unallocated).
Each call writes exactly one audit event, allowed or denied; a denial raises
:class:`~pcn.access.guard.NotFound`, exactly like a request id that does not exist.

The request row (and, with an ``Idempotency-Key``, the remembered response) commit in one
transaction before the caller answers, so an acknowledged request is never lost and a retry never
creates a second row.

Each request is worked as a task of the one work model (:mod:`pcn.tasks`, ADR 0110): the
request row keeps what was sent, what the engine decided and the clinician's review; its task
keeps who works it, what was done and the history of every action.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from pcn.access.guard import NotFound, could_work, disclose_in_scope, require
from pcn.access.policy import NETWORK, Action, PatientScope, Principal, Purpose
from pcn.record.nhs_number import is_valid
from pcn.store import audit
from pcn.store.accounts import PRACTICE_PATTERN
from pcn.store.database import Store, now_utc
from pcn.store.idempotency import StoredResponse, recall, remember
from pcn.store.models import Task, TaskEvent, TriageCapacity, TriageRequestRow
from pcn.tasks.service import TaskHistory, history_of
from pcn.tasks.vocabulary import OWNER_ROLES, PRIORITY_OF_URGENCY
from pcn.triage.engine import TriageEngine, default_engine
from pcn.triage.model import Decision, Route, TriageRequest, Urgency
from pcn.triage.patients import PatientDirectory

#: Longest message accepted (the form says so; a longer one is refused, never cut).
MAX_TEXT = 5000
#: A clinician's reason for overriding must say something a reviewer can check.
MIN_REASON = 10
MAX_OUTCOME = 2000
SOURCES = ("web_form", "api")
STATUSES = ("new", "accepted", "overridden", "assigned", "closed")
OPEN_STATUSES = ("new", "accepted", "overridden", "assigned")
URGENCY_ORDER = ("emergency", "urgent", "routine", "self_care")
#: Roles a request can be assigned to (the professions a request can be routed to in-house).
ASSIGNABLE_ROLES = OWNER_ROLES
#: The one answer for every assignee who cannot take a request: unknown, disabled, not working
#: the triage queue (an admin, an analyst) or of another practice. The same words whatever the
#: reason, so the form never confirms that a username exists (issue 16).
ASSIGNEE_REFUSED = ("name a clinician who works this practice's triage queue (an active "
                    "account of the request's practice)")
#: Audit identity of requests sent through the public form (no account).
PUBLIC_USER, PUBLIC_ROLE = "public", "patient"
#: Notes about the patient's record are for staff; a submitter sees only what the words decided.
RECORD_NOTE_PREFIXES = ("continuity:", "capacity:")


class RequestError(ValueError):
    """Bad input to a request or an action: names the field and why (HTTP 422).

    ``authorised``: found after the action's access check (and its audit event), e.g. an
    assignee who cannot take this request; otherwise found before any access decision."""

    def __init__(self, field: str, problem: str, *, authorised: bool = False) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem, self.authorised = field, problem, authorised


class StateConflict(ValueError):
    """The action does not fit the request's state, e.g. closing a closed request (HTTP 409)."""


# ---- what comes in -------------------------------------------------------------------------
class NewRequest(BaseModel):
    """An online consultation request as sent by a patient, someone for them, or a system."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    age: float = Field(ge=0, le=130, description="Age in years of the person the request is "
                       "about (0.5 for six months).")
    sex: str = Field(pattern="^[FM]$", description="F or M.")
    text: str = Field(min_length=1, max_length=MAX_TEXT,
                      description="The request in the patient's own words.")
    practice_code: str | None = Field(None, pattern=r"^[A-Z][0-9A-Z]{4,5}$",
                                      description="ODS code of the practice it is for.")
    nhs_number: str | None = Field(None, description="10 digits, valid check digit.")
    name: str | None = Field(None, max_length=200)
    date_of_birth: dt.date | None = None
    patient_id: int | None = Field(None, ge=0, le=2**63 - 1,
                                   description="The record's patient id, when a practice "
                                   "system already knows it.")

    @field_validator("text", "name", "nhs_number", "practice_code")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL cannot store NUL in text; refuse it here rather than fail at the database.
        if value is not None and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        number = value.replace(" ", "")
        if not is_valid(number):
            raise ValueError("not a valid NHS number (10 digits with a correct check digit)")
        return number

    @field_validator("practice_code", mode="before")
    @classmethod
    def _practice(cls, value: Any) -> Any:
        return (value.strip().upper() or None) if isinstance(value, str) else value

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("date_of_birth")
    @classmethod
    def _not_future(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value > dt.date.today():
            raise ValueError("date of birth is in the future")
        return value


@dataclass(frozen=True)
class RequestView:
    """One stored request as staff see it."""

    id: int
    received_at: dt.datetime
    source: str
    submitted_by: str | None
    given_name: str | None
    given_date_of_birth: dt.date | None
    given_nhs_number: str | None
    patient_id: int | None
    practice_code: str | None
    age: float
    sex: str
    text: str
    urgency: str
    route: str
    red_flags: list[str]
    decided_by: str
    explanation: str
    advice: str
    usual_clinician_id: str | None
    engine_version: str
    status: str
    final_urgency: str | None
    final_route: str | None
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    assigned_user: str | None
    assigned_role: str | None
    outcome: str | None
    closed_at: dt.datetime | None
    updated_at: dt.datetime
    history: list[TaskHistory] = field(default_factory=list)

    @property
    def effective_urgency(self) -> str:
        return self.final_urgency or self.urgency

    @property
    def effective_route(self) -> str:
        return self.final_route or self.route

    def waiting(self, now: dt.datetime | None = None) -> dt.timedelta:
        return ((self.closed_at or now or now_utc()) - self.received_at)


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission: the stored request's id and the answer for the submitter."""

    id: int
    urgency: str
    route: str
    red_flags: list[str]
    advice: str
    explanation: str
    received_at: dt.datetime
    #: the first answer, when this was a retry with the same ``Idempotency-Key``
    replay: StoredResponse | None = None
    #: crisis lines or safeguarding help the submitter is shown at once ("crisis",
    #: "safeguarding")
    signpost: str | None = None
    #: False when no known pattern explained the request safely (a clinician looks today)
    confident: bool = True

    @property
    def emergency(self) -> bool:
        return self.urgency == Urgency.emergency.value

    def response_body(self) -> dict[str, Any]:
        return {"id": self.id, "status": "new", "urgency": self.urgency, "route": self.route,
                "red_flags": self.red_flags, "advice": self.advice,
                "explanation": self.explanation, "signpost": self.signpost,
                "confidently_classified": self.confident,
                "received_at": self.received_at.isoformat()}


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` and the hash of the request it came with."""

    username: str
    key: str
    request_hash: str


# ---- the engine and what the record knows ------------------------------------------------------
@lru_cache(maxsize=1)
def engine_version() -> str:
    """``pcn`` version plus a digest of the rules and training data that made the decision."""
    import pcn
    from pcn.triage.definitions import definition_files, definitions_dir
    from pcn.triage.learned import corpus_path

    digest = hashlib.sha256()
    root = definitions_dir()
    for path in definition_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(b"training\0" + corpus_path().read_bytes())
    return f"{pcn.__version__}+{digest.hexdigest()[:12]}"


def capacity_today(store: Store, practice_code: str | None,
                   today: dt.date | None = None) -> dict[Route, int] | None:
    """Free slots by role today at a practice: declared slots less today's requests already
    routed there. ``None`` when the practice declared nothing today (capacity not considered)."""
    if practice_code is None:
        return None
    today = today or now_utc().date()
    with store.read() as session:
        declared = {r.role: r.free_slots for r in session.scalars(
            select(TriageCapacity).where(TriageCapacity.practice_code == practice_code,
                                         TriageCapacity.on_date == today))}
        if not declared:
            return None
        start = dt.datetime.combine(today, dt.time())
        used = dict(session.execute(
            select(func.coalesce(TriageRequestRow.final_route, TriageRequestRow.route),
                   func.count())
            .where(TriageRequestRow.practice_code == practice_code,
                   TriageRequestRow.received_at >= start,
                   TriageRequestRow.received_at < start + dt.timedelta(days=1),
                   TriageRequestRow.status != "closed")
            .group_by(func.coalesce(TriageRequestRow.final_route, TriageRequestRow.route))).all())
    return {Route(role): max(0, slots - int(used.get(role, 0)))
            for role, slots in declared.items() if role in Route.__members__}


def set_capacity(store: Store, practice_code: str, role: str, free_slots: int,
                 on_date: dt.date, updated_by: str) -> None:
    """Declare a practice's free slots for a role on a day (replaces an earlier figure)."""
    if not PRACTICE_PATTERN.match(practice_code):
        raise RequestError("practice_code", f"{practice_code!r} is not an ODS practice code")
    if role not in ASSIGNABLE_ROLES:
        raise RequestError("role", f"{role!r} is not one of {', '.join(ASSIGNABLE_ROLES)}")
    if free_slots < 0:
        raise RequestError("free_slots", "cannot be negative")
    with store.session() as session:
        row = session.scalar(select(TriageCapacity).where(
            TriageCapacity.practice_code == practice_code, TriageCapacity.on_date == on_date,
            TriageCapacity.role == role))
        if row is None:
            row = TriageCapacity(practice_code=practice_code, on_date=on_date, role=role)
            session.add(row)
        row.free_slots, row.updated_by, row.updated_at = free_slots, updated_by, now_utc()


# ---- submitting ------------------------------------------------------------------------------
def submit(store: Store, new: NewRequest, *, source: str, who: Principal | None = None,
           directory: PatientDirectory | None = None,
           practices: Iterable[str] | None = None, idempotency: Idempotency | None = None,
           respond: Callable[[Submitted], str] | None = None,
           engine: TriageEngine | None = None, route: str = "") -> Submitted:
    """Triage a request, store it and return the answer for the submitter (one audit event).

    ``who`` None is the public form (no account). ``practices``: the network's practice codes
    (a request for another practice is refused). With ``idempotency`` a retry returns the first
    answer (``Submitted.replay``) and stores nothing; ``respond`` renders the answer that is kept
    for retries, committed with the row.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    # The practice named is checked against the network before anything is looked up, so the
    # answer is the same whether or not the NHS number or id is in the record (issue 16).
    allowed = frozenset(practices) if practices is not None else None
    if new.practice_code is not None and allowed is not None \
            and new.practice_code not in allowed:
        raise RequestError("practice_code", f"{new.practice_code} is not a practice of this "
                           "network")
    known = None
    if directory is not None and (new.nhs_number or new.patient_id is not None):
        known = directory.match(nhs_number=new.nhs_number, patient_id=new.patient_id)
    # An unknown NHS number or patient id is simply not matched: the answer never says whether
    # someone is in the record (ADR 0051).
    practice = new.practice_code
    if known is not None and new.practice_code not in known.practices:
        # The record says where the patient is registered: that practice owns the request
        # (staff see it there; the submitter is told nothing about it).
        registered = sorted(c for c in known.practices if allowed is None or c in allowed)
        if registered:
            practice = registered[0]

    detail = {"route": route, "source": source}
    if who is not None:
        require(store, who, Action.SUBMIT_TRIAGE_REQUEST, purpose=Purpose.DIRECT_CARE,
                patient_id=known.patient_id if known else None,
                detail={**detail, "idempotency_key": bool(idempotency)})
    if idempotency is not None:
        with store.read() as session:
            stored = recall(session, idempotency.username, idempotency.key,
                            idempotency.request_hash)
        if stored is not None:
            return _replayed(stored)

    context = directory.context(known.patient_id) if known is not None and directory else None
    capacity = capacity_today(store, practice)
    triage_engine = engine or default_engine()
    # Staff decide with what the record knows (continuity, frailty, housebound, pregnancy) and
    # today's capacity; the submitter is answered from their own words only, so the answer
    # cannot reveal anything about whoever the NHS number or id names (ADR 0081).
    decision = triage_engine.triage(TriageRequest(
        text=new.text, age=new.age, sex=new.sex, context=context, capacity=capacity))
    told = decision if context is None and capacity is None else triage_engine.triage(
        TriageRequest(text=new.text, age=new.age, sex=new.sex))
    now = now_utc()
    try:
        with store.session() as session:
            task = _new_task(decision, practice=practice,
                             patient_id=known.patient_id if known else None,
                             submitted_by=who.username if who else PUBLIC_USER, now=now)
            session.add(task)
            session.flush()
            row = _new_row(new, decision, source=source, practice=practice,
                           patient_id=known.patient_id if known else None,
                           submitted_by=who.username if who else None, now=now,
                           task_id=task.id)
            session.add(row)
            session.flush()
            task.source_ref = str(row.id)
            session.add(TaskEvent(
                task_id=task.id, occurred_at=now,
                username=who.username if who else PUBLIC_USER,
                role=who.role.value if who else PUBLIC_ROLE, action="received", reason=None,
                detail={"urgency": row.urgency, "route": row.route, "source": source,
                        "told_submitter": {"urgency": told.urgency.value,
                                           "route": told.route.value,
                                           "red_flags": list(told.red_flags),
                                           "advice": told.advice,
                                           "signpost": told.signpost,
                                           "confident": told.confident}}))
            answer = Submitted(row.id, told.urgency.value, told.route.value,
                               list(told.red_flags), told.advice,
                               _submitter_explanation(told), row.received_at,
                               signpost=told.signpost, confident=told.confident)
            if idempotency is not None:
                body = respond(answer) if respond else json.dumps(answer.response_body())
                remember(session, idempotency.username, idempotency.key,
                         idempotency.request_hash, 201, body)
    except IntegrityError:
        if idempotency is None:
            raise
        # A concurrent retry with the same key committed first: answer what it answered.
        with store.read() as session:
            stored = recall(session, idempotency.username, idempotency.key,
                            idempotency.request_hash)
        if stored is None:
            raise
        return _replayed(stored)
    if who is None:
        audit.record(store, audit.Event(
            username=PUBLIC_USER, role=PUBLIC_ROLE, action=Action.SUBMIT_TRIAGE_REQUEST.value,
            outcome="ok", practice_code=practice,
            patient_id=known.patient_id if known else None, purpose=Purpose.DIRECT_CARE.value,
            detail={**detail, "request_id": answer.id}))
    return answer


def _replayed(stored: StoredResponse) -> Submitted:
    body = json.loads(stored.body)
    return Submitted(int(body["id"]), body["urgency"], body["route"], body["red_flags"],
                     body["advice"], body["explanation"],
                     dt.datetime.fromisoformat(body["received_at"]), replay=stored,
                     signpost=body.get("signpost"),
                     confident=bool(body.get("confidently_classified", True)))


def _submitter_explanation(decision: Decision) -> str:
    """The explanation without notes about the record or capacity (a decision made without
    them has none; kept as a second guard)."""
    public = decision.model_copy(update={"notes": [
        n for n in decision.notes if not n.startswith(RECORD_NOTE_PREFIXES)]})
    return public.explanation


def _new_task(decision: Decision, *, practice: str | None, patient_id: int | None,
              submitted_by: str, now: dt.datetime) -> Task:
    urgency, route = decision.urgency.value, decision.route.value
    return Task(patient_id=patient_id, practice_code=practice, source="triage_request",
                worklist_id=None, source_ref=None, kind="online_consultation",
                reason=f"Online consultation request ({urgency}, {route})",
                priority=PRIORITY_OF_URGENCY.get(urgency, "routine"), status="open",
                attempts=0, created_by=submitted_by, created_at=now, updated_at=now)


def _new_row(new: NewRequest, decision: Decision, *, source: str, practice: str | None,
             patient_id: int | None, submitted_by: str | None,
             now: dt.datetime, task_id: int) -> TriageRequestRow:
    return TriageRequestRow(
        received_at=now, source=source, submitted_by=submitted_by, given_name=new.name,
        given_date_of_birth=new.date_of_birth, given_nhs_number=new.nhs_number,
        patient_id=patient_id, practice_code=practice, age=new.age, sex=new.sex, text=new.text,
        urgency=decision.urgency.value, route=decision.route.value,
        red_flags=list(decision.red_flags), decided_by=decision.decided_by,
        explanation=decision.explanation, advice=decision.advice,
        usual_clinician_id=decision.usual_clinician_id, engine_version=engine_version(),
        status="new", updated_at=now, task_id=task_id)


# ---- staff: the queue and one request --------------------------------------------------------
def _view(row: TriageRequestRow, task: Task,
          history: list[TaskEvent] | None = None) -> RequestView:
    return RequestView(
        id=row.id, received_at=row.received_at, source=row.source,
        submitted_by=row.submitted_by, given_name=row.given_name,
        given_date_of_birth=row.given_date_of_birth, given_nhs_number=row.given_nhs_number,
        patient_id=row.patient_id, practice_code=row.practice_code, age=row.age, sex=row.sex,
        text=row.text, urgency=row.urgency, route=row.route, red_flags=list(row.red_flags),
        decided_by=row.decided_by, explanation=row.explanation, advice=row.advice,
        usual_clinician_id=row.usual_clinician_id, engine_version=row.engine_version,
        status=row.status, final_urgency=row.final_urgency, final_route=row.final_route,
        reviewed_by=row.reviewed_by, reviewed_at=row.reviewed_at,
        assigned_user=task.owner_user, assigned_role=task.owner_role,
        outcome=task.outcome_text, closed_at=task.closed_at, updated_at=row.updated_at,
        history=history_of(history or []))


def _urgency_rank() -> Any:
    effective = func.coalesce(TriageRequestRow.final_urgency, TriageRequestRow.urgency)
    return case({u: i for i, u in enumerate(URGENCY_ORDER)}, value=effective,
                else_=len(URGENCY_ORDER))


def queue(store: Store, who: Principal, *, statuses: Iterable[str] = OPEN_STATUSES,
          limit: int = 500, route: str = "") -> list[RequestView]:
    """Requests this user may work, most urgent first, then longest waiting (one audit event).

    A role without ``triage_work`` gets :class:`NotFound` (the page does not exist for them)."""
    wanted = [s for s in statuses if s in STATUSES]

    def shown_requests(scope: PatientScope) -> tuple[list[RequestView], list[int]]:
        if scope.is_empty:
            raise NotFound()
        practices = sorted(c for c in scope.practice_codes if c != NETWORK)
        in_scope: Any = TriageRequestRow.practice_code.in_(practices)
        if NETWORK in scope.practice_codes:  # unallocated requests are the network's
            in_scope = in_scope | TriageRequestRow.practice_code.is_(None)
        with store.read() as session:
            rows = session.execute(
                select(TriageRequestRow, Task).join(Task, Task.id == TriageRequestRow.task_id)
                .where(in_scope, TriageRequestRow.status.in_(wanted))
                .order_by(_urgency_rank(), TriageRequestRow.received_at, TriageRequestRow.id)
                .limit(limit)).all()
            views = [_view(r, t) for r, t in rows]
        return views, [v.patient_id for v in views if v.patient_id is not None]

    # One event naming every matched patient whose request the queue shows.
    return disclose_in_scope(store, who, shown_requests, Purpose.DIRECT_CARE, Action.TRIAGE_WORK,
                             detail={"route": route, "list": "triage_queue",
                                     "statuses": wanted})


def _practices_of(row: TriageRequestRow | None) -> frozenset[str]:
    if row is None:
        return frozenset()
    return frozenset({row.practice_code or NETWORK})


def _authorise(store: Store, who: Principal, request_id: int, action: str, route: str,
               detail: dict[str, Any]) -> None:
    """The access decision for one request (one audit event); NotFound when denied or absent."""
    with store.read() as session:
        row = session.get(TriageRequestRow, request_id)
        practices, patient_id = _practices_of(row), row.patient_id if row else None
    require(store, who, Action.TRIAGE_WORK, purpose=Purpose.DIRECT_CARE, patient_id=patient_id,
            patient_practices=practices, triage_request=True,
            detail={"route": route, "request_id": request_id, "op": action, **detail})


def get(store: Store, who: Principal, request_id: int, *, route: str = "") -> RequestView:
    """One request with its history (one audit event); NotFound when denied or absent."""
    _authorise(store, who, request_id, "view", route, {})
    with store.read() as session:
        row = session.get(TriageRequestRow, request_id)
        if row is None:  # pragma: no cover - the policy refuses a request that does not exist
            raise NotFound()
        return _with_history(session, row)


def _with_history(session: Any, row: TriageRequestRow) -> RequestView:
    task = session.get(Task, row.task_id)
    history = session.scalars(select(TaskEvent).where(TaskEvent.task_id == row.task_id)
                              .order_by(TaskEvent.id)).all()
    return _view(row, task, list(history))


def _plain_text(field: str, value: str | None) -> str:
    text = (value or "").strip()
    if "\x00" in text:
        raise RequestError(field, "must not contain a NUL character")
    return text


def _reason(reason: str | None, required: bool) -> str | None:
    text = _plain_text("reason", reason)
    if required and len(text) < MIN_REASON:
        raise RequestError("reason", f"give the reason (at least {MIN_REASON} characters)")
    if len(text) > MAX_OUTCOME:
        raise RequestError("reason", f"at most {MAX_OUTCOME} characters")
    return text or None


def _act(store: Store, who: Principal, request_id: int, action: str, *, route: str,
         reason: str | None, detail: dict[str, Any],
         apply: Callable[[TriageRequestRow, Task, dt.datetime], None]) -> RequestView:
    _authorise(store, who, request_id, action, route, {**detail, "reason": reason})
    now = now_utc()
    with store.session() as session:
        query = select(TriageRequestRow).where(TriageRequestRow.id == request_id)
        if store.dialect == "postgresql":
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:  # pragma: no cover - authorised above, rows are never deleted
            raise NotFound()
        if row.status == "closed":
            raise StateConflict(f"request {request_id} is closed")
        task = session.get(Task, row.task_id, with_for_update=store.dialect == "postgresql")
        assert task is not None
        apply(row, task, now)
        row.updated_at = task.updated_at = now
        session.add(TaskEvent(task_id=task.id, occurred_at=now, username=who.username,
                              role=who.role.value, action=action, reason=reason,
                              detail=detail))
    return get_unaudited(store, request_id)


def get_unaudited(store: Store, request_id: int) -> RequestView:
    """The request just changed by an audited action (no second event for the same action)."""
    with store.read() as session:
        row = session.get(TriageRequestRow, request_id)
        assert row is not None
        return _with_history(session, row)


def accept(store: Store, who: Principal, request_id: int, *, reason: str | None = None,
           route: str = "") -> RequestView:
    """A clinician agrees with the engine's urgency and route."""
    note = _reason(reason, required=False)

    def apply(row: TriageRequestRow, task: Task, now: dt.datetime) -> None:
        row.final_urgency, row.final_route = row.urgency, row.route
        row.reviewed_by, row.reviewed_at, row.status = who.username, now, "accepted"

    return _act(store, who, request_id, "accept", route=route, reason=note, detail={},
                apply=apply)


def override(store: Store, who: Principal, request_id: int, *, urgency: str, route_to: str,
             reason: str, route: str = "") -> RequestView:
    """A clinician changes urgency and/or route; the reason is mandatory and audited."""
    if urgency not in URGENCY_ORDER:
        raise RequestError("urgency", f"{urgency!r} is not one of {', '.join(URGENCY_ORDER)}")
    if route_to not in Route.__members__:
        raise RequestError("route", f"{route_to!r} is not a triage route")
    note = _reason(reason, required=True)
    changes: dict[str, Any] = {"urgency": urgency, "route": route_to}

    def apply(row: TriageRequestRow, task: Task, now: dt.datetime) -> None:
        task.priority = PRIORITY_OF_URGENCY.get(urgency, task.priority)
        changes["from"] = {"urgency": row.final_urgency or row.urgency,
                           "route": row.final_route or row.route}
        row.final_urgency, row.final_route = urgency, route_to
        row.reviewed_by, row.reviewed_at, row.status = who.username, now, "overridden"

    return _act(store, who, request_id, "override", route=route, reason=note, detail=changes,
                apply=apply)


def assign(store: Store, who: Principal, request_id: int, *, user: str | None = None,
           role: str | None = None, reason: str | None = None,
           route: str = "") -> RequestView:
    """Give the request to a named person and/or a role."""
    user = _plain_text("user", user).lower() or None
    role = _plain_text("role", role) or None
    if user is None and role is None:
        raise RequestError("assignee", "name a user, a role, or both")
    if role is not None and role not in ASSIGNABLE_ROLES:
        raise RequestError("role", f"{role!r} is not one of {', '.join(ASSIGNABLE_ROLES)}")
    if user is not None and len(user) > 64:
        raise RequestError("user", ASSIGNEE_REFUSED)
    note = _reason(reason, required=False)

    def apply(row: TriageRequestRow, task: Task, now: dt.datetime) -> None:
        # Decided after the caller's own access check, on the request's practice: who may be
        # given it is who the access policy would let work it themselves (ADR 0081).
        if user is not None and not could_work(store, user, _practices_of(row)):
            raise RequestError("user", ASSIGNEE_REFUSED, authorised=True)
        task.owner_user, task.owner_role, row.status = user, role, "assigned"

    return _act(store, who, request_id, "assign", route=route, reason=note,
                detail={"user": user, "role": role}, apply=apply)


def close(store: Store, who: Principal, request_id: int, *, outcome: str,
          route: str = "") -> RequestView:
    """Close with what was done. The decision must have been reviewed (accepted or overridden)."""
    text = _plain_text("outcome", outcome)
    if not text:
        raise RequestError("outcome", "say what was done (for example 'seen by ANP, antibiotics')")
    if len(text) > MAX_OUTCOME:
        raise RequestError("outcome", f"at most {MAX_OUTCOME} characters")

    def apply(row: TriageRequestRow, task: Task, now: dt.datetime) -> None:
        if row.final_urgency is None:
            raise StateConflict(f"request {request_id}: accept or override the decision before "
                                 "closing it")
        task.outcome_text, task.closed_at, task.status = text, now, "done"
        row.status = "closed"

    return _act(store, who, request_id, "close", route=route, reason=None,
                detail={"outcome": text}, apply=apply)
