"""The PCN manager's funding journey in Debian's Chromium: sign in → funding summary → another
year → CSV download; axe-core on the page; screenshots under ``test-artifacts/web/``."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from tests.web.test_browser import (  # noqa: F401 (fixtures)
    VIEWPORTS,
    axe_source,
    browser,
    check_accessibility,
    live_server,
    shot,
    sign_in,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_manager_reads_funding_summary_changes_year_and_downloads_csv(
        browser, live_server: str, axe_source: str, viewport: str) -> None:  # noqa: F811
    from pcn.funding.money import arrs_entitlement

    context = browser.new_context(viewport=VIEWPORTS[viewport], accept_downloads=True)
    page = context.new_page()
    sign_in(page, live_server, "manager")
    page.click("a[href='/funding']")
    page.wait_for_url(f"{live_server}/funding")
    assert "Network Contract DES money, 2025/26" in page.inner_text("main")
    arrs = page.locator("#funding-lines tr[data-stream='arrs']").inner_text()
    assert f"£{arrs_entitlement('U55830', '2025/26').amount:,.2f}" in arrs
    assert "2025/26" in arrs
    check_accessibility(page, axe_source)
    shot(page, f"funding-{viewport}")

    page.click("#funding-years a:has-text('2023/24')")
    page.wait_for_url(lambda url: "year=2023" in url)
    arrs = page.locator("#funding-lines tr[data-stream='arrs']").inner_text()
    assert f"£{arrs_entitlement('U55830', '2023/24').amount:,.2f}" in arrs
    assert page.locator("#weighted-lists").is_visible()
    assert "Not available from public data" in page.inner_text("#components")

    with page.expect_download() as info:
        page.click("#funding-csv")
    download = info.value
    assert download.suggested_filename == "funding_U55830_2023-24.csv"
    frame = pd.read_csv(io.StringIO(Path(download.path()).read_text(encoding="utf-8")))
    assert set(frame["year"]) == {"2023/24"}
    assert frame.set_index("stream").loc["arrs", "amount"] == pytest.approx(
        arrs_entitlement("U55830", "2023/24").amount)
    context.close()
