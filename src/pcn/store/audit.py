"""The audit trail: append-only, hash-chained, numbered without gaps.

Each event's hash is SHA-256 over its canonical JSON (sorted keys, no spaces, UTF-8) *including the
previous event's hash*, so editing or deleting any row breaks the chain from that point, and
:func:`verify` names the first broken sequence number. The database refuses UPDATE and DELETE on
``audit_events`` (triggers; on PostgreSQL also privileges, see
:func:`pcn.store.roles.grant_app_role`); the hash chain catches what a superuser does out of band.

Appends are serialised on the single ``audit_chain_head`` row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite transactions start with ``BEGIN IMMEDIATE``), so concurrent writers get
consecutive sequence numbers and never fork the chain.

The audit trail names patients; technical logs never do (TRUST.md rows 5-7, 17).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from pcn.store.database import Store, now_utc
from pcn.store.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64
OUTCOMES = ("allowed", "denied", "ok", "failed")


@dataclass(frozen=True)
class Event:
    """What happened, before it gets its place in the chain."""

    username: str
    role: str
    action: str
    outcome: str
    practice_code: str | None = None
    patient_id: int | None = None
    purpose: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    occurred_at: dt.datetime | None = None


@dataclass(frozen=True)
class RecordedEvent:
    seq: int
    occurred_at: dt.datetime
    username: str
    role: str
    practice_code: str | None
    patient_id: int | None
    action: str
    outcome: str
    purpose: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str


def _timestamp(value: dt.datetime) -> str:
    return value.isoformat(sep="T", timespec="microseconds")


def canonical_json(seq: int, occurred_at: dt.datetime, username: str, role: str,
                   practice_code: str | None, patient_id: int | None, action: str, outcome: str,
                   purpose: str | None, detail: dict[str, Any], prev_hash: str) -> bytes:
    """The exact bytes an event's hash covers (documented in docs/reference/access-and-audit.md)."""
    body = {
        "seq": seq, "occurred_at": _timestamp(occurred_at), "username": username, "role": role,
        "practice_code": practice_code, "patient_id": patient_id, "action": action,
        "outcome": outcome, "purpose": purpose, "detail": detail, "prev_hash": prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def event_hash(**fields: Any) -> str:
    return hashlib.sha256(canonical_json(**fields)).hexdigest()


def _validate(event: Event) -> dict[str, Any]:
    if event.outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, got {event.outcome!r}")
    for name in ("username", "role", "action"):
        if not getattr(event, name):
            raise ValueError(f"audit event needs a {name}")
    try:  # the stored detail must hash the same after a JSON round trip through the database
        detail = json.loads(json.dumps(event.detail, allow_nan=False))
    except (TypeError, ValueError) as e:
        raise ValueError(f"audit detail must be plain JSON: {e}") from None
    if not isinstance(detail, dict):
        raise ValueError("audit detail must be a JSON object")
    return detail


def record(store: Store, event: Event) -> RecordedEvent:
    """Append exactly one event, in its own transaction (it survives the caller's rollback)."""
    detail = _validate(event)
    occurred_at = (event.occurred_at or now_utc()).replace(tzinfo=None)
    with store.engine.begin() as conn:
        head_query = select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)
        if conn.dialect.name == "postgresql":
            head_query = head_query.with_for_update()
        head_seq, prev_hash = conn.execute(head_query).one()
        fields: dict[str, Any] = {
            "seq": head_seq + 1, "occurred_at": occurred_at, "username": event.username,
            "role": event.role, "practice_code": event.practice_code,
            "patient_id": event.patient_id, "action": event.action, "outcome": event.outcome,
            "purpose": event.purpose, "detail": detail, "prev_hash": prev_hash,
        }
        digest = event_hash(**fields)
        conn.execute(AuditEvent.__table__.insert().values(**fields, hash=digest))
        conn.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                     .values(seq=head_seq + 1, hash=digest))
    return RecordedEvent(**fields, hash=digest)


def _rows(store: Store, *criteria: Any) -> Iterator[RecordedEvent]:
    columns = [c for c in AuditEvent.__table__.c]
    query = select(*columns).where(*criteria).order_by(AuditEvent.seq)
    with store.engine.connect() as conn:
        for row in conn.execution_options(yield_per=2000).execute(query):
            yield RecordedEvent(**row._asdict())


def events(store: Store, patient_id: int | None = None) -> list[RecordedEvent]:
    """All events in sequence order, or those naming one patient."""
    criteria = [] if patient_id is None else [AuditEvent.patient_id == patient_id]
    return list(_rows(store, *criteria))


@dataclass
class VerifyReport:
    events_checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, max_problems: int = 100) -> VerifyReport:
    """Recompute the whole chain; report gaps, edited rows, broken links and a moved head."""
    report = VerifyReport()
    expected_seq, prev_hash = 1, GENESIS_HASH

    def problem(text: str) -> None:
        if len(report.problems) < max_problems:
            report.problems.append(text)

    for ev in _rows(store):
        report.events_checked += 1
        if ev.seq != expected_seq:
            problem(f"events {expected_seq}..{ev.seq - 1} are missing (deleted?)"
                    if ev.seq > expected_seq else f"event {ev.seq} is out of order")
        if ev.prev_hash != prev_hash:
            problem(f"event {ev.seq}: link to the previous event is broken")
        fields = {k: v for k, v in ev.__dict__.items() if k != "hash"}
        if event_hash(**fields) != ev.hash:
            problem(f"event {ev.seq}: content does not match its hash (edited?)")
        expected_seq, prev_hash = ev.seq + 1, ev.hash
    with store.engine.connect() as conn:
        report.head_seq, report.head_hash = conn.execute(
            select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)).one()
    if report.head_seq != expected_seq - 1 or report.head_hash != prev_hash:
        problem(f"chain head says event {report.head_seq} but the last event is "
                f"{expected_seq - 1} (events deleted at the end, or the head edited?)")
    return report


@dataclass(frozen=True)
class Access:
    """One line of the "who viewed my record" report."""

    seq: int
    occurred_at: dt.datetime
    username: str
    role: str
    practice_code: str | None
    action: str
    outcome: str
    purpose: str | None


def who_viewed(store: Store, patient_id: int, include_denied: bool = True) -> list[Access]:
    """Every audited access to one patient's record, oldest first (Care Record Guarantee)."""
    return [Access(e.seq, e.occurred_at, e.username, e.role, e.practice_code, e.action, e.outcome,
                   e.purpose)
            for e in events(store, patient_id)
            if include_denied or e.outcome != "denied"]
