"""Playwright journeys of issue 22 in Debian's Chromium, with axe-core on every page:

- a patient opens their one-time link, sends home readings (one very high), sees what it means,
  and a clinician signs in and finds the same-day task;
- a link worker takes a social prescribing referral made from a worklist, records what matters
  and a service from the directory, ONS4 at the start and the end, and closes it with an
  outcome that the report counts.

Each journey runs its own server on a store of its own."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pcn.config import Settings
from tests.web.conftest import PASSWORD, WORKLIST, WebRecord
from tests.web.test_browser import (  # noqa: F401 - fixtures
    axe_source,
    browser,
    check_accessibility,
    shot,
    sign_in,
)

pytestmark = pytest.mark.browser
SETTINGS = Settings(
    secret_key="journey22-secret-key-0123456789abcdef", public_requests_per_hour=100_000
)
ORUK = Path(__file__).resolve().parents[1] / "data" / "oruk_directory.json"


@pytest.fixture
def served(web_record: WebRecord, sqlite_store: Any) -> Iterator[str]:
    import uvicorn

    from pcn.web.app import create_app

    app = create_app(web_record.record, store=sqlite_store, settings=SETTINGS, warm=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, log_config=None
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _send(page: Any, when: dt.datetime, systolic: int, diastolic: int) -> None:
    page.fill("#taken-day", str(when.day))
    page.fill("#taken-month", str(when.month))
    page.fill("#taken-year", str(when.year))
    page.fill("#time", f"{when:%H:%M}")
    page.fill("#systolic", str(systolic))
    page.fill("#diastolic", str(diastolic))
    page.click("#send-reading")
    page.wait_for_selector("#sent")


def test_patient_sends_readings_by_link_and_the_clinician_gets_the_task(
    browser: Any,  # noqa: F811
    axe_source: str,  # noqa: F811
    served: str,
    web_record: WebRecord,
    sqlite_store: Any,
) -> None:
    from pcn.monitoring import links
    from pcn.store.accounts import create_user
    from tests.web.conftest import WebWorld

    world = WebWorld(web_record.record, sqlite_store, web_record.practices, web_record.worklist)
    practice = world.own
    patient = world.patient_at(practice)
    create_user(
        sqlite_store, "gp.bp", "practice_clinician", practice_code=practice, password=PASSWORD
    )
    token = links.issue(SETTINGS, patient)

    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.goto(f"{served}/readings/{token}")
    check_accessibility(page, axe_source)
    assert "You have not sent any readings yet" in page.inner_text("#result")
    start = dt.datetime.now().replace(second=0, microsecond=0) - dt.timedelta(days=4)
    _send(page, start, 132, 84)
    page.click("#send-reading")  # sent empty: the form says what is missing
    page.wait_for_selector(".nhsuk-error-summary")
    assert "Enter the date and time" in page.inner_text(".nhsuk-error-summary")
    check_accessibility(page, axe_source)
    _send(page, start + dt.timedelta(days=1), 188, 102)
    assert "Get help today" in page.inner_text("body")
    assert "Call your GP practice now" in page.inner_text("#result-urgent")
    assert "188/102" in page.inner_text("#readings")
    check_accessibility(page, axe_source)
    shot(page, "monitoring-01-patient")
    context.close()

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, served, "gp.bp")
    page.goto(f"{served}/monitoring")
    check_accessibility(page, axe_source)
    row = page.locator(f"#series-{patient}-{start.date().isoformat()}")
    assert "Very high reading" in row.inner_text()
    page.goto(f"{served}/tasks?show=all")
    task_link = page.locator("a", has_text="Very high home blood pressure").first
    assert task_link.count() == 1
    task_link.click()
    body = page.inner_text("body")
    assert "188/102 mmHg" in body and "Urgent" in body
    check_accessibility(page, axe_source)
    shot(page, "monitoring-02-clinician-task")
    context.close()


def test_link_worker_takes_a_referral_from_a_worklist_to_an_ons4_outcome(
    browser: Any,  # noqa: F811
    axe_source: str,  # noqa: F811
    served: str,
    web_record: WebRecord,
    sqlite_store: Any,
) -> None:
    from pcn.reporting.network import open_network
    from pcn.social import referrals
    from pcn.social.directory import import_services, read_directory_file
    from pcn.store.accounts import create_user
    from pcn.tasks import service
    from pcn.web import task_support

    practice = web_record.practices[0]
    import_services(sqlite_store, read_directory_file(ORUK), username="test")
    gp, _ = create_user(
        sqlite_store, "gp.sp", "practice_clinician", practice_code=practice, password=PASSWORD
    )
    create_user(
        sqlite_store, "link.worker", "practice_clinician", practice_code=practice, password=PASSWORD
    )
    row = web_record.worklist[web_record.worklist["practice_code"] == practice].iloc[0]
    patient = int(row["patient_id"])
    practices_of = task_support.practices_of(open_network(web_record.record))
    made = service.create_for_worklist(
        sqlite_store,
        gp.principal(),
        WORKLIST,
        [service.Candidate(patient, practice, "Frequent attender, lonely")],
        worklists={WORKLIST: "Test frequent attenders"},
    )
    referral = referrals.refer(
        sqlite_store,
        gp.principal(),
        patient_id=patient,
        route="worklist",
        reason="Lonely since moving here",
        from_task_id=made.created[0],
        needs=("loneliness",),
        practices_of=practices_of,
    )

    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    sign_in(page, served, "link.worker")
    page.goto(f"{served}/social")
    check_accessibility(page, axe_source)
    page.click(f"#open-referral-{referral.referral_id}")
    page.click("#take-referral")
    assert page.inner_text("#link-worker") == "link.worker"
    page.check("#mode-phone")
    page.fill("#what_matters", "Meeting people nearby")
    page.check("#service-1")  # the walking group: the only service for loneliness adults use
    page.click("#save-contact")
    assert page.inner_text("#what-matters") == "Meeting people nearby"
    assert "Tuesday Walking Group" in page.inner_text("#services-referred")
    check_accessibility(page, axe_source)
    # two clicks an item: choose a score, then (once) save
    for key, score in (
        ("life_satisfaction", 3),
        ("worthwhile", 4),
        ("happiness", 3),
        ("anxiety", 7),
    ):
        page.click(f"label[for=start-{key}-{score}]")
    page.click("#save-ons4-start")
    assert "7 out of 10 (lower is better)" in page.inner_text("#ons4-start")
    page.click("#save-ons4-end")  # nothing chosen: refused, item named
    assert "choose a score" in page.inner_text("#error-text")
    for key, score in (
        ("life_satisfaction", 7),
        ("worthwhile", 7),
        ("happiness", 6),
        ("anxiety", 3),
    ):
        page.click(f"label[for=end-{key}-{score}]")
    page.click("#save-ons4-end")
    page.fill("#outcome_text", "Walks every Tuesday; feels part of things")
    page.click("#close-referral")
    assert "outcome recorded" in page.inner_text("#referral-status")
    check_accessibility(page, axe_source)
    shot(page, "social-01-referral-closed")
    page.goto(f"{served}/social")
    outcomes = page.inner_text("#outcomes")
    assert "link.worker" in outcomes and "100%" in outcomes and "+4" in outcomes
    check_accessibility(page, axe_source)
    context.close()
