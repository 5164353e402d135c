"""Demo accounts: every printed login works, scopes are as documented, re-running adds nothing."""

from __future__ import annotations

from pcn.access import guard
from pcn.store import accounts, sharing
from pcn.store.database import Store
from pcn.store.demo import seed_demo

PRACTICES = ["A81016", "A81020", "A81023"]


def test_demo_logins_work_and_scopes_follow_the_agreements(store: Store) -> None:
    logins = seed_demo(store, PRACTICES)
    assert {login.role for login in logins} == {"clinical_director", "pcn_manager",
                                                "care_coordinator", "analyst", "admin",
                                                "practice_clinician"}
    for login in logins:
        assert accounts.authenticate(store, login.username, login.password) is not None
    assert guard.search_scope(store, "demo.director").practice_codes == set(PRACTICES)
    assert guard.search_scope(store, "demo.coordinator").practice_codes == set(PRACTICES)
    assert guard.search_scope(store, "demo.gp.a81020").practice_codes == {"A81020"}
    assert guard.search_scope(store, "demo.analyst").is_empty

    again = seed_demo(store, PRACTICES)
    assert len(accounts.list_users(store)) == len(logins) == len(again)
    assert len(sharing.list_agreements(store)) == 2
    old = {login.username: login.password for login in logins}
    for login in again:  # passwords were reset, and the new ones work
        assert accounts.authenticate(store, login.username, login.password) is not None
        assert accounts.authenticate(store, login.username, old[login.username]) is None
