"""Playwright journeys in Debian's Chromium: sign in → overview → funnel plot → worklist →
patient, an axe-core accessibility check on every page, screenshots at laptop and tablet sizes
saved under ``test-artifacts/web/``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import PASSWORD, WORKLIST, WebWorld

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
VIEWPORTS = {"laptop": {"width": 1366, "height": 900}, "tablet": {"width": 768, "height": 1024}}


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when absent (root or CI only)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI") == "true" or os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False,
                       capture_output=True)
        if not CHROMIUM.exists():
            subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=False,
                           capture_output=True)
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(web_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    import uvicorn

    port = _free_port()
    # log_config=None: uvicorn logs through the suite's redacting handler, as `pcn serve` does.
    server = uvicorn.Server(uvicorn.Config(web_app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False,
                                           log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    from pcn.web.app import find_node_modules

    return (find_node_modules() / "axe-core" / "axe.min.js").read_text()


def check_accessibility(page, axe_source: str) -> None:  # type: ignore[no-untyped-def]
    """axe-core's WCAG 2.x A/AA rules on the current page: no violations allowed."""
    page.evaluate(axe_source)
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})")
    problems = [f"{v['id']} ({v['impact']}): {v['help']} — "
                f"{[n['target'] for n in v['nodes'][:3]]}" for v in result["violations"]]
    assert not problems, f"{page.url}: " + "; ".join(problems)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_for_charts(page) -> int:  # type: ignore[no-untyped-def]
    charts = page.locator("[data-chart]")
    count = charts.count()
    for i in range(count):
        charts.nth(i).locator("svg").first.wait_for(state="attached", timeout=15_000)
    return count


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/overview")
    assert "/sign-in" in page.url
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/overview")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_clinician_journey_overview_funnel_worklist_patient(
        browser, live_server: str, axe_source: str, web_world: WebWorld, viewport: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server

    page.goto(f"{base}/sign-in")
    check_accessibility(page, axe_source)
    shot(page, f"{viewport}-01-sign-in")
    sign_in(page, base, "clin_a")

    # Given a signed-in practice clinician, the overview shows the network with real charts
    assert wait_for_charts(page) >= 2
    assert page.locator("#population").inner_text().replace(",", "").isdigit()
    check_accessibility(page, axe_source)
    shot(page, f"{viewport}-02-overview")

    # When they open an indicator from the list, the funnel plot and SPC chart are drawn
    page.click("text=Indicators")
    page.wait_for_url(f"{base}/indicators")
    check_accessibility(page, axe_source)
    shot(page, f"{viewport}-03-indicators")
    page.click("a[href='/indicators/dna_rate']")
    page.wait_for_url(f"{base}/indicators/dna_rate")
    assert wait_for_charts(page) == 2
    dots = page.locator("#funnel-chart svg path[aria-roledescription='point']")
    dots.first.wait_for(state="attached")
    assert dots.count() >= 5
    check_accessibility(page, axe_source)
    shot(page, f"{viewport}-04-indicator-funnel-spc")

    # A patient-based indicator's month-end values overlap: funnel only, no XmR (issue 19)
    page.goto(f"{base}/indicators/hyp_bp_140_90_under_80")
    assert wait_for_charts(page) == 1
    assert page.locator("#spc-not-drawn").is_visible()
    check_accessibility(page, axe_source)
    shot(page, f"{viewport}-04b-patient-indicator-spc")

    # Then the worklist lists their own practice's patients, filterable with HTMX
    page.goto(f"{base}/worklists")
    check_accessibility(page, axe_source)
    page.click(f"a[href='/worklists/{WORKLIST}']")
    page.wait_for_url(f"{base}/worklists/{WORKLIST}")
    own = web_world.worklist[web_world.worklist["practice_code"] == web_world.own]
    assert f"{len(own)} patients you can see" in page.locator("#worklist-total").inner_text()
    page.select_option("#filter-priority", "high")
    page.wait_for_function("document.querySelector('#worklist-total').innerText"
                           f".startsWith('{(own['priority'] == 'high').sum()} patient')")
    assert "priority=high" in page.url
    check_accessibility(page, axe_source)
    shot(page, f"{viewport}-05-worklist")

    # And a patient's summary opens from the worklist
    page.locator("#worklist-table a").first.click()
    page.wait_for_url(f"{base}/patients/**")
    assert page.locator("h1").inner_text().startswith("Patient summary")
    check_accessibility(page, axe_source)
    shot(page, f"{viewport}-06-patient")
    assert not errors, errors
    context.close()


def test_other_pages_are_accessible_with_charts(browser, live_server: str,
                                                axe_source: str) -> None:
    context = browser.new_context(viewport=VIEWPORTS["laptop"])
    page = context.new_page()
    sign_in(page, live_server, "analyst")
    for path, name in (("/continuity", "continuity"), ("/inequalities", "inequalities"),
                       ("/worklists", "worklists-analyst"), ("/patients/1", "not-found")):
        page.goto(f"{live_server}{path}")
        if path != "/patients/1":
            assert wait_for_charts(page) >= (1 if path != "/worklists" else 0)
        check_accessibility(page, axe_source)
        shot(page, f"laptop-analyst-{name}")
    context.close()


def test_pages_and_api_docs_load_nothing_from_other_hosts(browser, live_server: str,
                                                          web_app) -> None:  # type: ignore[no-untyped-def]
    """Issue 16, item 11: Swagger UI and fonts came from public CDNs. Every request the browser
    makes for the pages and /api/docs now goes to this server (and the API docs work)."""
    context = browser.new_context(viewport=VIEWPORTS["laptop"])
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    sign_in(page, live_server, "analyst")
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert "/api/worklists" in page.locator(".swagger-ui").inner_text()
    shot(page, "laptop-api-docs")
    page.goto(f"{live_server}/overview")
    assert wait_for_charts(page) >= 1
    page.goto(f"{live_server}/request")
    page.wait_for_load_state("networkidle")
    foreign = sorted({url for url in requested
                      if not url.startswith((live_server, "data:", "blob:"))})
    assert not foreign, foreign
    assert any(url.endswith("swagger-ui-bundle.js") for url in requested)
    context.close()


def test_chromium_can_be_found_or_installed() -> None:
    assert ensure_chromium().exists() and shutil.which(str(CHROMIUM))


def _fill_request(page, web_world: WebWorld, text: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#name", "Ann Example")
    page.fill("#dob-day", "3")
    page.fill("#dob-month", "4")
    page.fill("#dob-year", "1980")
    page.check("#sex-f")
    page.select_option("#practice_code", web_world.own)
    page.fill("#text", text)
    page.click("#send-request")


def test_request_form_queue_override_close(browser, live_server: str, axe_source: str,
                                           web_world: WebWorld) -> None:
    """Given a patient's request, a clinician overrides it with a reason and closes it."""
    base = live_server
    patient = browser.new_context(viewport=VIEWPORTS["laptop"])
    page = patient.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/request")
    check_accessibility(page, axe_source)
    shot(page, "laptop-10-request-form")
    page.click("#send-request")  # nothing filled in: the errors name each question
    assert page.locator(".nhsuk-error-summary").is_visible()
    check_accessibility(page, axe_source)
    _fill_request(page, web_world, "headaches most days for the last few weeks")
    page.wait_for_selector("#request-reference")
    reference = page.locator("#request-reference").inner_text()
    assert "What happens next" in page.content()
    check_accessibility(page, axe_source)
    shot(page, "laptop-11-request-sent")
    patient.close()

    staff = browser.new_context(viewport=VIEWPORTS["laptop"])
    page = staff.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, base, "clin_a")
    page.click("text=Triage")
    page.wait_for_url(f"{base}/triage")
    row = page.locator(f"tr[data-request-id='{reference}']")
    assert row.count() == 1
    check_accessibility(page, axe_source)
    shot(page, "laptop-12-triage-queue")
    row.locator("a").click()
    page.wait_for_url(f"{base}/triage/{reference}")
    assert "headaches most days" in page.locator("#request-text").inner_text()
    check_accessibility(page, axe_source)

    # When the clinician overrides without a reason, the page says so and nothing changes
    page.select_option("#override-urgency", "urgent")
    page.select_option("#override-route", "anp")
    page.click("#override")
    assert "Give the reason" in page.locator(".nhsuk-error-summary").inner_text()
    check_accessibility(page, axe_source)
    page.fill("#override-reason", "New pattern of headache, wants same-day review")
    page.select_option("#override-urgency", "urgent")
    page.select_option("#override-route", "anp")
    page.click("#override")
    page.wait_for_selector("#done-banner")
    assert "Overridden" in page.locator("#request-summary").inner_text()
    shot(page, "laptop-13-triage-overridden")

    # Then they close it with the outcome, and it leaves the open queue
    page.fill("#close-outcome", "Seen by ANP today: tension headache, advice given")
    page.click("#close")
    page.wait_for_selector("#done-banner")
    summary = page.locator("#request-summary").inner_text()
    assert "Closed" in summary and "tension headache" in summary
    check_accessibility(page, axe_source)
    shot(page, "laptop-14-triage-closed")
    page.goto(f"{base}/triage")
    assert page.locator(f"tr[data-request-id='{reference}']").count() == 0
    assert not errors, errors
    staff.close()


def test_request_form_works_without_javascript(browser, live_server: str,
                                               web_world: WebWorld) -> None:
    context = browser.new_context(viewport=VIEWPORTS["tablet"], java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/request")
    _fill_request(page, web_world, "crushing chest pain spreading to my left arm")
    page.wait_for_selector("#emergency-advice")
    assert page.locator("h1").inner_text() == "Call 999 now"
    shot(page, "tablet-15-request-emergency-no-js")
    context.close()


def test_request_in_crisis_shows_crisis_lines_at_once_and_is_recorded(
        browser, live_server: str, axe_source: str, web_world: WebWorld) -> None:
    """Given a patient writes that they plan to end their life, the page shows 999, NHS 111's
    mental health option and Samaritans at once, and the practice still gets the request."""
    patient = browser.new_context(viewport=VIEWPORTS["tablet"])
    page = patient.new_page()
    page.goto(f"{live_server}/request")
    _fill_request(page, web_world, "thinking about ending my life, I have a plan")
    page.wait_for_selector("#crisis-help")
    assert page.locator("h1").inner_text() == "Get help now"
    help_text = page.locator("#crisis-help").inner_text()
    for line in ("999", "NHS 111", "mental health option", "116 123"):
        assert line in help_text
    assert page.locator("#crisis-help a[href='tel:116123']").count() == 1
    reference = page.locator("#request-reference").inner_text()
    check_accessibility(page, axe_source)
    shot(page, "tablet-16-request-crisis")
    patient.close()

    staff = browser.new_context(viewport=VIEWPORTS["laptop"])
    page = staff.new_page()
    sign_in(page, live_server, "clin_a")
    page.goto(f"{live_server}/triage")
    row = page.locator(f"tr[data-request-id='{reference}']")
    assert row.count() == 1
    assert "Emergency" in row.inner_text()
    staff.close()


def test_request_nobody_can_classify_tells_the_patient_a_clinician_looks_today(
        browser, live_server: str, axe_source: str, web_world: WebWorld) -> None:
    context = browser.new_context(viewport=VIEWPORTS["laptop"])
    page = context.new_page()
    page.goto(f"{live_server}/request")
    _fill_request(page, web_world, "something odd has been going on with my zorbulator since "
                                   "tuesday and I am not sure what to do")
    page.wait_for_selector("#not-confident")
    assert "a clinician will look at your request today" in page.locator(
        "#not-confident").inner_text()
    check_accessibility(page, axe_source)
    shot(page, "laptop-17-request-not-confident")
    context.close()
