"""The guard on a real store: legitimate relationship, roles, revocation, break-glass, one audit
event per request (TRUST.md rows 1, 3, 4, 5)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from pcn.access import guard
from pcn.access.guard import NotFound
from pcn.access.policy import Action, Purpose
from pcn.store import accounts, audit, sharing
from pcn.store.database import Store, now_utc
from pcn.store.sharing import SharingError
from tests.unit.access.test_policy_oracle import ORACLE_ROLES

A, B = frozenset({"A81001"}), frozenset({"B82002"})
PATIENT_AT_A, PATIENT_AT_B = 1001, 2002
REASON = "Collapsed in clinic, needs medication history"


def _events(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM audit_events"))


@pytest.fixture
def clinician(store: Store) -> str:
    accounts.create_user(store, "gp.a", "practice_clinician", practice_code="A81001")
    return "gp.a"


def _agreement(store: Store, **overrides: object) -> int:
    fields: dict[str, object] = {
        "from_practices": ["B82002"], "to_orgs": ["A81001"], "data_scope": "view",
        "purpose": "direct_care", "valid_from": now_utc().date() - dt.timedelta(days=1),
        "reference": "DSA-1", "created_by": "admin"}
    fields.update(overrides)
    return sharing.add_agreement(store, **fields).agreement_id  # type: ignore[arg-type]


def test_other_practice_patient_is_not_found_by_every_route_and_audited(
        store: Store, clinician: str) -> None:
    before = _events(store)
    for action in (Action.VIEW_PATIENT, Action.EXPORT_IDENTIFIABLE, Action.TRIAGE_WORK,
                   Action.SEARCH_PATIENTS):
        with pytest.raises(NotFound) as refused:
            guard.require(store, clinician, action, patient_id=PATIENT_AT_B, patient_practices=B)
        with pytest.raises(NotFound) as missing:
            guard.require(store, clinician, action, patient_id=999, patient_practices=frozenset())
        assert str(refused.value) == str(missing.value) == "not found"
    scope = guard.search_scope(store, clinician)
    assert scope.practice_codes == A and not scope.allows(PATIENT_AT_B, B)
    assert _events(store) == before + 9  # exactly one event per request
    denied = audit.who_viewed(store, PATIENT_AT_B)
    assert [(e.username, e.outcome) for e in denied] == [(clinician, "denied")] * 4


def test_own_practice_patient_is_allowed_and_audited(store: Store, clinician: str) -> None:
    decision = guard.require(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_A,
                             patient_practices=A)
    assert decision.basis == "own_practice"
    [event] = audit.who_viewed(store, PATIENT_AT_A)
    assert (event.username, event.role, event.practice_code, event.action, event.outcome,
            event.purpose) == (clinician, "practice_clinician", "A81001", "view_patient",
                               "allowed", "direct_care")


def test_sharing_agreement_opens_its_scope_only_and_revocation_stops_next_request(
        store: Store, clinician: str) -> None:
    agreement_id = _agreement(store)
    view = guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                           patient_practices=B)
    assert view.allowed and view.basis == f"agreement:{agreement_id}"
    assert guard.search_scope(store, clinician).practice_codes == A | B
    # a "view" agreement does not cover identifiable export, nor another purpose
    assert not guard.authorise(store, clinician, Action.EXPORT_IDENTIFIABLE,
                               patient_id=PATIENT_AT_B, patient_practices=B).allowed
    assert not guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                               patient_practices=B, purpose=Purpose.POPULATION_HEALTH).allowed

    sharing.revoke_agreement(store, agreement_id, revoked_by="admin")
    assert not guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                               patient_practices=B).allowed
    assert guard.search_scope(store, clinician).practice_codes == A


def test_agreement_dates_are_honoured(store: Store, clinician: str) -> None:
    today = now_utc().date()
    _agreement(store, valid_from=today + dt.timedelta(days=1))
    _agreement(store, valid_from=today - dt.timedelta(days=30),
               valid_to=today - dt.timedelta(days=1))
    assert not guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                               patient_practices=B).allowed
    tomorrow = now_utc() + dt.timedelta(days=1)
    assert guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                           patient_practices=B, at=tomorrow).allowed


def test_bad_agreements_are_refused(store: Store) -> None:
    today = now_utc().date()
    for overrides, message in [({"from_practices": ["nope"]}, "ODS"),
                               ({"data_scope": "everything"}, "data scope"),
                               ({"purpose": "marketing"}, "purpose"),
                               ({"valid_to": today - dt.timedelta(days=9)}, "before")]:
        with pytest.raises(SharingError, match=message):
            _agreement(store, **overrides)
    assert sharing.list_agreements(store) == []


# Patient-level actions are tried on a patient of the user's own practice; break-glass has its
# own test because it needs a reason.
MATRIX_ACTIONS = [a for a in Action if a != Action.BREAK_GLASS]


def test_each_role_can_do_exactly_its_documented_actions(store: Store) -> None:
    for role in ORACLE_ROLES:
        accounts.create_user(store, role.replace("_", "-"), role, practice_code="A81001")
    for role, allowed in ORACLE_ROLES.items():
        got = {action.value for action in MATRIX_ACTIONS
               if guard.authorise(store, role.replace("_", "-"), action,
                                  patient_id=PATIENT_AT_A, patient_practices=A).allowed}
        assert got == allowed - {"break_glass"}, role


def test_disabling_a_user_stops_the_next_request(store: Store, clinician: str) -> None:
    principal = accounts.authenticate_token(store, accounts.issue_token(store, clinician))
    assert principal is not None
    assert guard.authorise(store, principal, Action.VIEW_PATIENT, patient_id=PATIENT_AT_A,
                           patient_practices=A).allowed
    accounts.disable_user(store, clinician)
    # the same principal object, as a web session would still hold it
    assert not guard.authorise(store, principal, Action.VIEW_PATIENT, patient_id=PATIENT_AT_A,
                               patient_practices=A).allowed
    assert guard.search_scope(store, principal).is_empty
    refused = audit.events(store)[-1]
    assert (refused.role, refused.outcome, refused.detail["reason"]) == (
        "practice_clinician", "denied", "account disabled")


def test_break_glass_is_granted_with_reason_flagged_and_reviewed(store: Store,
                                                                  clinician: str) -> None:
    accounts.create_user(store, "cd", "clinical_director")
    accounts.create_user(store, "coord", "care_coordinator", practice_code="A81001")
    with pytest.raises(NotFound):  # role without break-glass
        guard.claim_break_glass(store, "coord", PATIENT_AT_B, B, REASON)
    with pytest.raises(NotFound):  # no real reason
        guard.claim_break_glass(store, clinician, PATIENT_AT_B, B, "because")
    assert sharing.grants_to_review(store) == []

    start = now_utc()
    grant = guard.claim_break_glass(store, clinician, PATIENT_AT_B, B, REASON, at=start)
    [pending] = sharing.grants_to_review(store)
    assert (pending.grant_id, pending.username, pending.patient_id, pending.reason) == (
        grant.grant_id, clinician, PATIENT_AT_B, REASON)
    claim = audit.events(store, PATIENT_AT_B)[-1]
    assert (claim.action, claim.outcome) == ("break_glass", "allowed")
    assert claim.detail["claimed_reason"] == REASON and claim.detail["flagged_for_review"]

    during = start + dt.timedelta(hours=1)
    view = guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                           patient_practices=B, at=during)
    assert view.allowed and view.basis == f"break_glass:{grant.grant_id}"
    # only a view in direct care, only this patient, only for a shift
    assert not guard.authorise(store, clinician, Action.EXPORT_IDENTIFIABLE,
                               patient_id=PATIENT_AT_B, patient_practices=B, at=during).allowed
    assert not guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=2003,
                               patient_practices=B, at=during).allowed
    assert not guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                               patient_practices=B, at=start + dt.timedelta(hours=9)).allowed

    with pytest.raises(SharingError, match="someone else"):
        sharing.record_review(store, grant.grant_id, clinician, "appropriate")
    with pytest.raises(NotFound):  # practice clinicians do not review
        guard.review_break_glass(store, clinician, grant.grant_id, "appropriate")
    guard.review_break_glass(store, "cd", grant.grant_id, "inappropriate", "no emergency")
    assert sharing.grants_to_review(store) == []
    [reviewed] = sharing.grants_to_review(store, include_reviewed=True)
    assert (reviewed.reviewed_by, reviewed.review_outcome) == ("cd", "inappropriate")
    # an inappropriate use ends the grant at once
    assert not guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                               patient_practices=B).allowed


def test_network_staff_need_an_agreement_to_the_network(store: Store) -> None:
    accounts.create_user(store, "cd", "clinical_director")
    assert guard.search_scope(store, "cd").is_empty
    _agreement(store, from_practices=["A81001", "B82002"], to_orgs=["network"],
               data_scope="view_and_export")
    assert guard.search_scope(store, "cd").practice_codes == A | B
    assert guard.authorise(store, "cd", Action.EXPORT_IDENTIFIABLE, patient_id=PATIENT_AT_A,
                           patient_practices=A).allowed


def test_unknown_user_is_denied_and_audited(store: Store) -> None:
    assert not guard.authorise(store, "ghost", Action.VIEW_AGGREGATES).allowed
    [event] = audit.events(store)
    assert (event.username, event.role, event.outcome) == ("ghost", "unknown", "denied")


def test_role_or_practice_change_applies_to_the_next_request(store: Store, clinician: str) -> None:
    assert guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_A,
                           patient_practices=A).allowed
    accounts.set_role(store, clinician, "analyst", None)
    assert not guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_A,
                               patient_practices=A).allowed
    accounts.set_role(store, clinician, "practice_clinician", "B82002")
    assert not guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_A,
                               patient_practices=A).allowed
    assert guard.authorise(store, clinician, Action.VIEW_PATIENT, patient_id=PATIENT_AT_B,
                           patient_practices=B).allowed
    with pytest.raises(accounts.AccountError, match="--practice"):
        accounts.set_role(store, clinician, "practice_clinician", None)
