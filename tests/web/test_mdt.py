"""MDT meetings (issue 17): a patient list drawn from worklists and scoped to the viewer; each
discussion recorded, its agreed actions becoming tasks (and care-plan actions)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import WebWorld, csrf_from


def test_meeting_from_worklists_and_a_discussion_becomes_tasks(
        clients: dict[str, TestClient], api: TestClient, tokens: dict[str, str],
        web_world: WebWorld) -> None:
    gp = clients["clin_a"]
    page = gp.get("/mdt")
    assert page.status_code == 200
    made = gp.post("/mdt", data={"csrf_token": csrf_from(page.text), "title": "Frailty MDT",
                                 "held_on": "2026-03-30",
                                 "worklist": ["care_home_residents", "high_admission_risk"]})
    assert made.status_code == 303
    meeting = gp.get(made.headers["location"]).text
    patients = [int(p) for p in re.findall(r'id="patient-(\d+)"', meeting)]
    assert patients
    practices = {pid: web_world.app_practices(pid) for pid in patients}
    assert all(web_world.own in ps for ps in practices.values())  # only their own practice
    pid = patients[0]
    saved = gp.post(f"{made.headers['location']}/patients/{pid}", data={
        "csrf_token": csrf_from(meeting), "discussion": "Falls twice this winter; agreed review",
        "action-0": "Home falls assessment", "owner-0": "fcp_physio"})
    assert saved.status_code == 303 and f"saved={pid}" in saved.headers["location"]
    again = gp.get(made.headers["location"]).text
    assert "Falls twice this winter" in again
    tasks = api.get(f"/api/tasks?patient_id={pid}&source=mdt",
                    headers={"Authorization": f"Bearer {tokens['clin_a']}"}).json()["tasks"]
    assert [(t["reason"], t["owner_role"]) for t in tasks] == [
        ("Home falls assessment", "fcp_physio")]
    # the other practice's clinician sees none of this meeting's patients
    other = clients["clin_b"].get(made.headers["location"]).text
    assert not re.findall(r'id="patient-(\d+)"', other)
    assert clients["analyst"].get("/mdt").status_code == 404
