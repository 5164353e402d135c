"""Triage requests on a real store (SQLite and PostgreSQL): submit, queue order and scope, staff
actions with history and exactly one audit event each, idempotent submission (issue 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from pcn.access.guard import NotFound
from pcn.access.policy import Principal
from pcn.store import accounts, audit, sharing
from pcn.store.database import Store, now_utc
from pcn.store.idempotency import IdempotencyConflict
from pcn.store.models import TaskEvent, TriageRequestRow
from pcn.triage import requests as desk
from pcn.triage.requests import Idempotency, NewRequest, RequestError, StateConflict

A, B = "A81001", "B82002"
NETWORK_PRACTICES = (A, B)
CHEST = "crushing chest pain spreading to my left arm"
ROUTINE_GP = "I would like to talk to someone about HRT for my menopause symptoms"
SORE_KNEE = "my knee aches when I run"


@pytest.fixture
def people(store: Store) -> dict[str, Principal]:
    made = {}
    for name, role, practice in (("gp.a", "practice_clinician", A),
                                 ("gp.b", "practice_clinician", B),
                                 ("hub", "care_coordinator", None),
                                 ("analyst", "analyst", None),
                                 ("supplier", "integration", None)):
        account, _ = accounts.create_user(store, name, role, practice_code=practice,
                                          password="long enough password")
        made[name] = account.principal()
    return made


def _submit(store: Store, text: str, practice: str | None = A, age: float = 40,
            who: Principal | None = None, **kw: object) -> desk.Submitted:
    return desk.submit(store, NewRequest(age=age, sex="F", text=text, practice_code=practice),
                       source="api" if who else "web_form", who=who,
                       practices=NETWORK_PRACTICES, **kw)  # type: ignore[arg-type]


def _audit_count(store: Store) -> int:
    return len(audit.events(store))


def _age(store: Store, request_id: int, minutes: int) -> None:
    with store.session() as session:
        session.execute(update(TriageRequestRow).where(TriageRequestRow.id == request_id)
                        .values(received_at=now_utc() - dt.timedelta(minutes=minutes)))


def test_submit_stores_the_decision_and_one_audit_event(store: Store,
                                                        people: dict[str, Principal]) -> None:
    before = _audit_count(store)
    answer = _submit(store, CHEST, age=60, who=people["supplier"])
    assert answer.urgency == "emergency" and answer.route == "emergency_services"
    assert "chest_pain_cardiac" in answer.red_flags
    assert "999" in answer.advice
    events = audit.events(store)[before:]
    assert [(e.username, e.action, e.outcome) for e in events] == [
        ("supplier", "submit_triage_request", "allowed")]
    with store.read() as session:
        row = session.get(TriageRequestRow, answer.id)
        assert row is not None
        assert (row.status, row.practice_code, row.text, row.source) == ("new", A, CHEST, "api")
        assert row.engine_version == desk.engine_version()
        assert row.explanation.startswith("emergency → emergency_services")


def test_public_form_submission_is_audited_as_public(store: Store) -> None:
    answer = _submit(store, SORE_KNEE, practice=None)
    last = audit.events(store)[-1]
    assert (last.username, last.role, last.action, last.outcome) == (
        "public", "patient", "submit_triage_request", "ok")
    assert last.detail["request_id"] == answer.id


def test_roles_without_submit_are_refused(store: Store, people: dict[str, Principal]) -> None:
    with pytest.raises(NotFound):
        _submit(store, SORE_KNEE, who=people["analyst"])
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(TriageRequestRow)) == 0


def test_unknown_practice_is_refused_with_the_field(store: Store) -> None:
    with pytest.raises(RequestError) as bad:
        _submit(store, SORE_KNEE, practice="Z99999")
    assert bad.value.field == "practice_code"


def test_queue_orders_by_urgency_then_waiting_and_is_scoped(
        store: Store, people: dict[str, Principal]) -> None:
    knee_old = _submit(store, SORE_KNEE).id
    headache = _submit(store, ROUTINE_GP).id
    chest_new = _submit(store, CHEST, age=60).id
    chest_old = _submit(store, CHEST, age=60).id
    at_b = _submit(store, ROUTINE_GP, practice=B).id
    unallocated = _submit(store, ROUTINE_GP, practice=None).id
    _age(store, knee_old, 300)
    _age(store, chest_old, 30)
    _age(store, headache, 10)
    queue = desk.queue(store, people["gp.a"])
    urgencies = {r.id: r.effective_urgency for r in queue}
    assert [r.id for r in queue][:2] == [chest_old, chest_new]
    order = [desk.URGENCY_ORDER.index(urgencies[i]) for i in urgencies]
    assert order == sorted(order)
    assert at_b not in urgencies and unallocated not in urgencies
    assert {r.id for r in desk.queue(store, people["gp.b"])} == {at_b}
    assert {r.id for r in desk.queue(store, people["hub"])} == {unallocated}
    with pytest.raises(NotFound):
        desk.queue(store, people["analyst"])


def test_agreement_lets_another_practice_work_the_requests(
        store: Store, people: dict[str, Principal]) -> None:
    at_b = _submit(store, ROUTINE_GP, practice=B).id
    with pytest.raises(NotFound):
        desk.get(store, people["gp.a"], at_b)
    sharing.add_agreement(store, from_practices=[B], to_orgs=[A], data_scope="view",
                          purpose="direct_care", valid_from=now_utc().date())
    assert desk.get(store, people["gp.a"], at_b).id == at_b
    assert at_b in {r.id for r in desk.queue(store, people["gp.a"])}


def test_other_practice_and_missing_requests_look_the_same(
        store: Store, people: dict[str, Principal]) -> None:
    at_a = _submit(store, ROUTINE_GP).id
    before = _audit_count(store)
    for request_id in (at_a, 987654):
        with pytest.raises(NotFound):
            desk.get(store, people["gp.b"], request_id)
        with pytest.raises(NotFound):
            desk.accept(store, people["gp.b"], request_id)
    events = audit.events(store)[before:]
    assert [(e.action, e.outcome) for e in events] == [("triage_work", "denied")] * 4
    with store.read() as session:
        row = session.get(TriageRequestRow, at_a)
        assert row is not None and row.status == "new"


def test_override_assign_close_with_history_and_one_event_each(
        store: Store, people: dict[str, Principal]) -> None:
    gp = people["gp.a"]
    request_id = _submit(store, ROUTINE_GP).id
    with pytest.raises(RequestError) as no_reason:
        desk.override(store, gp, request_id, urgency="urgent", route_to="gp", reason="  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(RequestError):  # PostgreSQL cannot store NUL: refused before the database
        desk.override(store, gp, request_id, urgency="urgent", route_to="gp",
                      reason="long enough but \x00 in it")
    with pytest.raises(StateConflict, match="accept or override"):
        desk.close(store, gp, request_id, outcome="nothing done")
    before = _audit_count(store)
    desk.override(store, gp, request_id, urgency="urgent", route_to="anp",
                  reason="new neurology: seen today")
    desk.assign(store, gp, request_id, user="gp.a", role="anp")
    done = desk.close(store, gp, request_id, outcome="Seen by ANP, normal examination")
    events = audit.events(store)[before:]
    assert [(e.action, e.outcome, e.detail["op"]) for e in events] == [
        ("triage_work", "allowed", "override"), ("triage_work", "allowed", "assign"),
        ("triage_work", "allowed", "close"), ]
    assert events[0].detail["reason"] == "new neurology: seen today"
    assert (done.status, done.final_urgency, done.final_route) == ("closed", "urgent", "anp")
    assert (done.assigned_user, done.assigned_role) == ("gp.a", "anp")
    assert done.outcome == "Seen by ANP, normal examination" and done.closed_at is not None
    assert [h.action for h in done.history] == ["received", "override", "assign", "close"]
    assert done.history[1].detail["from"] == {"urgency": "routine", "route": "gp"}
    with pytest.raises(StateConflict, match="closed"):
        desk.accept(store, gp, request_id)
    assert request_id not in {r.id for r in desk.queue(store, gp)}


def test_assign_needs_a_real_assignee(store: Store, people: dict[str, Principal]) -> None:
    request_id = _submit(store, ROUTINE_GP).id
    for kwargs, problem_field in (({}, "assignee"), ({"role": "surgeon"}, "role"),
                                  ({"user": "nobody"}, "user")):
        with pytest.raises(RequestError) as bad:
            desk.assign(store, people["gp.a"], request_id, **kwargs)  # type: ignore[arg-type]
        assert bad.value.field == problem_field
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(TaskEvent)) == 1


def test_idempotent_submission_creates_one_row_and_refuses_a_changed_body(
        store: Store, people: dict[str, Principal]) -> None:
    key = Idempotency("supplier", "key-1", "hash-of-body-1")
    first = _submit(store, SORE_KNEE, who=people["supplier"], idempotency=key)
    again = _submit(store, SORE_KNEE, who=people["supplier"], idempotency=key)
    assert first.replay is None and again.replay is not None
    assert again.id == first.id and again.response_body() == first.response_body()
    with pytest.raises(IdempotencyConflict):
        _submit(store, ROUTINE_GP, who=people["supplier"],
                idempotency=Idempotency("supplier", "key-1", "hash-of-body-2"))
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(TriageRequestRow)) == 1


def test_capacity_declared_for_today_reroutes_routine_work(store: Store) -> None:
    today = now_utc().date()
    desk.set_capacity(store, A, "gp", 0, today, "manager")
    desk.set_capacity(store, A, "anp", 1, today, "manager")
    first = _submit(store, ROUTINE_GP)
    # Capacity routes the request for staff; the submitter is answered from the words alone.
    assert first.route == "gp" and "capacity" not in first.explanation
    with store.read() as session:
        row = session.get(TriageRequestRow, first.id)
        assert row is not None and row.route == "anp"
        assert "next suitable role anp has 1" in row.explanation
    # the ANP's one slot is now taken by that request: the next one stays with the GP
    second = _submit(store, ROUTINE_GP)
    assert desk.get_unaudited(store, second.id).route == "gp"
    assert desk.capacity_today(store, B) is None


def test_unknown_role_for_capacity_is_refused(store: Store) -> None:
    with pytest.raises(RequestError):
        desk.set_capacity(store, A, "wizard", 3, now_utc().date(), "manager")



def test_assignment_only_to_clinical_staff_of_the_requests_practice_uniform_error(
        store: Store, people: dict[str, Principal]) -> None:
    """Issue 16, item 6: any active account (an admin) could be given a request, and the error
    said whether a username existed. Now only an account that could work this request itself,
    and one answer for every refusal."""
    accounts.create_user(store, "admin.a", "admin", password="long enough password")
    accounts.create_user(store, "gp.a2", "practice_clinician", practice_code=A,
                         password="long enough password")
    accounts.create_user(store, "gp.gone", "practice_clinician", practice_code=A,
                         password="long enough password")
    accounts.disable_user(store, "gp.gone")
    request_id = _submit(store, ROUTINE_GP, practice=A).id
    gp = people["gp.a"]
    refused = {}
    for assignee in ("admin.a", "analyst", "supplier", "gp.b", "hub", "gp.gone", "no.such.user"):
        with pytest.raises(RequestError) as bad:
            desk.assign(store, gp, request_id, user=assignee)
        refused[assignee] = (bad.value.field, bad.value.problem)
        assert assignee not in bad.value.problem
    assert len(set(refused.values())) == 1, refused  # one answer, whatever the reason
    assert desk.get_unaudited(store, request_id).assigned_user is None
    done = desk.assign(store, gp, request_id, user="gp.a2")
    assert (done.assigned_user, done.status) == ("gp.a2", "assigned")


def test_network_staff_may_be_given_a_request_their_agreement_covers(
        store: Store, people: dict[str, Principal]) -> None:
    request_id = _submit(store, ROUTINE_GP, practice=A).id
    with pytest.raises(RequestError):
        desk.assign(store, people["gp.a"], request_id, user="hub")
    sharing.add_agreement(store, from_practices=[A], to_orgs=["network"], data_scope="view",
                          purpose="direct_care", valid_from=dt.date(2000, 1, 1),
                          reference="hub works A's requests")
    assert desk.assign(store, people["gp.a"], request_id, user="hub").assigned_user == "hub"
