"""``/api/requests`` and the request pages over HTTP: 201 with the decision, idempotent replay
(also across an app restart), 409 on key reuse, 422 naming the field, 404 for anything out of
scope, one audit event per staff action, CSRF on the form, escaped patient text (issue 6)."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pcn.config import Settings
from pcn.store.accounts import create_user, issue_token
from pcn.store.database import Store
from pcn.store.models import TriageRequestRow
from tests.web.conftest import PASSWORD, WebWorld, csrf_from

CHEST = "crushing chest pain spreading to my left arm"
ROUTINE_GP = "I would like to talk to someone about HRT for my menopause symptoms"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def supplier(web_world: WebWorld) -> str:
    create_user(web_world.store, "supplier", "integration", password=PASSWORD)
    return issue_token(web_world.store, "supplier", label="online consultation supplier")


def _rows(store: Store) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(TriageRequestRow)) or 0)


def _body(world: WebWorld, text: str = ROUTINE_GP, **extra: object) -> dict[str, object]:
    return {"age": 40, "sex": "F", "text": text, "practice_code": world.own, **extra}


def _post(api: TestClient, token: str, body: dict[str, object],
          key: str | None = None) -> object:
    headers = _auth(token) | ({"Idempotency-Key": key} if key else {})
    return api.post("/api/requests", content=json.dumps(body),
                    headers=headers | {"Content-Type": "application/json"})


def test_openapi_lists_the_request_routes(api, tokens) -> None:  # type: ignore[no-untyped-def]
    paths = api.get("/openapi.json", headers=_auth(tokens["analyst"])).json()["paths"]
    for path in ("/api/requests", "/api/requests/{request_id}",
                 "/api/requests/{request_id}/accept", "/api/requests/{request_id}/override",
                 "/api/requests/{request_id}/assign", "/api/requests/{request_id}/close"):
        assert path in paths, path
    post = paths["/api/requests"]["post"]
    assert "201" in post["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "/request" not in paths and "/triage" not in paths


def test_emergency_request_gets_201_and_999_advice_at_once(api, web_world: WebWorld,
                                                           supplier: str) -> None:
    before = _rows(web_world.store)
    response = _post(api, supplier, _body(web_world, CHEST, age=60))
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["urgency"] == "emergency" and answer["route"] == "emergency_services"
    assert "chest_pain_cardiac" in answer["red_flags"]
    assert "999" in answer["advice"] and answer["explanation"]
    assert response.headers["location"] == f"/api/requests/{answer['id']}"
    assert _rows(web_world.store) == before + 1  # committed before the 201


def test_same_key_same_body_replays_identically_even_after_a_restart(
        api, web_world: WebWorld, supplier: str) -> None:
    from pcn.web.app import create_app

    before = _rows(web_world.store)
    body = _body(web_world, "my knee aches when I run")
    first = _post(api, supplier, body, key="retry-1")
    again = _post(api, supplier, body, key="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    # a new app process over the same store (a restart) still knows the key
    restarted_store = Store(web_world.store.url)
    try:
        app = create_app(web_world.record, store=restarted_store,
                         settings=Settings(secret_key="another-secret-key-0123456789", debug=False))
        third = _post(TestClient(app), supplier, body, key="retry-1")
    finally:
        restarted_store.dispose()
    assert third.status_code == 201 and third.content == first.content
    assert _rows(web_world.store) == before + 1


def test_same_key_different_body_is_409_and_writes_nothing(api, web_world: WebWorld,
                                                           supplier: str) -> None:
    assert _post(api, supplier, _body(web_world), key="reused").status_code == 201
    before = _rows(web_world.store)
    response = _post(api, supplier, _body(web_world, "a different message"), key="reused")
    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert _rows(web_world.store) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"text": ""}, "text"), ({"sex": "X"}, "sex"), ({"age": -1}, "age"),
    ({"nhs_number": "1234567890"}, "nhs_number"), ({"practice_code": "Z99999"}, "practice_code"),
    ({"colour": "blue"}, "colour"), ({"text": "x" * 5001}, "text"),
    ({"text": "pain\u0000"}, "text"), ({"patient_id": 2**70}, "patient_id"),
])
def test_bad_input_is_422_naming_the_field(api, web_world: WebWorld, supplier: str,
                                           change: dict[str, object], field: str) -> None:
    before = _rows(web_world.store)
    response = _post(api, supplier, _body(web_world) | change, key=f"bad-{field}")
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert any(p["field"].split(".")[-1] == field and p["problem"] for p in problems), problems
    assert _rows(web_world.store) == before


def test_missing_field_and_oversized_body(api, web_world: WebWorld, supplier: str) -> None:
    response = _post(api, supplier, {"age": 30, "sex": "M"})
    assert response.status_code == 422
    assert "body.text" in [p["field"] for p in response.json()["problems"]]
    huge = api.post("/api/requests", content=b"{" + b" " * 70_000 + b"}",
                    headers=_auth(supplier) | {"Content-Type": "application/json"})
    assert huge.status_code == 413


def test_who_may_submit(api, web_world: WebWorld, tokens: dict[str, str]) -> None:
    assert api.post("/api/requests", json=_body(web_world)).status_code == 401
    assert _post(api, tokens["analyst"], _body(web_world)).status_code == 404
    assert _post(api, tokens["clin_a"], _body(web_world)).status_code == 201


def test_queue_actions_by_api_with_one_audit_event_each(api, web_world: WebWorld,
                                                        supplier: str,
                                                        tokens: dict[str, str]) -> None:
    request_id = _post(api, supplier, _body(web_world)).json()["id"]
    clin = _auth(tokens["clin_a"])
    queue = api.get("/api/requests", headers=clin).json()["requests"]
    assert request_id in [r["id"] for r in queue]
    steps = [("override", {"urgency": "urgent", "route": "anp",
                           "reason": "worsening, wants same-day review"}),
             ("assign", {"user": "clin_a", "role": "anp"}),
             ("close", {"outcome": "Seen by ANP; migraine; advice given"})]
    for action, body in steps:
        before = web_world.audit_count()
        response = api.post(f"/api/requests/{request_id}/{action}", json=body, headers=clin)
        assert response.status_code == 200, response.text
        events = web_world.new_events(before)
        assert [(e.action, e.outcome) for e in events] == [("sign_in", "ok"),
                                                            ("triage_work", "allowed")]
        assert events[1].detail["op"] == action and events[1].detail["request_id"] == request_id
    final = api.get(f"/api/requests/{request_id}", headers=clin).json()
    assert (final["status"], final["final_urgency"], final["final_route"]) == (
        "closed", "urgent", "anp")
    assert [h["action"] for h in final["history"]] == ["received", "override", "assign", "close"]
    again = api.post(f"/api/requests/{request_id}/accept", json={}, headers=clin)
    assert again.status_code == 409


def test_override_needs_a_reason(api, web_world: WebWorld, supplier: str,
                                 tokens: dict[str, str]) -> None:
    request_id = _post(api, supplier, _body(web_world)).json()["id"]
    response = api.post(f"/api/requests/{request_id}/override", headers=_auth(tokens["clin_a"]),
                        json={"urgency": "urgent", "route": "gp", "reason": "no"})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == "reason"


def test_other_practice_gets_the_same_404_as_a_missing_request(
        api, web_world: WebWorld, supplier: str, tokens: dict[str, str]) -> None:
    request_id = _post(api, supplier, _body(web_world)).json()["id"]
    other = _auth(tokens["clin_b"])
    refused = api.get(f"/api/requests/{request_id}", headers=other)
    missing = api.get("/api/requests/99999999", headers=other)
    odd = api.get("/api/requests/%C2%B2", headers=other)  # "²" is a digit to str.isdigit
    assert refused.status_code == missing.status_code == odd.status_code == 404
    assert refused.content == missing.content == odd.content
    before = web_world.audit_count()
    close = api.post(f"/api/requests/{request_id}/accept", json={}, headers=other)
    assert close.status_code == 404
    assert [(e.action, e.outcome) for e in web_world.new_events(before)] == [
        ("sign_in", "ok"), ("triage_work", "denied")]
    assert request_id not in [r["id"] for r in
                              api.get("/api/requests", headers=other).json()["requests"]]
    assert api.get("/api/requests", headers=_auth(tokens["analyst"])).status_code == 404


# ---- the public form and the staff pages -------------------------------------------------
def _form(client: TestClient, world: WebWorld, text: str) -> dict[str, str]:
    page = client.get("/request")
    assert page.status_code == 200
    submission = re.search(r'name="submission_id" value="([^"]+)"', page.text)
    assert submission
    return {"csrf_token": csrf_from(page.text), "submission_id": submission.group(1),
            "name": "Ann Example", "dob[day]": "3", "dob[month]": "4", "dob[year]": "1980",
            "sex": "F", "practice_code": world.own, "nhs_number": "", "text": text}


def test_form_needs_csrf_and_sends_once(web_app, web_world: WebWorld) -> None:
    client = TestClient(web_app, follow_redirects=False)
    data = _form(client, web_world, ROUTINE_GP)
    before = _rows(web_world.store)
    forged = client.post("/request", data=data | {"csrf_token": "forged"})
    assert forged.status_code == 400 and _rows(web_world.store) == before
    sent = client.post("/request", data=data)
    assert sent.status_code == 200 and "Request sent" in sent.text
    twice = client.post("/request", data=data)  # a double click or a refresh
    assert twice.status_code == 200 and _rows(web_world.store) == before + 1
    reference = re.search(r'id="request-reference">(\d+)<', sent.text)
    assert reference and reference.group(1) in twice.text


def test_form_shows_999_at_once_for_a_red_flag(web_app, web_world: WebWorld) -> None:
    client = TestClient(web_app, follow_redirects=False)
    page = client.post("/request", data=_form(client, web_world, CHEST))
    assert page.status_code == 200
    assert '<h1 class="nhsuk-heading-l" id="outcome-heading">Call 999 now</h1>' in page.text


def test_form_errors_name_the_fields(web_app, web_world: WebWorld) -> None:
    client = TestClient(web_app, follow_redirects=False)
    data = _form(client, web_world, "") | {"dob[month]": "13", "sex": ""}
    page = client.post("/request", data=data)
    assert page.status_code == 422
    for message in ("Tell us what you need help with", "Date of birth must be a real date",
                    "Select female or male"):
        assert message in page.text


def test_patient_text_is_stored_as_given_and_rendered_escaped(
        web_app, web_world: WebWorld, clients: dict[str, TestClient]) -> None:
    attack = "<script>alert('x')</script><img src=x onerror=alert(1)> my ear hurts"
    client = TestClient(web_app, follow_redirects=False)
    done = client.post("/request", data=_form(client, web_world, attack))
    request_id = re.search(r'id="request-reference">(\d+)<', done.text).group(1)  # type: ignore[union-attr]
    with web_world.store.read() as session:
        assert session.get(TriageRequestRow, int(request_id)).text == attack  # type: ignore[union-attr]
    for path in ("/triage", f"/triage/{request_id}"):
        page = clients["clin_a"].get(path)
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;" in page.text


def test_triage_pages_for_clinical_roles_only(clients: dict[str, TestClient]) -> None:
    assert clients["analyst"].get("/triage").status_code == 404
    assert 'href="/triage"' not in clients["analyst"].get("/overview").text
    page = clients["clin_a"].get("/triage")
    assert page.status_code == 200 and 'href="/triage"' in page.text
    ranks = ["emergency", "urgent", "routine", "self_care"]
    seen = [ranks.index(u) for u in re.findall(r'data-urgency="(\w+)"', page.text)]
    assert seen and seen == sorted(seen)


def test_override_on_the_page_needs_a_reason(web_world: WebWorld, supplier: str, api,
                                             clients: dict[str, TestClient]) -> None:
    request_id = _post(api, supplier, _body(web_world)).json()["id"]
    client = clients["clin_a"]
    page = client.get(f"/triage/{request_id}")
    token = csrf_from(page.text)
    refused = client.post(f"/triage/{request_id}/override",
                          data={"csrf_token": token, "urgency": "urgent", "route_to": "gp",
                                "reason": ""})
    assert refused.status_code == 422 and "give the reason" in refused.text.lower()
    done = client.post(f"/triage/{request_id}/override",
                       data={"csrf_token": token, "urgency": "urgent", "route_to": "gp",
                             "reason": "sounds worse than the engine thought"})
    assert done.status_code == 303
    assert "Decision overridden" in client.get(done.headers["location"]).text
    assert clients["clin_b"].get(f"/triage/{request_id}").status_code == 404


def test_known_patient_request_goes_to_their_registered_practice(
        api, web_world: WebWorld, supplier: str, tokens: dict[str, str]) -> None:
    from pcn.record import open_record

    patient = web_world.patient_at(web_world.other)
    patients = open_record(web_world.record).read("patients").to_pandas()
    nhs_number = str(patients.loc[patients["patient_id"] == patient, "nhs_number"].iloc[0])
    # sent to the wrong practice: the record's registration decides whose request it is
    answer = _post(api, supplier, _body(web_world, nhs_number=nhs_number)).json()
    assert "continuity:" not in answer["explanation"] and "capacity:" not in answer["explanation"]
    mine = api.get(f"/api/requests/{answer['id']}", headers=_auth(tokens["clin_b"]))
    assert mine.status_code == 200
    assert (mine.json()["patient_id"], mine.json()["practice_code"]) == (patient, web_world.other)
    assert api.get(f"/api/requests/{answer['id']}",
                   headers=_auth(tokens["clin_a"])).status_code == 404
    # an unknown (but valid) NHS number is simply not matched, and the answer does not say so
    unknown = _post(api, supplier, _body(web_world, nhs_number="9990000042"))
    assert unknown.status_code == 201 and "9990000042" not in unknown.text
