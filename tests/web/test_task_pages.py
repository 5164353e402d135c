"""Worklists that can be worked, without JavaScript (issue 17): human labels and values, counts
by task status, bulk create and assign with CSRF, my tasks, one task's form to record a coded
outcome, and the follow-through funnel (exact for clinicians, protected for a PCN manager)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient

from pcn.analytics.run import outputs_path
from tests.web.conftest import WebWorld, csrf_from

SMR = "1239511000000100"
WORKLIST = "smr_candidates"
RAW = ("NaT", ">nan<", ">None<", "distinct_medicines_12m", "latest_medication_review_date",
       "efi_category")


def _own_smr(record: Path, practice: str) -> list[int]:
    frame = pd.read_parquet(outputs_path(record) / "worklists" / f"{WORKLIST}.parquet")
    return [int(p) for p in frame.loc[frame["practice_code"] == practice, "patient_id"]]


def test_worklist_page_speaks_to_people(clients: dict[str, TestClient]) -> None:
    html = clients["clin_a"].get(f"/worklists/{WORKLIST}?per_page=100").text
    for raw in RAW:
        assert raw not in html, raw
    assert "Medicines in last 12 months" in html and "Last structured medication review" in html
    assert 'id="status-counts"' in html and "No task yet" in html
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}|Not recorded", html)


def test_worklist_filters_by_any_core20plus_group(clients: dict[str, TestClient],
                                                 web_world: WebWorld) -> None:
    # Each PLUS group the worklist's patients belong to is a filter choice by its reviewed
    # title, and choosing one lists exactly the patients in that group (several groups each).
    worklist = "hypertension_case_finding"  # the tiny test twin's PLUS groups are here
    frame = pd.read_parquet(outputs_path(web_world.record) / "worklists" / f"{worklist}.parquet")
    frame = frame[frame["practice_code"] == web_world.practices[0]]
    groups = frame["plus_groups"].dropna().str.split(";").explode()
    group = groups[groups != ""].value_counts().index[0]
    expected = set(frame.loc[frame["plus_groups"].fillna("").str.split(";")
                             .map(lambda g: group in g), "patient_id"].astype(int))
    from pcn.tasks.funnel import plus_group_label

    label = plus_group_label(group)
    assert label != f"PLUS: {group}"  # the reviewed title, not the id
    client = clients["clin_a"]
    page = client.get(f"/worklists/{worklist}?per_page=100").text
    assert f'value="{label}"' in page
    chosen = client.get(f"/worklists/{worklist}?per_page=100&practice_code="
                        f"{web_world.practices[0]}&core20plus={label}").text
    shown = {int(p) for p in re.findall(r"Patient (\d+)<", chosen)}
    assert shown == expected


def test_bulk_create_assign_and_record_an_outcome(clients: dict[str, TestClient],
                                                  web_world: WebWorld) -> None:
    client = clients["coordinator"]  # PCN staff: the third practice by agreement
    third = web_world.practices[2]
    patients = _own_smr(web_world.record, third)[-3:]
    page = client.get(f"/worklists/{WORKLIST}?practice_code={third}&sort=age_desc")
    assert page.status_code == 200
    token = csrf_from(page.text)
    forged = client.post(f"/worklists/{WORKLIST}/tasks",
                         data={"patient_id": [str(p) for p in patients], "owner": "me",
                               "scope": "chosen", "csrf_token": "forged"})
    assert forged.status_code == 400 and "Nothing was saved" in forged.text
    made = client.post(f"/worklists/{WORKLIST}/tasks",
                       data={"patient_id": [str(p) for p in patients], "owner": "me",
                             "priority": "high", "scope": "chosen", "csrf_token": token,
                             "back_query": f"practice_code={third}"})
    assert made.status_code == 303
    assert "created=3" in made.headers["location"]
    mine = client.get("/tasks").text
    ids = [int(i) for i in re.findall(r'href="/tasks/(\d+)"', mine)]
    assert len(ids) >= 3
    listed = client.get(f"/worklists/{WORKLIST}?practice_code={third}&task_status=open").text
    assert all(f"Patient {p}<" in listed for p in patients)

    task_page = client.get(f"/tasks/{ids[0]}")
    assert task_page.status_code == 200 and "Record what happened" in task_page.text
    token = csrf_from(task_page.text)
    missing = client.post(f"/tasks/{ids[0]}", data={"status": "done", "csrf_token": token})
    assert missing.status_code == 422 and "coded outcome" in missing.text
    token = csrf_from(missing.text)
    saved = client.post(f"/tasks/{ids[0]}", data={"status": "done", "outcome_code": SMR,
                                                  "notes": "Reviewed with daughter",
                                                  "csrf_token": token})
    assert saved.status_code == 303
    done = client.get(saved.headers["location"]).text
    assert "Structured medication review (1239511000000100)" in done
    assert "Reviewed with daughter" in done and "Record what happened" not in done
    # another practice's clinician cannot open it
    assert clients["clin_a"].get(f"/tasks/{ids[0]}").status_code == 404


def test_follow_through_exact_for_clinicians_protected_for_manager(
        clients: dict[str, TestClient]) -> None:
    exact = clients["director"].get(f"/follow-through?worklist={WORKLIST}")
    assert exact.status_code == 200
    assert 'id="funnel-practice"' in exact.text and 'id="funnel-core20plus"' in exact.text
    assert "Core20 (most deprived 20%)" in exact.text
    protected = clients["manager"].get(f"/follow-through?worklist={WORKLIST}").text
    assert "Small numbers are protected" in protected
    table = protected.split('id="funnel-practice"')[1].split("</table>")[0]
    exact_table = exact.text.split('id="funnel-practice"')[1].split("</table>")[0]
    exact_counts = [int(c.replace(",", "")) for c in
                    re.findall(r'numeric">([\d,]+)</td>', exact_table)]
    # the twin's practices have small counts, so the manager's table must hide some of them
    assert any(1 <= n <= 7 for n in exact_counts) and "*" in table
    # whatever is shown to the manager is rounded to 5 (disclosure control, one module)
    cells = re.findall(r'numeric">([\d,]+)</td>', table)
    assert all(int(c.replace(",", "")) % 5 == 0 for c in cells)
    assert clients["admin"].get("/follow-through").status_code == 404


def test_patient_page_is_a_clinical_summary(clients: dict[str, TestClient],
                                            web_world: WebWorld) -> None:
    profile = pd.read_parquet(outputs_path(web_world.record) / "patient_profile.parquet")
    own = profile[(profile["practice_code"] == web_world.own) & profile["qrisk3"].notna()
                  & profile["reg_hypertension"]]
    patient = int(own["patient_id"].iloc[0])
    html = clients["clin_a"].get(f"/patients/{patient}").text
    for section in ('id="problem-list"', 'id="risks"', 'id="medicines"', 'id="activity"',
                    'id="tasks"', "Hypertension"):
        assert section in html, section
    # the QRISK3 licence: its disclaimer wherever a score is shown
    assert 'id="qrisk3-disclaimer"' in html and "ClinRisk Ltd. stress" in html
    for raw in RAW:
        assert raw not in html, raw
    assert re.search(r"Since</th>.*?\d{1,2} [A-Z][a-z]{2} \d{4}", html, re.S)
