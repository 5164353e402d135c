"""The audit trail: one event per record(), gapless sequence, verification, immutability."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import secrets
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pcn.store import audit
from pcn.store.database import Store
from pcn.store.roles import grant_app_role
from tests.databases import pg_url


def _event(i: int, patient_id: int | None = None) -> audit.Event:
    return audit.Event(username=f"user{i % 3}", role="practice_clinician", action="view_patient",
                       outcome="allowed", practice_code="A81001", patient_id=patient_id,
                       purpose="direct_care", detail={"n": i, "note": "é"})


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM audit_events"))


def test_record_writes_exactly_one_event_each_with_consecutive_seq(store: Store) -> None:
    recorded = [audit.record(store, _event(i, patient_id=100 + i)) for i in range(5)]
    assert _count(store) == 5
    assert [r.seq for r in recorded] == [1, 2, 3, 4, 5]
    assert recorded[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(recorded))
    report = audit.verify(store)
    assert report.ok, report.problems
    assert (report.events_checked, report.head_seq, report.head_hash) == (5, 5, recorded[-1].hash)


def test_event_hash_is_sha256_of_the_documented_canonical_json(store: Store) -> None:
    at = dt.datetime(2026, 3, 1, 9, 30, 0, 123456)
    ev = audit.record(store, audit.Event(username="amy", role="analyst", action="view_aggregates",
                                         outcome="allowed", detail={"b": 1, "a": [1, "x"]},
                                         occurred_at=at))
    # Written out by hand from docs/reference/access-and-audit.md, not with the code under test.
    expected_text = (
        '{"action":"view_aggregates","detail":{"a":[1,"x"],"b":1},'
        '"occurred_at":"2026-03-01T09:30:00.123456","outcome":"allowed","patient_id":null,'
        '"practice_code":null,"prev_hash":"' + "0" * 64 + '","purpose":null,"role":"analyst",'
        '"seq":1,"username":"amy"}'
    )
    assert json.loads(expected_text)["seq"] == 1
    assert ev.hash == hashlib.sha256(expected_text.encode()).hexdigest()
    assert audit.events(store)[0].occurred_at == at  # microseconds survive the database


def test_record_rejects_bad_events_and_writes_nothing(store: Store) -> None:
    with pytest.raises(ValueError, match="outcome"):
        audit.record(store, audit.Event("amy", "analyst", "view_aggregates", "maybe"))
    with pytest.raises(ValueError, match="plain JSON"):
        audit.record(store, audit.Event("amy", "analyst", "x", "ok",
                                        detail={"when": dt.date.today()}))
    assert _count(store) == 0
    assert audit.verify(store).ok


def test_database_refuses_update_and_delete_of_audit_rows(store: Store) -> None:
    audit.record(store, _event(1))
    for statement in ("UPDATE audit_events SET outcome = 'denied'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert _count(store) == 1
    assert audit.verify(store).ok


@pytest.mark.postgres
def test_postgres_truncate_is_refused_even_for_the_owner(pg_store: Store) -> None:
    audit.record(pg_store, _event(1))
    with pytest.raises(DBAPIError, match="append-only"), pg_store.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    assert _count(pg_store) == 1


@pytest.fixture
def app_role_store(pg_store: Store) -> Iterator[Store]:
    """The store as seen by the application's own, unprivileged database role."""
    role = f"pcn_app_{secrets.token_hex(4)}"
    grant_app_role(pg_store, role, create=True)
    database = pg_store.engine.url.database
    assert database is not None
    app_store = Store(pg_url(database, user=role))
    yield app_store
    app_store.dispose()
    with pg_store.engine.begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))


@pytest.mark.postgres
def test_app_role_can_append_but_not_alter_audit(app_role_store: Store, pg_store: Store) -> None:
    audit.record(app_role_store, _event(1))
    audit.record(app_role_store, _event(2))
    for statement in ("UPDATE audit_events SET outcome = 'denied'", "DELETE FROM audit_events",
                      "TRUNCATE audit_events"):
        with pytest.raises(DBAPIError, match="permission denied"), \
                app_role_store.engine.begin() as conn:
            conn.execute(text(statement))
    # ...while it can still do its ordinary work on other tables
    with app_role_store.engine.begin() as conn:
        conn.execute(text("DELETE FROM idempotency_keys"))
    assert _count(pg_store) == 2
    assert audit.verify(app_role_store).ok


def _tamper(store: Store, *statements: str) -> None:
    """Edit the audit table out of band, as a superuser / file owner would, bypassing triggers."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            conn.execute(text(statement))


def test_verify_detects_an_edited_row(store: Store) -> None:
    for i in range(6):
        audit.record(store, _event(i, patient_id=7))
    _tamper(store, "UPDATE audit_events SET username = 'someone_else' WHERE seq = 3")
    report = audit.verify(store)
    assert not report.ok
    assert any(p.startswith("event 3:") and "edited" in p for p in report.problems)


def test_verify_detects_an_edit_whose_hash_was_recomputed(store: Store) -> None:
    for i in range(4):
        audit.record(store, _event(i))
    forged = "f" * 64  # an attacker who rewrites the row's own hash still breaks the next link
    _tamper(store, f"UPDATE audit_events SET outcome = 'denied', hash = '{forged}' WHERE seq = 2")
    problems = audit.verify(store).problems
    assert any(p.startswith("event 3:") and "link" in p for p in problems)


def test_verify_detects_a_deleted_row_in_the_middle_and_at_the_end(store: Store) -> None:
    for i in range(5):
        audit.record(store, _event(i))
    _tamper(store, "DELETE FROM audit_events WHERE seq = 2")
    problems = audit.verify(store).problems
    assert any("2..2 are missing" in p for p in problems)

    _tamper(store, "DELETE FROM audit_events WHERE seq = 5")
    problems = audit.verify(store).problems
    assert any("chain head says event 5 but the last event is 4" in p for p in problems)


def test_who_viewed_equals_the_audit_ground_truth(store: Store) -> None:
    expected = []
    for i in range(12):
        patient = 42 if i % 3 == 0 else 43
        outcome = "denied" if i == 6 else "allowed"
        ev = audit.record(store, audit.Event(username=f"user{i}", role="care_coordinator",
                                             action="view_patient", outcome=outcome,
                                             practice_code="A81002", patient_id=patient,
                                             purpose="direct_care"))
        if patient == 42:
            expected.append((ev.seq, f"user{i}", outcome))
    report = audit.who_viewed(store, 42)
    assert [(a.seq, a.username, a.outcome) for a in report] == expected
    assert [a.seq for a in audit.who_viewed(store, 42, include_denied=False)] == [
        seq for seq, _, outcome in expected if outcome == "allowed"]
    assert audit.who_viewed(store, 999) == []


def _concurrent_writers(store: Store, writers: int, per_writer: int) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def work(w: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                audit.record(store, _event(w * 1000 + i, patient_id=w))
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_writers_get_a_gapless_unforked_chain(store: Store) -> None:
    writers, per_writer = 6, 20
    _concurrent_writers(store, writers, per_writer)
    seqs = [e.seq for e in audit.events(store)]
    assert seqs == list(range(1, writers * per_writer + 1))
    for w in range(writers):
        assert len(audit.events(store, patient_id=w)) == per_writer
    assert audit.verify(store).ok


@pytest.mark.postgres
def test_concurrent_writers_in_separate_connection_pools(pg_store: Store) -> None:
    """Independent engines (as separate server processes would have) still serialise on the head."""
    stores = [Store(pg_store.url) for _ in range(4)]
    errors: list[BaseException] = []

    def work(s: Store, w: int) -> None:
        try:
            for i in range(15):
                audit.record(s, _event(i, patient_id=w))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s, w)) for w, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.dispose()
    assert errors == []
    assert [e.seq for e in audit.events(pg_store)] == list(range(1, 61))
    assert audit.verify(pg_store).ok


def test_group_commit_writer_gives_each_caller_its_committed_event(store: Store) -> None:
    store.enable_group_commit(max_batch=16)
    results: list[audit.RecordedEvent] = []
    lock = threading.Lock()

    def work(w: int) -> None:
        for i in range(15):
            recorded = audit.record(store, _event(i, patient_id=w))
            with lock:
                results.append(recorded)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = {e.seq: e for e in audit.events(store)}
    assert sorted(stored) == list(range(1, 121))
    assert sorted(r.seq for r in results) == list(range(1, 121))
    assert all(stored[r.seq].hash == r.hash and stored[r.seq].patient_id == r.patient_id
               for r in results)
    assert audit.verify(store).ok


def test_group_commit_writer_rejects_a_bad_event_without_failing_others(store: Store) -> None:
    writer = audit.AuditWriter(store)
    with pytest.raises(ValueError, match="outcome"):
        writer.record(audit.Event("amy", "analyst", "view_aggregates", "maybe"))
    assert writer.record(_event(1)).seq == 1
    writer.close()
    assert _count(store) == 1
