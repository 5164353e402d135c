"""Tables of the operational store (SQLAlchemy 2 declarative models).

The schema itself is created by the Alembic migrations in ``pcn/store/migrations`` (hand-written,
reviewed); a test checks that these models and the migrated schema agree. Timestamps are naive UTC
(``*_at`` columns); dates are calendar dates (``valid_from``/``valid_to``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    practice_code: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class ApiToken(Base):
    """A bearer token: ``pcn_<selector>_<secret>``; only the secret's SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    selector: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    #: None only for tokens issued before expiry existed (revision 0090)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in browser session; the cookie names ``sid``. Signing out sets ``ended_at``, so
    a copied cookie stops working too."""

    __tablename__ = "web_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SharingAgreement(Base):
    __tablename__ = "sharing_agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200))
    from_practices: Mapped[list[str]] = mapped_column(JSON)
    to_orgs: Mapped[list[str]] = mapped_column(JSON)
    data_scope: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class BreakGlassGrant(Base):
    __tablename__ = "break_glass_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, index=True)
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    review_outcome: Mapped[str | None] = mapped_column(String(32))
    review_note: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    """One row of the append-only, hash-chained audit trail (the database refuses edits)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    practice_code: Mapped[str | None] = mapped_column(String(16))
    patient_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """Single row (id 1): the last sequence number and hash; locked to append in order."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(Base):
    """A remembered response to a POST carrying an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("username", "key", name="uq_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class TriageRequestRow(Base):
    """One online consultation request: what was sent, what the engine decided, what staff did.

    ``practice_code`` NULL means unallocated (worked by PCN staff, ADR 0080). ``final_*`` are set
    when a clinician accepts or overrides the engine's decision. ``status`` is the request's
    review stage (new, accepted, overridden, assigned, closed); who works it, what was done and
    its history are on its :class:`Task` (one work model, ADR 0110).
    """

    __tablename__ = "triage_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(16))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    given_name: Mapped[str | None] = mapped_column(String(200))
    given_date_of_birth: Mapped[dt.date | None] = mapped_column(Date)
    given_nhs_number: Mapped[str | None] = mapped_column(String(10))
    patient_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    practice_code: Mapped[str | None] = mapped_column(String(16), index=True)
    age: Mapped[float] = mapped_column(Float)
    sex: Mapped[str] = mapped_column(String(1))
    text: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(16))
    route: Mapped[str] = mapped_column(String(32))
    red_flags: Mapped[list[str]] = mapped_column(JSON)
    decided_by: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text)
    advice: Mapped[str] = mapped_column(Text)
    usual_clinician_id: Mapped[str | None] = mapped_column(String(64))
    engine_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    final_urgency: Mapped[str | None] = mapped_column(String(16))
    final_route: Mapped[str | None] = mapped_column(String(32))
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    #: The task that carries the work on this request: owner, outcome, history (ADR 0110).
    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", name="fk_triage_requests_task_id"), index=True, unique=True)


class TriageCapacity(Base):
    """Free appointment slots a practice declares for one role on one day (capacity routing)."""

    __tablename__ = "triage_capacity"
    __table_args__ = (UniqueConstraint("practice_code", "on_date", "role",
                                       name="uq_triage_capacity_practice_day_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    practice_code: Mapped[str] = mapped_column(String(16))
    on_date: Mapped[dt.date] = mapped_column(Date)
    role: Mapped[str] = mapped_column(String(32))
    free_slots: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class RotaException(Base):
    """A stretch of days someone is away from their rota pattern (leave, training, sickness),
    recorded by the PCN; the register itself comes from the record (ADR 0140)."""

    __tablename__ = "rota_exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clinician_id: Mapped[str] = mapped_column(String(64), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Task(Base):
    """One piece of work about a patient (or an unmatched request): the one work model (ADR 0110).

    ``source`` says where it came from (``worklist``, ``triage_request``, ``care_plan``, ``mdt``,
    ``manual``); ``practice_code`` NULL means the network's own queue. Status moves
    ``open → in_progress → done | declined | not_appropriate | unable_to_contact``; a closing
    outcome may carry a SNOMED code, which :mod:`pcn.tasks.writeback` writes into the record.
    """

    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    practice_code: Mapped[str | None] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(32))
    worklist_id: Mapped[str | None] = mapped_column(String(64), index=True)
    source_ref: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    owner_user: Mapped[str | None] = mapped_column(String(64), index=True)
    owner_role: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    outcome_code: Mapped[str | None] = mapped_column(String(20))
    outcome_term: Mapped[str | None] = mapped_column(String(300))
    outcome_date: Mapped[dt.date | None] = mapped_column(Date)
    outcome_text: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class TaskEvent(Base):
    """The history of one task: created, assigned, started, attempt, closed, note (and the
    triage actions on a request: received, accept, override)."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class CarePlanRow(Base):
    """One version of a patient's personalised care and support plan (issue 17). Editing a plan
    adds a version and marks the previous one ``superseded``; nothing is overwritten. Agreed
    actions become tasks (source ``care_plan``); ``actions`` keeps each one's task id."""

    __tablename__ = "care_plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, index=True)
    practice_code: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    what_matters: Mapped[str] = mapped_column(Text)
    goals: Mapped[list[str]] = mapped_column(JSON)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    coordinator: Mapped[str | None] = mapped_column(String(200))
    review_date: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class MdtMeeting(Base):
    """A multidisciplinary team meeting with a patient list drawn from worklists."""

    __tablename__ = "mdt_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[dt.date] = mapped_column(Date)
    practice_code: Mapped[str | None] = mapped_column(String(16))
    worklists: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class MdtPatient(Base):
    """One patient on a meeting's list, and what the meeting decided about them."""

    __tablename__ = "mdt_patients"
    __table_args__ = (UniqueConstraint("meeting_id", "patient_id",
                                       name="uq_mdt_patients_meeting_patient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("mdt_meetings.id"), index=True)
    patient_id: Mapped[int] = mapped_column(BigInteger)
    practice_code: Mapped[str] = mapped_column(String(16))
    worklist_id: Mapped[str | None] = mapped_column(String(64))
    discussion: Mapped[str | None] = mapped_column(Text)
    discussed_by: Mapped[str | None] = mapped_column(String(64))
    discussed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class MonitoringReading(Base):
    """One home reading (issue 22, ADR 0150): blood pressure (``bp``: systolic/diastolic and
    pulse), ``weight`` (kg) or ``spo2`` (%). ``taken_at`` is the local (UK) time the patient took
    it (two readings may share a moment)."""

    __tablename__ = "monitoring_readings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime)
    systolic: Mapped[float | None] = mapped_column(Float)
    diastolic: Mapped[float | None] = mapped_column(Float)
    pulse: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class SocialService(Base):
    """A community service in the social prescribing directory, as an Open Referral UK
    ``service`` document, with the columns search uses beside it (issue 22, ADR 0153)."""

    __tablename__ = "social_services"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(32))
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    needs: Mapped[list[str]] = mapped_column(JSON)
    outcodes: Mapped[list[str]] = mapped_column(JSON)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class SocialReferral(Base):
    """A person on a link worker's caseload (issue 22, ADR 0152): the caseload task
    (``task_id``, source ``social_prescribing``) plus what the link worker records: what
    matters, needs, contacts, services referred to, and ONS4 wellbeing at start and end."""

    __tablename__ = "social_referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, index=True)
    practice_code: Mapped[str | None] = mapped_column(String(16))
    referred_by: Mapped[str] = mapped_column(String(64))
    referred_at: Mapped[dt.datetime] = mapped_column(DateTime)
    route: Mapped[str] = mapped_column(String(32))
    link_worker: Mapped[str | None] = mapped_column(String(64), index=True)
    first_contact_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    what_matters: Mapped[str | None] = mapped_column(Text)
    needs: Mapped[list[str]] = mapped_column(JSON)
    services: Mapped[list[str]] = mapped_column(JSON)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    ons4_start: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ons4_end: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
