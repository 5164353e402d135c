"""TRUST rows 1, 3 and 5 through the web edges: uniform 404, one audit event per request."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import WORKLIST, WebWorld


def _access(events):  # type: ignore[no-untyped-def]
    """Events about data (an API request also writes the guard's ``sign_in`` for its token)."""
    return [e for e in events if e.action != "sign_in"]


def _get(clients, api, tokens, channel: str, user: str, path: str):  # type: ignore[no-untyped-def]
    if channel == "page":
        return clients[user].get(path)
    return api.get(f"/api{path}", headers={"Authorization": f"Bearer {tokens[user]}"})


@pytest.mark.parametrize("channel", ["page", "api"])
def test_other_practice_patient_is_the_same_404_as_no_patient(
        clients, api, tokens, web_world: WebWorld, channel: str) -> None:
    other_patient = web_world.patient_at(web_world.other)
    missing = 10**12  # no such patient in any record
    before = web_world.audit_count()
    denied = _get(clients, api, tokens, channel, "clin_a", f"/patients/{other_patient}")
    events = _access(web_world.new_events(before))
    unknown = _get(clients, api, tokens, channel, "clin_a", f"/patients/{missing}")
    junk = _get(clients, api, tokens, channel, "clin_a", "/patients/not-a-number")

    assert denied.status_code == unknown.status_code == junk.status_code == 404
    assert denied.content == unknown.content == junk.content
    assert str(other_patient) not in denied.text
    assert len(events) == 1
    event = events[0]
    assert (event.username, event.role, event.practice_code, event.patient_id, event.action,
            event.outcome) == ("clin_a", "practice_clinician", web_world.own, other_patient,
                               "view_patient", "denied")
    assert event.occurred_at is not None


@pytest.mark.parametrize("channel", ["page", "api"])
def test_own_practice_patient_view_writes_one_allowed_event(
        clients, api, tokens, web_world: WebWorld, channel: str) -> None:
    patient = web_world.patient_at(web_world.own)
    before = web_world.audit_count()
    response = _get(clients, api, tokens, channel, "clin_a", f"/patients/{patient}")
    events = _access(web_world.new_events(before))
    assert response.status_code == 200
    assert [(e.action, e.outcome, e.patient_id) for e in events] == [
        ("view_patient", "allowed", patient)]


@pytest.mark.parametrize("user", ["analyst", "manager", "admin"])
def test_non_clinical_roles_never_see_a_patient(clients, api, tokens, web_world: WebWorld,
                                                user: str) -> None:
    patient = web_world.patient_at(web_world.own)
    for channel in ("page", "api"):
        before = web_world.audit_count()
        assert _get(clients, api, tokens, channel, user, f"/patients/{patient}").status_code \
            == 404
        assert [e.outcome for e in _access(web_world.new_events(before))] == ["denied"]


def test_network_staff_see_only_practices_sharing_with_them(clients, web_world: WebWorld
                                                            ) -> None:
    shared = web_world.patient_at(web_world.practices[2])
    not_shared = web_world.patient_at(web_world.own)
    assert clients["director"].get(f"/patients/{shared}").status_code == 200
    assert clients["coordinator"].get(f"/patients/{shared}").status_code == 200
    assert clients["director"].get(f"/patients/{not_shared}").status_code == 404


def test_care_coordinator_may_list_but_not_export(clients, web_world: WebWorld) -> None:
    assert clients["coordinator"].get(f"/worklists/{WORKLIST}").status_code == 200
    before = web_world.audit_count()
    assert clients["coordinator"].get(f"/worklists/{WORKLIST}/export.csv").status_code == 404
    assert len(web_world.new_events(before)) == 1


def test_worklist_for_another_practice_is_empty_by_page_and_api(clients, api, tokens,
                                                                web_world: WebWorld) -> None:
    page = clients["clin_a"].get(f"/worklists/{WORKLIST}?practice_code={web_world.other}")
    assert "0 patients you can see" in page.text
    response = api.get(f"/api/worklists/{WORKLIST}", params={"practice": web_world.other},
                       headers={"Authorization": f"Bearer {tokens['clin_a']}"})
    assert response.status_code == 200 and response.json()["total"] == 0
    own = api.get(f"/api/worklists/{WORKLIST}",
                  headers={"Authorization": f"Bearer {tokens['clin_a']}"}).json()
    assert own["total"] == int((web_world.worklist["practice_code"] == web_world.own).sum())
    assert {r["practice_code"] for r in own["rows"]} == {web_world.own}


ROUTES = ["/overview", "/indicators/dna_rate", "/continuity", "/inequalities", "/worklists",
          f"/worklists/{WORKLIST}", f"/worklists/{WORKLIST}/export.csv"]


@pytest.mark.parametrize("path", ROUTES)
def test_every_page_request_writes_exactly_one_audit_event(clients, web_world: WebWorld,
                                                           path: str) -> None:
    before = web_world.audit_count()
    clients["clin_a"].get(path)
    events = web_world.new_events(before)
    assert len(events) == 1 and events[0].username == "clin_a"


def test_audit_chain_still_verifies_after_the_suite_requests(clients, web_world: WebWorld
                                                             ) -> None:
    from pcn.store import audit

    clients["clin_a"].get("/overview")
    assert audit.verify(web_world.store).ok


def test_edges_reach_identifiable_data_only_through_guarded() -> None:
    """No page or API route reads a worklist or a patient from the view except via guarded."""
    import inspect

    import pcn.api.routes
    import pcn.web.pages

    for module in (pcn.web.pages, pcn.api.routes):
        source = inspect.getsource(module)
        for call in (".worklist(", ".patient_summary(", ".patients", ".appointments",
                     ".hospital_activity", ".registrations", "._rows_of(", ".profile"):
            offenders = [line.strip() for line in source.splitlines()
                         if call in line and "guarded." not in line]
            assert not offenders, f"{module.__name__} bypasses guarded: {offenders}"


def test_every_data_route_writes_exactly_one_event_allowed_or_denied(
        clients, api, tokens, web_app, web_world: WebWorld) -> None:
    """TRUST row 5 over every GET route the app has (discovered, so new routes are covered):
    each request about data writes exactly one event naming who, role, practice, action,
    outcome, time and sequence, whether it is allowed or refused."""

    from tests.web.test_security import app_routes

    own = web_world.patient_at(web_world.own)
    other = web_world.patient_at(web_world.other)
    # /request: the public form; the API's description and a stylesheet hold no data
    # /readings/{token}: the patient page by link (audited under the link, not a session)
    no_data = {"/", "/sign-in", "/sign-out", "/request", "/readings/{token}", "/api/docs",
               "/openapi.json",
               "/static/local/nhsuk-frontend.css"}
    routes = sorted({p for p, methods in app_routes(web_app.routes) if "GET" in methods}
                    - no_data)
    assert len(routes) >= 10
    checked = 0
    for path in routes:
        for patient, user in ((own, "clin_a"), (other, "clin_a"), (own, "analyst")):
            values = {"patient_id": str(patient), "worklist_id": WORKLIST,
                      "indicator_id": "dna_rate"}
            url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m, v=values: v.get(m.group(1), "x"), path)
            # Searches with their required parameter (a malformed one is a 4xx, not a search).
            url += {"/fhir/Observation": f"?patient={patient}",
                    "/fhir/CarePlan": f"?patient={patient}",
                    "/fhir/Task": f"?patient={patient}",
                    "/fhir/Patient": f"?identifier={patient}"}.get(path, "")
            before = web_world.audit_count()
            if path.startswith(("/api/", "/fhir")):
                api.get(url, headers={"Authorization": f"Bearer {tokens[user]}"})
            else:
                clients[user].get(url)
            events = _access(web_world.new_events(before))
            assert len(events) == 1, (url, user, [(e.action, e.outcome) for e in events])
            event = events[0]
            assert event.username == user and event.role and event.action and event.seq
            assert event.outcome in ("allowed", "denied") and event.occurred_at is not None
            checked += 1
    assert checked == 3 * len(routes)


def _disclosed(response, nhs_to_patient: dict[str, int]) -> set[int]:  # type: ignore[no-untyped-def]
    """Patients a response shows: ``patient_id`` fields and FHIR Patient resources/references
    in JSON, patient links and NHS numbers in HTML, the ``patient_id`` column of a CSV."""
    import csv
    import io
    import json

    found: set[int] = set()
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        def walk(node: object) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("patient_id"), int):
                    found.add(node["patient_id"])
                if node.get("resourceType") == "Patient" and str(node.get("id", "")).isdigit():
                    found.add(int(node["id"]))
                ref = node.get("reference")
                if isinstance(ref, str) and ref.startswith("Patient/") and ref[8:].isdigit():
                    found.add(int(ref[8:]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        walk(json.loads(response.text))
    elif "csv" in kind:
        rows = list(csv.DictReader(io.StringIO(response.text)))
        found |= {int(r["patient_id"]) for r in rows if r.get("patient_id", "").isdigit()}
    else:
        found |= {int(p) for p in re.findall(r'/patients/(\d+)', response.text)}
    found |= {pid for number, pid in nhs_to_patient.items() if number in response.text}
    return found


def test_every_disclosure_names_each_patient_in_its_audit_event(
        clients, api, tokens, web_app, web_world: WebWorld) -> None:
    """Issue 16, item 5: `GET /fhir/Patient?identifier=` returned a patient but its event named
    nobody, so `pcn audit who-viewed` missed it. Over every GET route (discovered), every
    patient a response shows must be named by that request's one event."""
    from pcn.record import open_record
    from pcn.store import audit
    from tests.web.test_security import app_routes

    patients = open_record(web_world.record).read("patients").to_pandas()
    nhs_to_patient = dict(zip(patients["nhs_number"].astype(str),
                              patients["patient_id"].astype(int), strict=True))
    own, shared = web_world.patient_at(web_world.own), web_world.patient_at(web_world.practices[2])
    number = {pid: nhs for nhs, pid in nhs_to_patient.items()}
    # A triage request matched to a patient, so the queue shows one.
    from pcn.store.accounts import create_user, get_account, issue_token

    if get_account(web_world.store, "disclosure.feed") is None:
        create_user(web_world.store, "disclosure.feed", "integration", password="x" * 20)
    submitted = api.post("/api/requests", json={
        "age": 50, "sex": "F", "text": "a rash on my arm for a week",
        "practice_code": web_world.own, "nhs_number": number[own]},
        headers={"Authorization": f"Bearer {issue_token(web_world.store, 'disclosure.feed')}"})
    assert submitted.status_code == 201
    # /readings/{token}: the patient page by link (audited under the link, not a session)
    no_data = {"/", "/sign-in", "/sign-out", "/request", "/readings/{token}", "/api/docs",
               "/openapi.json",
               "/static/local/nhsuk-frontend.css"}
    routes = sorted({p for p, methods in app_routes(web_app.routes) if "GET" in methods}
                    - no_data)
    disclosures = 0
    named_by_search = False
    for path in routes:
        for patient, user in ((own, "clin_a"), (shared, "director")):
            values = {"patient_id": str(patient), "worklist_id": WORKLIST,
                      "indicator_id": "dna_rate", "request_id": str(submitted.json()["id"])}
            url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m, v=values: v.get(m.group(1), "x"), path)
            url += {"/fhir/Observation": f"?patient={patient}",
                    "/fhir/CarePlan": f"?patient={patient}",
                    "/fhir/Task": f"?patient={patient}",
                    "/fhir/Patient": f"?identifier={number[patient]}"}.get(path, "")
            before = web_world.audit_count()
            if path.startswith(("/api/", "/fhir")):
                response = api.get(url, headers={"Authorization": f"Bearer {tokens[user]}"})
            else:
                response = clients[user].get(url)
            events = _access(web_world.new_events(before))
            assert len(events) == 1, (url, user)
            shown = _disclosed(response, nhs_to_patient) if response.status_code == 200 else set()
            listed = events[0].detail.get("patient_ids", [])
            missing = sorted(p for p in shown if p != events[0].patient_id and p not in listed)
            assert not missing, (url, user, missing[:5], events[0].patient_id)
            disclosures += len(shown)
            named_by_search |= path == "/fhir/Patient" and patient in shown
            for pid in list(shown)[:3]:  # and "who viewed my record" lists this request
                assert events[0].seq in {a.seq for a in audit.who_viewed(web_world.store, pid)}
    assert named_by_search, "the FHIR search found nobody: the test would prove nothing"
    assert disclosures > 50
