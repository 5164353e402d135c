"""Issue 16, items 1, 2 and 6 through the app, on SQLite and PostgreSQL: whatever a submitter
sees is the same whatever the record holds about the NHS number or patient id they name; the
public form is rate limited; assignment answers one way for every account it refuses."""

from __future__ import annotations

import re

import pandas as pd
from fastapi.testclient import TestClient

from pcn.config import Settings
from pcn.record import open_record
from tests.web.conftest import WebWorld, csrf_from

#: A fall: the record turns it into a paramedic home visit for a housebound or frail patient.
FALL = "She fell over in the kitchen this morning and her hip hurts"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _supplier(web_world: WebWorld) -> str:
    from pcn.store.accounts import create_user, get_account, issue_token

    if get_account(web_world.store, "intake.system") is None:
        create_user(web_world.store, "intake.system", "integration", password="x" * 20)
    return issue_token(web_world.store, "intake.system")


def _people(web_app, web_world: WebWorld) -> dict[str, pd.Series]:  # type: ignore[no-untyped-def]
    """A housebound or frail patient and one the record knows nothing special about, both
    registered at the first practice (with NHS number and id)."""
    from pcn.web.triage_support import patient_directory

    directory = patient_directory(web_app)
    patients = open_record(web_world.record).read("patients").to_pandas()
    found: dict[str, pd.Series] = {}
    for _, row in patients.iterrows():
        known = directory.match(patient_id=int(row["patient_id"]))
        if known is None or known.practices != frozenset({web_world.own}):
            continue
        context = directory.context(int(row["patient_id"]))
        kind = "frail" if (context.housebound or context.frail) else (
            "plain" if not context.long_term_conditions else "")
        if kind and kind not in found:
            found[kind] = row
        if len(found) == 2:
            return found
    raise AssertionError(f"the twin lacks a frail and a plain patient: {sorted(found)}")


def _submitter_view(body: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in body.items() if k not in ("id", "received_at")}


def test_what_the_submitter_sees_does_not_depend_on_the_record(
        web_app, api, web_world: WebWorld, tokens) -> None:  # type: ignore[no-untyped-def]
    people = _people(web_app, web_world)
    supplier = _supplier(web_world)
    base = {"age": 88, "sex": "F", "text": FALL, "practice_code": web_world.own}
    named = {"frail by NHS number": {"nhs_number": people["frail"]["nhs_number"]},
             "frail by id": {"patient_id": int(people["frail"]["patient_id"])},
             "plain by NHS number": {"nhs_number": people["plain"]["nhs_number"]},
             "unknown NHS number": {"nhs_number": "9990000042"},
             "nobody named": {},
             "next id": {"patient_id": int(people["frail"]["patient_id"]) + 1}}
    answers, ids = {}, {}
    for label, extra in named.items():
        response = api.post("/api/requests", json=base | extra, headers=_auth(supplier))
        assert response.status_code == 201, (label, response.text)
        answers[label] = _submitter_view(response.json())
        ids[label] = response.json()["id"]
    assert all(a == answers["nobody named"] for a in answers.values()), answers
    assert "housebound" not in str(answers["frail by NHS number"])
    # Staff still get the record-aware routing (so this test can tell the difference).
    staff = api.get(f"/api/requests/{ids['frail by NHS number']}",
                    headers=_auth(tokens["clin_a"])).json()
    assert staff["route"] == "paramedic" and "housebound or frail (record)" in staff["explanation"]
    assert answers["nobody named"]["route"] != "paramedic"
    told = next(h for h in staff["history"] if h["action"] == "received")["detail"]
    assert told["told_submitter"]["route"] == answers["nobody named"]["route"]


def _form(client: TestClient, world: WebWorld, **values: str) -> dict[str, str]:
    page = client.get("/request")
    submission = re.search(r'name="submission_id" value="([^"]+)"', page.text)
    assert submission
    return {"csrf_token": csrf_from(page.text), "submission_id": submission.group(1),
            "name": "Ann Example", "dob[day]": "3", "dob[month]": "4", "dob[year]": "1938",
            "sex": "F", "practice_code": world.own, "nhs_number": "", "text": FALL} | values


def _answer_page(html: str) -> str:
    main = html[html.index('id="outcome-heading"'):html.index("Send another request")]
    # the reference number differs from one request to the next, nothing else may
    return re.sub(r'(id="request-reference">|\(reference )\d+', r"\1N", main)


def test_the_public_form_answers_the_same_whatever_the_record_holds(
        web_app, web_world: WebWorld) -> None:
    people = _people(web_app, web_world)
    client = TestClient(web_app, follow_redirects=False)
    pages = {}
    for practice in (web_world.own, web_world.other):
        for label, number in (("frail", str(people["frail"]["nhs_number"])),
                              ("plain", str(people["plain"]["nhs_number"])),
                              ("unknown", "9990000042"), ("none", "")):
            response = client.post("/request", data=_form(client, web_world, nhs_number=number,
                                                          practice_code=practice))
            assert response.status_code == 200, (practice, label, response.status_code)
            pages[(practice, label)] = _answer_page(response.text)
    for practice in (web_world.own, web_world.other):
        same = {page for (chosen, _), page in pages.items() if chosen == practice}
        assert len(same) == 1, "the answer depends on who the NHS number names"
    # A practice outside the network is refused the same way for any NHS number.
    refusals = set()
    for number in (str(people["frail"]["nhs_number"]), "9990000042", ""):
        response = client.post("/request", data=_form(client, web_world, nhs_number=number,
                                                      practice_code="Y99999"))
        refusals.add((response.status_code, "not a practice of this network" in response.text))
    assert refusals == {(422, True)}


def test_the_api_refuses_an_outside_practice_the_same_for_every_nhs_number(
        api, web_app, web_world: WebWorld) -> None:  # type: ignore[no-untyped-def]
    people = _people(web_app, web_world)
    supplier = _supplier(web_world)
    bodies = set()
    for number in (str(people["frail"]["nhs_number"]), "9990000042", None):
        body = {"age": 40, "sex": "F", "text": FALL, "practice_code": "Y99999"}
        if number:
            body["nhs_number"] = number
        response = api.post("/api/requests", json=body, headers=_auth(supplier))
        bodies.add((response.status_code, response.text))
    assert len(bodies) == 1 and next(iter(bodies))[0] == 422


def test_anonymous_submissions_are_rate_limited_per_client(web_world: WebWorld) -> None:
    from pcn.web.app import create_app

    settings = Settings(secret_key="test-secret-key-0123456789abcdef", debug=False,
                        public_requests_per_hour=3)
    app = create_app(web_world.record, store=web_world.store, settings=settings)
    client = TestClient(app, follow_redirects=False)
    statuses = [client.post("/request", data=_form(client, web_world)).status_code
                for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.post("/request", data=_form(client, web_world))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Please wait" in refused.text and "999" in refused.text
    other = TestClient(app, follow_redirects=False, client=("203.0.113.7", 50000))
    assert other.post("/request", data=_form(other, web_world)).status_code == 200


def test_assignment_by_page_and_api_answers_the_same_for_every_refused_account(
        api, clients, web_world: WebWorld, tokens) -> None:  # type: ignore[no-untyped-def]
    supplier = _supplier(web_world)
    created = api.post("/api/requests", json={"age": 40, "sex": "F", "text": FALL,
                                              "practice_code": web_world.own},
                       headers=_auth(supplier))
    request_id = created.json()["id"]
    answers = set()
    for assignee in ("admin", "analyst", "manager", "clin_b", "no.such.person"):
        response = api.post(f"/api/requests/{request_id}/assign", json={"user": assignee},
                            headers=_auth(tokens["clin_a"]))
        assert response.status_code == 422, (assignee, response.text)
        answers.add(response.text)
        assert assignee not in response.text
    assert len(answers) == 1
    client = clients["clin_a"]
    page = client.get(f"/triage/{request_id}")
    before = web_world.audit_count()
    refused = client.post(f"/triage/{request_id}/assign",
                          data={"csrf_token": csrf_from(page.text), "user": "admin"})
    assert refused.status_code == 422 and "works this practice" in refused.text
    assert len(web_world.new_events(before)) == 1  # the assign attempt, nothing more
    assert api.post(f"/api/requests/{request_id}/assign", json={"user": "clin_a"},
                    headers=_auth(tokens["clin_a"])).status_code == 200
