"""The PCN manager's access journey in Debian's Chromium: sign in → access dashboard (today,
this week, forecast, staffing) → rota, week by week; a practice clinician sees their practice;
axe-core on both pages; screenshots under ``test-artifacts/web/``."""

from __future__ import annotations

import pytest

from tests.web.test_browser import (  # noqa: F401 (fixtures)
    VIEWPORTS,
    axe_source,
    browser,
    check_accessibility,
    live_server,
    shot,
    sign_in,
    wait_for_charts,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_reads_access_then_the_rota(
    browser,  # noqa: F811
    live_server: str,  # noqa: F811
    axe_source: str,  # noqa: F811
    viewport: str,
) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    page = context.new_page()
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/access")
    main = page.inner_text("main")
    assert "Access: demand and capacity" in main and "All practices" in main
    assert page.locator("#access-week tbody tr").count() > 1
    assert page.locator("#access-forecast tbody tr").count() >= 8
    gp = page.locator("#access-staffing tbody tr:has-text('GP')").first.inner_text()
    assert "GP" in gp
    assert page.locator("#access-assumptions li").count() == 4
    wait_for_charts(page)
    check_accessibility(page, axe_source)
    shot(page, f"access-{viewport}")

    page.click("main a[href='/rota']")
    page.wait_for_url(f"{live_server}/rota")
    assert page.locator("#rota-table tbody tr").count() > 1
    assert "Bank holiday: Good Friday" in page.inner_text("#rota-table")
    check_accessibility(page, axe_source)
    shot(page, f"rota-{viewport}")
    page.click("a:has-text('Next week')")
    page.wait_for_url(lambda url: "week=2026-04-06" in url)
    assert "Bank holiday: Easter Monday" in page.inner_text("#rota-table")
    context.close()


def test_practice_clinician_sees_their_practice_only(browser, live_server: str, web_world) -> None:  # noqa: F811
    page = browser.new_page()
    sign_in(page, live_server, "clin_a")
    page.goto(f"{live_server}/access")
    practices = {
        cell.strip()
        for cell in page.locator("#access-week tbody tr td:first-child").all_inner_texts()
    }
    assert len(practices) == 1
    page.goto(f"{live_server}/rota")
    employers = {
        cell.strip()
        for cell in page.locator("#rota-table tbody tr td:nth-child(2)").all_inner_texts()
    }
    assert "PCN-employed" in employers and len(employers) == 2
    page.close()
