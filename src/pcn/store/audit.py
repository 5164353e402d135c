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
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, cast, insert, or_, select, update

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
    """Append exactly one event, in its own transaction (it survives the caller's rollback).

    Goes through the store's group-commit writer when one is enabled
    (:meth:`pcn.store.database.Store.enable_group_commit`); either way it returns once the event
    is committed.
    """
    writer = store.audit_writer
    if writer is not None:
        recorded: RecordedEvent = writer.record(event)
        return recorded
    return record_many(store, [event])[0]


def record_many(store: Store, batch: list[Event]) -> list[RecordedEvent]:
    """Append several events in one transaction: one lock, one commit (one fsync) for all."""
    prepared = [(_validate(ev), (ev.occurred_at or now_utc()).replace(tzinfo=None), ev)
                for ev in batch]
    recorded: list[RecordedEvent] = []
    if not prepared:
        return recorded
    with store.engine.begin() as conn:
        head_query = select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)
        if conn.dialect.name == "postgresql":
            head_query = head_query.with_for_update()
        seq, prev_hash = conn.execute(head_query).one()
        rows = []
        for detail, occurred_at, ev in prepared:
            seq += 1
            fields: dict[str, Any] = {
                "seq": seq, "occurred_at": occurred_at, "username": ev.username,
                "role": ev.role, "practice_code": ev.practice_code,
                "patient_id": ev.patient_id, "action": ev.action, "outcome": ev.outcome,
                "purpose": ev.purpose, "detail": detail, "prev_hash": prev_hash,
            }
            prev_hash = event_hash(**fields)
            rows.append({**fields, "hash": prev_hash})
            recorded.append(RecordedEvent(**fields, hash=prev_hash))
        conn.execute(insert(AuditEvent), rows)
        conn.execute(update(AuditChainHead).where(AuditChainHead.id == 1)
                     .values(seq=seq, hash=prev_hash))
    return recorded


class AuditWriter:
    """Group commit for a busy server: callers in many threads hand events to one writer thread,
    which appends whatever has queued up in one transaction; each caller returns only after its
    event is committed. Throughput then grows with concurrency instead of being one commit
    (one fsync) per event."""

    def __init__(self, store: Store, max_batch: int = 500) -> None:
        import queue
        import threading

        self.store = store
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Event, Future[RecordedEvent]] | None] = \
            queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="pcn-audit-writer", daemon=True)
        self._thread.start()

    def record(self, event: Event) -> RecordedEvent:
        _validate(event)  # a bad event fails its caller only, never the batch it would join
        done: Future[RecordedEvent] = Future()
        self._queue.put((event, done))
        return done.result()

    def _run(self) -> None:
        import queue

        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            try:
                results = record_many(self.store, [ev for ev, _ in batch])
            except BaseException as e:  # every waiting caller learns its event was not written
                for _, done in batch:
                    done.set_exception(e)
            else:
                for (_, done), result in zip(batch, results, strict=True):
                    done.set_result(result)

    def close(self) -> None:
        """Finish what is queued, then stop the writer thread."""
        self._queue.put(None)
        self._thread.join()


def _rows(store: Store, *criteria: Any) -> Iterator[RecordedEvent]:
    columns = [c for c in AuditEvent.__table__.c]
    query = select(*columns).where(*criteria).order_by(AuditEvent.seq)
    with store.read_engine.connect() as conn:
        for row in conn.execution_options(yield_per=2000).execute(query):
            yield RecordedEvent(**row._asdict())


def names(event: RecordedEvent, patient_id: int) -> bool:
    """Does the event name this patient: the one patient it is about, or one of the patients a
    list, search or export showed (``detail.patient_ids``)?"""
    listed = event.detail.get("patient_ids") if isinstance(event.detail, dict) else None
    return event.patient_id == patient_id or (
        isinstance(listed, list) and patient_id in listed)


def events(store: Store, patient_id: int | None = None) -> list[RecordedEvent]:
    """All events in sequence order, or those naming one patient (alone or in a list)."""
    if patient_id is None:
        return list(_rows(store))
    # The text of the detail is searched for the number first (cheap, portable), then checked.
    candidates = _rows(store, or_(AuditEvent.patient_id == patient_id,
                                  cast(AuditEvent.detail, Text).like(f"%{int(patient_id)}%")))
    return [e for e in candidates if names(e, patient_id)]


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
    with store.read_engine.connect() as conn:
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
