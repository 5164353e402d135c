"""Sign-in attempts are audited, one event each, failures included (TRUST.md row 5); secrets never
reach the trail."""

from __future__ import annotations

import json

from pcn.access import guard
from pcn.store import accounts, audit
from pcn.store.database import Store


def test_password_and_token_sign_ins_are_audited_without_secrets(store: Store) -> None:
    _, password = accounts.create_user(store, "gp.a", "practice_clinician",
                                       practice_code="A81001")
    assert password is not None
    token = accounts.issue_token(store, "gp.a")

    assert guard.sign_in(store, "gp.a", password) is not None
    assert guard.sign_in(store, "gp.a", "wrong password!") is None
    assert guard.sign_in(store, "nobody", "whatever pass") is None
    assert guard.sign_in_token(store, token) is not None
    assert guard.sign_in_token(store, token + "x") is None

    events = audit.events(store)
    assert [(e.action, e.username, e.outcome) for e in events] == [
        ("sign_in", "gp.a", "ok"), ("sign_in", "gp.a", "failed"), ("sign_in", "nobody", "failed"),
        ("sign_in", "gp.a", "ok"), ("sign_in", "unknown", "failed")]
    assert events[0].role == "practice_clinician" and events[1].role == "unknown"
    trail = json.dumps([e.detail for e in events]) + " ".join(e.username for e in events)
    secret = token.split("_", 2)[2]
    assert password not in trail and secret not in trail and "wrong password!" not in trail
