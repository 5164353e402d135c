"""Personalised care and support plans (issue 17): a GP reads the summary and edits the plan;
each edit is a new version; agreed actions become tasks; the patient copy prints; FHIR CarePlan
and Task on the API validate against the R4B models; scoping and audit as for patients."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from pcn.fhir.validation import validation_error
from tests.web.conftest import WebWorld, csrf_from


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _without_a_plan(world: WebWorld) -> int:
    """A patient of the clinician's practice with no care plan yet (other journeys add some)."""
    from pcn.care.plans import current_unaudited
    from pcn.record import open_record

    regs = open_record(world.record).read("registrations").to_pandas()
    live = regs[regs["end_date"].isna() & (regs["practice_code"] == world.own)]
    for pid in sorted(int(p) for p in live["patient_id"].unique())[5:]:
        if current_unaudited(world.store, pid) is None:
            return pid
    raise AssertionError("every patient has a plan")


def test_gp_edits_a_care_plan_and_actions_become_tasks(
        clients: dict[str, TestClient], api: TestClient, tokens: dict[str, str],
        web_world: WebWorld) -> None:
    gp = clients["clin_a"]
    patient = _without_a_plan(web_world)
    summary = gp.get(f"/patients/{patient}").text
    assert 'id="care-plan-link"' in summary
    assert "No care plan has been agreed yet" in gp.get(f"/patients/{patient}/care-plan").text
    form = gp.get(f"/patients/{patient}/care-plan/edit")
    token = csrf_from(form.text)
    empty = gp.post(f"/patients/{patient}/care-plan", data={"csrf_token": token,
                                                            "what_matters": " "})
    assert empty.status_code == 422 and "what matters" in empty.text.lower()
    token = csrf_from(empty.text)
    saved = gp.post(f"/patients/{patient}/care-plan", data={
        "csrf_token": token, "what_matters": "Walking my dog <b>every day</b>",
        "goals": "Walk to the park\nSleep through the night", "action-0": "Falls assessment",
        "owner-0": "fcp_physio", "due-0": "2027-01-31", "coordinator": "Sam Patel",
        "review_date": "2027-03-31"})
    assert saved.status_code == 303
    page = gp.get(saved.headers["location"]).text
    assert "Walking my dog &lt;b&gt;every day&lt;/b&gt;" in page  # escaped, as typed
    assert "Falls assessment" in page and "31 Mar 2027" in page and "Version 1" in page

    # a second version keeps the first action and adds one
    token = csrf_from(gp.get(f"/patients/{patient}/care-plan/edit").text)
    gp.post(f"/patients/{patient}/care-plan", data={
        "csrf_token": token, "what_matters": "Walking my dog every day",
        "goals": "Walk to the park", "keep-0": "yes", "action-0": "Social prescribing referral",
        "owner-0": "social_prescriber", "coordinator": "Sam Patel"})
    page = gp.get(f"/patients/{patient}/care-plan").text
    assert "Version 2" in page and "Version 1" in page
    tasks = api.get(f"/api/tasks?patient_id={patient}&source=care_plan",
                    headers=_auth(tokens["clin_a"])).json()["tasks"]
    assert sorted(t["reason"] for t in tasks) == ["Falls assessment",
                                                  "Social prescribing referral"]
    printed = gp.get(f"/patients/{patient}/care-plan/print").text
    assert "My care and support plan" in printed and "Sam Patel" in printed

    # FHIR: CarePlan and Task validate against the R4B models; another practice sees nothing
    bundle = api.get(f"/fhir/CarePlan?patient={patient}", headers=_auth(tokens["clin_a"]))
    assert bundle.status_code == 200
    plans = [e["resource"] for e in bundle.json()["entry"]]
    assert len(plans) == 1 and validation_error(plans[0]) is None
    assert plans[0]["description"] == "Walking my dog every day"
    assert {a["reference"]["reference"] for a in plans[0]["activity"]} == {
        f"Task/task-{t['id']}" for t in tasks}
    task_bundle = api.get(f"/fhir/Task?patient={patient}", headers=_auth(tokens["clin_a"]))
    resources = [e["resource"] for e in task_bundle.json()["entry"]]
    assert {f"task-{t['id']}" for t in tasks} <= {r["id"] for r in resources}
    assert all(validation_error(r) is None for r in resources)
    before = web_world.audit_count()
    refused = api.get(f"/fhir/CarePlan?patient={patient}", headers=_auth(tokens["clin_b"]))
    unknown = api.get("/fhir/CarePlan?patient=999999999999", headers=_auth(tokens["clin_b"]))
    assert refused.status_code == unknown.status_code == 404
    assert [(e.action, e.outcome) for e in web_world.new_events(before)
            if e.action != "sign_in"] == [("view_patient", "denied")] * 2
    assert clients["clin_b"].get(f"/patients/{patient}/care-plan").status_code == 404


def test_closed_task_is_valid_fhir_with_its_coded_outcome(api: TestClient,
                                                          tokens: dict[str, str],
                                                          web_world: WebWorld) -> None:
    import json

    patient = web_world.patient_at(web_world.own)
    auth = _auth(tokens["clin_a"]) | {"Content-Type": "application/json"}
    made = api.post("/api/tasks", headers=auth, content=json.dumps(
        {"patient_id": patient, "kind": "medication_review", "reason": "Review medicines",
         "owner": "clinical_pharmacist"})).json()["id"]
    api.patch(f"/api/tasks/{made}", headers=auth, content=json.dumps(
        {"status": "done", "outcome_code": "1239511000000100"}))
    from pcn.fhir.workflow import task_resource
    from pcn.tasks.service import get_unaudited

    resource = task_resource(get_unaudited(web_world.store, made))
    assert validation_error(resource) is None
    assert resource["status"] == "completed"
    assert resource["output"][0]["valueCodeableConcept"]["coding"][0]["code"] == \
        "1239511000000100"
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", resource["executionPeriod"]["end"])


def test_direct_care_fhir_export_includes_care_plans_and_tasks(
        tmp_path, web_world: WebWorld, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from pcn.cli.main import app
    from pcn.config import get_settings

    monkeypatch.setenv("PCN_DATABASE_URL", web_world.store.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["export", "fhir", "--record", str(web_world.record),
                                          "--out", str(tmp_path / "fhir"), "--purpose",
                                          "direct-care"])
        secondary = CliRunner().invoke(app, ["export", "fhir", "--record",
                                             str(web_world.record), "--out",
                                             str(tmp_path / "planning")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    tasks = [json.loads(line) for line in (tmp_path / "fhir" / "Task.ndjson").read_text()
             .splitlines()]
    assert tasks and all(validation_error(t) is None for t in tasks)
    plans_file = tmp_path / "fhir" / "CarePlan.ndjson"
    if plans_file.exists():
        assert all(validation_error(json.loads(line)) is None
                   for line in plans_file.read_text().splitlines())
    # secondary use never carries the operational work
    assert secondary.exit_code == 0, secondary.output
    assert not (tmp_path / "planning" / "Task.ndjson").exists()
