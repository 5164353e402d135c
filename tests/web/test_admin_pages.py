"""Administration in the web app (issue 17): users and roles, token revocation, agreements and
"who viewed this patient"; a real 403 page for roles without the permission; links a role
cannot use are hidden; every change audited."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pcn.store import audit
from tests.web.conftest import WebWorld, csrf_from


def test_admin_manages_users_and_revokes_tokens(clients: dict[str, TestClient],
                                                api: TestClient, web_world: WebWorld) -> None:
    from pcn.store.accounts import issue_token

    admin = clients["admin"]
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "clin_a" in page.text
    made = admin.post("/admin/users", data={"csrf_token": csrf_from(page.text), "op": "create",
                                            "username": "newnurse",
                                            "role": "practice_clinician",
                                            "practice_code": web_world.own})
    assert made.status_code == 200 and 'id="new-password"' in made.text
    token = issue_token(web_world.store, "newnurse", label="t")
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/tasks", headers=auth).status_code == 200
    before = web_world.audit_count()
    revoked = admin.post("/admin/users", data={"csrf_token": csrf_from(made.text),
                                               "op": "revoke", "username": "newnurse"})
    assert revoked.status_code == 303
    assert api.get("/api/tasks", headers=auth).status_code == 401
    actions = [e.action for e in web_world.new_events(before)]
    assert "manage_users" in actions and "revoke_tokens" in actions


def test_audit_viewer_shows_who_viewed_a_patient(clients: dict[str, TestClient],
                                                 web_world: WebWorld) -> None:
    patient = web_world.patient_at(web_world.own)
    clients["clin_a"].get(f"/patients/{patient}")
    html = clients["admin"].get(f"/admin/audit?patient_id={patient}").text
    truth = audit.who_viewed(web_world.store, patient)
    assert 'id="who-viewed"' in html
    assert html.count('<tr class="nhsuk-table__row"><td') == len(truth)
    assert "clin_a" in html


def test_roles_without_permission_get_a_real_403_and_no_links(
        clients: dict[str, TestClient], web_world: WebWorld) -> None:
    before = web_world.audit_count()
    page = clients["clin_a"].get("/admin/users")
    assert page.status_code == 403 and "You do not have permission" in page.text
    assert [(e.action, e.outcome) for e in web_world.new_events(before)] == [
        ("manage_users", "denied")]
    assert 'href="/admin"' not in clients["clin_a"].get("/overview").text
    admin_home = clients["admin"].get("/admin").text
    assert 'href="/overview"' not in admin_home and 'href="/admin/users"' in admin_home
    manager = clients["manager"].get("/admin").text
    assert 'href="/admin/agreements"' in manager and 'href="/admin/users"' in manager
    assert clients["manager"].get("/tasks").status_code == 404  # no task work for a manager
