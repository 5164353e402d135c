"""Playwright journeys of issue 17 in Debian's Chromium, with an axe-core check on every page:

- a care coordinator opens a worklist, assigns ten patients to themself, records each outcome,
  the pipeline is re-run, and the worklist and its indicators change;
- a PCN manager sees the follow-through funnel by practice and by Core20PLUS group;
- a GP reads a patient summary and edits the care plan.

The journey works on its own copy of the record (the re-run publishes new snapshots)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from pcn.analytics.run import outputs_path
from tests.web.conftest import WebWorld
from tests.web.test_browser import (  # noqa: F401 - fixtures
    axe_source,
    browser,
    check_accessibility,
    shot,
    sign_in,
)

pytestmark = pytest.mark.browser
WORKLIST = "smr_candidates"
SMR_INDICATORS = {"smr_care_home": "care_home", "smr_polypharmacy": "ten_plus",
                  "smr_severe_frailty": "severe"}


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory, web_world: WebWorld
            ) -> Iterator[tuple[str, Path]]:
    import uvicorn

    from pcn.config import Settings
    from pcn.web.app import create_app

    record = tmp_path_factory.mktemp("journey") / "twin"
    shutil.copytree(web_world.record, record, symlinks=True)
    app = create_app(record, store=web_world.store, warm=True,
                     settings=Settings(secret_key="journey-secret-key-0123456789abcdef"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False,
                                           log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "journey server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", record
    server.should_exit = True
    thread.join(timeout=10)


def _numerator(page, base: str, indicator: str, practice: str) -> int:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/indicators/{indicator}")
    row = page.locator("table tr", has_text=f"({practice})").first
    return int(row.locator("td").nth(1).inner_text().replace(",", ""))


def test_care_coordinator_works_a_worklist_through_to_a_changed_indicator(
        browser, axe_source: str, journey: tuple[str, Path], web_world: WebWorld,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from pcn.cli.main import app as cli
    from pcn.config import get_settings
    from pcn.store.accounts import create_user, get_account
    from tests.web.conftest import PASSWORD

    base, record = journey
    listed = pd.read_parquet(outputs_path(record) / "worklists" / f"{WORKLIST}.parquet")
    # a care coordinator employed by the practice with the longest list (at least ten)
    practice = str(listed["practice_code"].value_counts().index[0])
    if get_account(web_world.store, "coord.journey") is None:
        create_user(web_world.store, "coord.journey", "care_coordinator",
                    practice_code=practice, password=PASSWORD)
    profile = pd.read_parquet(outputs_path(record) / "patient_profile.parquet")
    rows = listed[listed["practice_code"] == practice].head(100)
    assert len(rows) >= 10
    chosen = [int(p) for p in rows["patient_id"].head(10)]
    mine = profile.set_index("patient_id").loc[chosen]
    expected_delta = {
        "smr_care_home": int(mine["care_home"].sum()),
        "smr_polypharmacy": int((mine["distinct_medicines_12m"] >= 10).sum()),
        "smr_severe_frailty": int((mine["efi_category"] == "severe").sum()),
    }

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "coord.journey")
    before = {i: _numerator(page, base, i, practice) for i in SMR_INDICATORS}

    # Given the worklist, when the coordinator chooses ten patients and takes them on
    page.goto(f"{base}/worklists/{WORKLIST}?practice_code={practice}&per_page=100")
    check_accessibility(page, axe_source)
    shot(page, "tasks-01-worklist")
    for pid in chosen:
        page.check(f"#choose-{pid}")
    page.select_option("#bulk-owner", "me")
    page.click("#bulk-chosen")
    page.wait_for_selector("#bulk-result")
    assert "10 tasks created" in page.locator("#bulk-result").inner_text()

    # Then they are the coordinator's tasks, and each outcome is recorded on its task page
    page.goto(f"{base}/tasks")
    check_accessibility(page, axe_source)
    shot(page, "tasks-02-my-tasks")
    links = page.locator("#task-table a[href^='/tasks/']")
    task_ids = sorted({int(h.split("/")[-1]) for h in links.evaluate_all(
        "els => els.map(e => e.getAttribute('href'))")})
    assert len(task_ids) >= 10
    recorded = 0
    for task_id in task_ids:
        page.goto(f"{base}/tasks/{task_id}")
        patient = page.locator("a[href^='/patients/']").first.get_attribute("href") or ""
        if int(patient.split("/")[2].split("?")[0]) not in chosen:
            continue
        if recorded == 0:
            check_accessibility(page, axe_source)
            shot(page, "tasks-03-task")
        page.select_option("#status", "done")
        page.select_option("#outcome-code", "1239511000000100")
        page.click("#save-task")
        page.wait_for_selector("#saved")
        recorded += 1
    assert recorded == 10

    # When the pipeline runs again (it first writes the outcomes into the record)
    monkeypatch.setenv("PCN_DATABASE_URL", web_world.store.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["run", "--record", str(record)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output

    # Then the ten patients have left the worklist and the indicators moved by exactly them
    page.goto(f"{base}/worklists/{WORKLIST}?practice_code={practice}&per_page=100")
    for pid in chosen:
        assert page.locator(f"#choose-{pid}").count() == 0, pid
    after = {i: _numerator(page, base, i, practice) for i in SMR_INDICATORS}
    assert {i: after[i] - before[i] for i in SMR_INDICATORS} == expected_delta
    assert sum(expected_delta.values()) > 0
    shot(page, "tasks-04-indicator-after")

    # And the clinical director sees the funnel exactly
    director = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(director, base, "director")
    director.goto(f"{base}/follow-through?worklist={WORKLIST}")
    from pcn.reporting.network import open_network

    name = open_network(record).practice_names.get(practice, practice)
    row = director.locator("#funnel-practice tr", has_text=name)
    assert row.locator("td").nth(2).inner_text() == "10"
    assert not errors, errors
    context.close()


def test_manager_sees_the_funnel_by_practice_and_core20plus(
        browser, axe_source: str, journey: tuple[str, Path]) -> None:  # noqa: F811
    base, _ = journey
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, base, "manager")
    page.goto(f"{base}/follow-through?worklist={WORKLIST}")
    check_accessibility(page, axe_source)
    shot(page, "tasks-05-follow-through")
    assert page.locator("#funnel-practice tbody tr").count() >= 2
    groups = page.locator("#funnel-core20plus tbody th").all_inner_texts()
    assert "Core20 (most deprived 20%)" in groups and "Not Core20" in groups
    assert "Small numbers are protected" in page.content()
    assert page.locator("a[href='/tasks']").count() == 0  # no task work for a manager


def test_gp_reads_a_patient_summary_and_edits_the_care_plan(
        browser, axe_source: str, journey: tuple[str, Path], web_world: WebWorld) -> None:  # noqa: F811
    base, _ = journey
    patient = web_world.patient_at(web_world.own)
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, base, "clin_a")
    page.goto(f"{base}/patients/{patient}")
    check_accessibility(page, axe_source)
    shot(page, "tasks-06-patient-summary")
    for section in ("#problems", "#medicines", "#risks", "#tasks", "#care-plan", "#activity"):
        assert page.locator(section).count() == 1, section
    page.click("#care-plan-link")
    page.wait_for_url(f"{base}/patients/{patient}/care-plan")
    page.goto(f"{base}/patients/{patient}/care-plan/edit")
    check_accessibility(page, axe_source)
    page.fill("#what-matters", "Getting back to the allotment this spring")
    page.fill("#goals", "Walk to the allotment twice a week")
    page.fill("#action-0", "Refer to the social prescribing link worker")
    page.select_option("#owner-0", "social_prescriber")
    page.fill("#coordinator", "Alex Morgan")
    page.fill("#review-date", "2026-06-30")
    page.click("#save-plan")
    page.wait_for_selector("#saved")
    check_accessibility(page, axe_source)
    shot(page, "tasks-07-care-plan")
    assert "Getting back to the allotment" in page.locator("#what-matters").inner_text()
    assert "30 Jun 2026" in page.content()
    page.click("#print-plan")
    page.wait_for_url(f"{base}/patients/{patient}/care-plan/print")
    assert "My care and support plan" in page.locator("h1").inner_text()
