"""Revision 0110 moves stored triage requests into the one work model and back (issue 17):
each request gets a task carrying its owner, outcome and history; the audit trail is untouched."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from pcn.store import audit, migrate
from pcn.store.database import Store

T0 = dt.datetime(2026, 11, 30, 9, 0)


def _insert_request(conn: object, rid: int, *, status: str, practice: str | None,
                    assigned: str | None, outcome: str | None) -> None:
    conn.execute(text(  # type: ignore[attr-defined]
        "INSERT INTO triage_requests (id, received_at, source, submitted_by, patient_id, "
        "practice_code, age, sex, text, urgency, route, red_flags, decided_by, explanation, "
        "advice, engine_version, status, final_urgency, final_route, assigned_user, "
        "assigned_role, outcome, closed_at, updated_at) VALUES (:id, :t, 'api', 'gp.a', 7, :p, "
        "40, 'F', 'sore knee', 'routine', 'fcp_physio', '[]', 'rules', 'x', 'y', 'v1', :s, "
        ":fu, 'fcp_physio', :a, :ar, :o, :c, :t)"),
        {"id": rid, "t": T0, "p": practice, "s": status,
         "fu": "urgent" if status != "new" else None, "a": assigned,
         "ar": "gp" if assigned else None, "o": outcome,
         "c": T0 + dt.timedelta(hours=2) if outcome else None})
    conn.execute(text(  # type: ignore[attr-defined]
        "INSERT INTO triage_request_events (request_id, occurred_at, username, role, action, "
        "reason, detail) VALUES (:id, :t, 'public', 'patient', 'received', NULL, '{}')"),
        {"id": rid, "t": T0})
    if status != "new":
        conn.execute(text(  # type: ignore[attr-defined]
            "INSERT INTO triage_request_events (request_id, occurred_at, username, role, "
            "action, reason, detail) VALUES (:id, :t, 'gp.a', 'practice_clinician', "
            "'override', 'worse than it sounds', '{\"urgency\": \"urgent\"}')"),
            {"id": rid, "t": T0 + dt.timedelta(minutes=5)})


def test_triage_requests_become_tasks_with_their_history(empty_store: Store) -> None:
    store = empty_store
    migrate.upgrade(store, "0090")
    with store.engine.begin() as conn:
        _insert_request(conn, 1, status="new", practice="A81001", assigned=None, outcome=None)
        _insert_request(conn, 2, status="closed", practice=None, assigned="gp.a",
                        outcome="Seen by physio")
    audit.record(store, audit.Event(username="gp.a", role="practice_clinician",
                                    action="triage_work", outcome="allowed",
                                    detail={"request_id": 2}))
    trail_before = [(e.seq, e.hash) for e in audit.events(store)]

    migrate.upgrade(store)

    with store.engine.connect() as conn:
        tasks = conn.execute(text(
            "SELECT r.id, t.source, t.source_ref, t.practice_code, t.owner_user, t.owner_role, "
            "t.status, t.outcome_text, t.closed_at, t.priority, t.created_at "
            "FROM triage_requests r JOIN tasks t ON t.id = r.task_id ORDER BY r.id")).all()
        events = conn.execute(text(
            "SELECT r.id, e.action, e.username, e.reason FROM task_events e "
            "JOIN triage_requests r ON r.task_id = e.task_id ORDER BY e.id")).all()
    assert [(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]) for t in tasks] == [
        (1, "triage_request", "1", "A81001", None, None, "open", None),
        (2, "triage_request", "2", None, "gp.a", "gp", "done", "Seen by physio")]
    assert str(tasks[1][8])[:19] == str(T0 + dt.timedelta(hours=2))
    assert str(tasks[0][10])[:19] == str(T0)
    assert tasks[1][9] == "high"  # the clinician's urgency (urgent) decides the priority
    assert events == [(1, "received", "public", None), (2, "received", "public", None),
                      (2, "override", "gp.a", "worse than it sounds")]
    # the audit trail is not touched and still verifies
    assert [(e.seq, e.hash) for e in audit.events(store)] == trail_before
    assert audit.verify(store).ok

    migrate.downgrade(store, "0090")
    with store.engine.connect() as conn:
        back = conn.execute(text("SELECT id, assigned_user, outcome FROM triage_requests "
                                 "ORDER BY id")).all()
        back_events = conn.execute(text("SELECT request_id, action FROM triage_request_events "
                                        "ORDER BY id")).all()
    assert back == [(1, None, None), (2, "gp.a", "Seen by physio")]
    assert back_events == [(1, "received"), (2, "received"), (2, "override")]
