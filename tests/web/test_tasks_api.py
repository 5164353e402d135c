"""``/api/tasks`` over HTTP (issue 17 contract): 201 with an id, idempotent replay, 409 on a
second open task or key reuse, 422 naming the field, 404 for anything out of scope (one denied
audit event), PATCH through the status rules to a coded outcome; and follow-through: after
``pcn run`` the patient is no longer on ``GET /api/worklists/W``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pcn.analytics.run import outputs_path
from tests.web.conftest import WebWorld

SMR = "1239511000000100"
WORKLIST = "smr_candidates"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _json(headers: dict[str, str]) -> dict[str, str]:
    return headers | {"Content-Type": "application/json"}


def _smr_patients(record: Path, practice: str) -> list[int]:
    frame = pd.read_parquet(outputs_path(record) / "worklists" / f"{WORKLIST}.parquet")
    return [int(p) for p in frame.loc[frame["practice_code"] == practice, "patient_id"]]


def _events(world: WebWorld, since: int) -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in world.new_events(since) if e.action != "sign_in"]


def test_openapi_lists_the_task_routes(api: TestClient, tokens: dict[str, str]) -> None:
    paths = api.get("/openapi.json", headers=_auth(tokens["analyst"])).json()["paths"]
    assert {"post", "get"} <= set(paths["/api/tasks"])
    assert {"get", "patch"} <= set(paths["/api/tasks/{task_id}"])


def test_create_list_and_close_a_worklist_task(api: TestClient, tokens: dict[str, str],
                                               web_world: WebWorld) -> None:
    patient = _smr_patients(web_world.record, web_world.own)[0]
    auth = _auth(tokens["clin_a"])
    before = web_world.audit_count()
    made = api.post("/api/tasks", headers=_json(auth), content=json.dumps(
        {"patient_id": patient, "worklist": WORKLIST, "owner": "clinical_pharmacist"}))
    assert made.status_code == 201, made.text
    task_id = made.json()["id"]
    assert made.headers["location"] == f"/api/tasks/{task_id}"
    assert _events(web_world, before) == [("triage_work", "allowed")]

    again = api.post("/api/tasks", headers=_json(auth), content=json.dumps(
        {"patient_id": patient, "worklist": WORKLIST}))
    assert again.status_code == 409 and str(task_id) in again.json()["detail"]

    listed = api.get(f"/api/tasks?worklist={WORKLIST}&owner=clinical_pharmacist",
                     headers=auth).json()
    assert task_id in [t["id"] for t in listed["tasks"]]
    other = api.get(f"/api/tasks?worklist={WORKLIST}", headers=_auth(tokens["clin_b"])).json()
    assert task_id not in [t["id"] for t in other["tasks"]]

    # done on a worklist that a code satisfies needs the code
    bare = api.patch(f"/api/tasks/{task_id}", headers=_json(auth),
                     content=json.dumps({"status": "done"}))
    assert bare.status_code == 422
    assert bare.json()["problems"][0]["field"] == "outcome_code"
    wrong = api.patch(f"/api/tasks/{task_id}", headers=_json(auth),
                      content=json.dumps({"status": "done", "outcome_code": "183944003"}))
    assert wrong.status_code == 422 and "declined" in wrong.json()["problems"][0]["problem"]
    unable = api.patch(f"/api/tasks/{task_id}", headers=_json(auth),
                       content=json.dumps({"status": "unable_to_contact"}))
    assert unable.status_code == 422

    tried = api.patch(f"/api/tasks/{task_id}", headers=_json(auth),
                      content=json.dumps({"contact_attempt": True, "notes": "no answer"}))
    assert tried.status_code == 200
    assert (tried.json()["status"], tried.json()["attempts"]) == ("in_progress", 1)

    before = web_world.audit_count()
    done = api.patch(f"/api/tasks/{task_id}", headers=_json(auth),
                     content=json.dumps({"status": "done", "outcome_code": SMR}))
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["outcome_code"], body["outcome_term"]) == (
        "done", SMR, "Structured medication review")
    assert [h["action"] for h in body["history"]] == ["created", "attempt", "closed"]
    assert _events(web_world, before) == [("triage_work", "allowed")]
    closed = api.patch(f"/api/tasks/{task_id}", headers=_json(auth),
                       content=json.dumps({"notes": "late note"}))
    assert closed.status_code == 409


def test_out_of_scope_and_unknown_look_the_same(api: TestClient, tokens: dict[str, str],
                                                web_world: WebWorld) -> None:
    theirs = _smr_patients(web_world.record, web_world.other)[0]
    auth = _auth(tokens["clin_a"])
    before = web_world.audit_count()
    refused = api.post("/api/tasks", headers=_json(auth), content=json.dumps(
        {"patient_id": theirs, "kind": "call_back", "reason": "Ring about results"}))
    unknown = api.post("/api/tasks", headers=_json(auth), content=json.dumps(
        {"patient_id": 10**15, "kind": "call_back", "reason": "Ring about results"}))
    assert refused.status_code == unknown.status_code == 404
    assert refused.json() == unknown.json()
    assert _events(web_world, before) == [("triage_work", "denied")] * 2
    # an analyst has no task work at all; another practice's task is not found
    assert api.get("/api/tasks", headers=_auth(tokens["analyst"])).status_code == 404
    made = api.post("/api/tasks", headers=_json(_auth(tokens["clin_b"])), content=json.dumps(
        {"patient_id": theirs, "kind": "call_back", "reason": "Ring about results"}))
    assert made.status_code == 201
    assert api.get(f"/api/tasks/{made.json()['id']}", headers=auth).status_code == 404
    assert api.patch(f"/api/tasks/{made.json()['id']}", headers=_json(auth),
                     content=json.dumps({"notes": "x"})).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"patient_id": 1}, "body"),
    ({"patient_id": 1, "worklist": "no_such_list"}, "worklist"),
    ({"patient_id": 1, "kind": "x", "reason": "y", "priority": "asap"}, "body.priority"),
    ({"patient_id": 1, "kind": "x", "reason": "y", "surprise": 1}, "body.surprise"),
])
def test_bad_input_names_the_field(api: TestClient, tokens: dict[str, str],
                                   web_world: WebWorld, body: dict[str, object],
                                   field: str) -> None:
    patient = _smr_patients(web_world.record, web_world.own)[1]
    body = {**body, "patient_id": patient}
    response = api.post("/api/tasks", headers=_json(_auth(tokens["clin_a"])),
                        content=json.dumps(body))
    assert response.status_code == 422, response.text
    fields = [p["field"] for p in response.json()["problems"]]
    assert any(f.startswith(field) for f in fields), fields


def test_idempotent_create(api: TestClient, tokens: dict[str, str],
                           web_world: WebWorld) -> None:
    patient = _smr_patients(web_world.record, web_world.own)[2]
    headers = _json(_auth(tokens["clin_a"])) | {"Idempotency-Key": "task-key-1"}
    body = json.dumps({"patient_id": patient, "kind": "call_back", "reason": "Ring back"})
    first = api.post("/api/tasks", headers=headers, content=body)
    second = api.post("/api/tasks", headers=headers, content=body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    reused = api.post("/api/tasks", headers=headers, content=json.dumps(
        {"patient_id": patient, "kind": "call_back", "reason": "Something else"}))
    assert reused.status_code == 409


def test_done_task_leaves_the_worklist_after_pcn_run(
        tmp_path: Path, web_world: WebWorld, tokens: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.cli.main import app as cli
    from pcn.config import Settings, get_settings
    from pcn.web.app import create_app

    record = tmp_path / "twin"
    shutil.copytree(web_world.record, record, symlinks=True)
    app = create_app(record, store=web_world.store,
                     settings=Settings(secret_key="test-secret-key-0123456789abcdef"))
    client = TestClient(app)
    auth = _auth(tokens["clin_a"])
    url = f"/api/worklists/{WORKLIST}?practice={web_world.own}&page_size=500"
    listed = [r["patient_id"] for r in client.get(url, headers=auth).json()["rows"]]
    patient = listed[-1]
    task = client.post("/api/tasks", headers=_json(auth), content=json.dumps(
        {"patient_id": patient, "worklist": WORKLIST})).json()["id"]
    assert client.patch(f"/api/tasks/{task}", headers=_json(auth), content=json.dumps(
        {"status": "done", "outcome_code": SMR})).status_code == 200

    monkeypatch.setenv("PCN_DATABASE_URL", web_world.store.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["run", "--record", str(record)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "task outcome(s) written" in result.output
    after = [r["patient_id"] for r in client.get(url, headers=auth).json()["rows"]]
    assert patient not in after
    assert set(after) <= set(listed)
