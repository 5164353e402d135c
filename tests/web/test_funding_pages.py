"""The funding summary page and its CSV download: role checks, figures, year and source."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from pcn.access.policy import ROLE_ACTIONS, Action, Role
from tests.web.conftest import ACCOUNTS

AGGREGATE_ROLES = [u for u, (role, _) in ACCOUNTS.items()
                   if Action.VIEW_AGGREGATES in ROLE_ACTIONS[Role(role)]]
EXPORT_ROLES = [u for u, (role, _) in ACCOUNTS.items()
                if Action.EXPORT_AGGREGATES in ROLE_ACTIONS[Role(role)]]


def test_funding_needs_sign_in(api) -> None:
    for path in ("/funding", "/funding/export.csv"):
        response = api.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=")


@pytest.mark.parametrize("username", AGGREGATE_ROLES)
def test_funding_page_renders_for_roles_with_aggregates(clients, username: str) -> None:
    response = clients[username].get("/funding")
    assert response.status_code == 200, response.text[:500]
    html = response.text
    assert "Network Contract DES money, 2025/26" in html
    for raw in ("None", "nan", "NaT"):
        assert not re.search(rf">\s*{raw}\s*<", html), raw


def test_admin_has_no_funding_page(clients) -> None:
    assert clients["admin"].get("/funding").status_code == 404
    assert clients["admin"].get("/funding/export.csv").status_code == 404


def test_every_money_line_says_its_year_and_source(clients) -> None:
    from pcn.funding.money import arrs_entitlement

    html = clients["manager"].get("/funding?year=2024/25").text
    table = html[html.index('id="funding-lines"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r'<tr class="nhsuk-table__row" data-stream="([a-z_]+)">(.*?)</tr>', table,
                      flags=re.S)
    assert {s for s, _ in rows} >= {"arrs", "enhanced_access", "care_home_premium",
                                    "capacity_access_support", "arrs_gp_ringfence"}
    for stream, row in rows:
        assert "2024/25" in row, stream
        assert 'href="https://' in row, stream
    expected = arrs_entitlement("U55830", "2024/25").amount
    arrs = dict(rows)["arrs"]
    assert f"£{expected:,.2f}" in arrs


def test_unknown_year_is_not_found(clients) -> None:
    assert clients["manager"].get("/funding?year=2019/20").status_code == 404
    assert clients["manager"].get("/funding/export.csv?year=nonsense").status_code == 404


@pytest.mark.parametrize("username", EXPORT_ROLES)
def test_funding_csv_download(clients, username: str) -> None:
    response = clients[username].get("/funding/export.csv?year=2025/26")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "funding_U55830_2025-26.csv" in response.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(response.text))
    assert set(frame["year"]) == {"2025/26"}
    assert frame["sources"].str.startswith("https://").all()
    assert "arrs" in set(frame["stream"])


def test_clinician_cannot_download_funding(clients) -> None:
    """Practice clinicians see aggregates but have no aggregate export (the access policy)."""
    assert clients["clin_a"].get("/funding/export.csv").status_code == 404


def test_weighted_lists_show_the_record_beside_the_published(clients, web_world) -> None:
    from pcn.funding.weighted import comparison, record_population

    expected = comparison(record_population(web_world.record))
    html = clients["director"].get("/funding").text
    table = html[html.index('id="weighted-lists"'):]
    table = table[:table.index("</table>")]
    total = expected[expected["practice_code"] == "PCN"].iloc[0]
    assert f'{total["weighted_published"]:,.0f}' in table
    assert f'{total["carr_hill"]:,.0f}' in table
    assert "Whole PCN" in table


def test_analyst_sees_registered_counts_rounded_to_five(clients) -> None:
    html = clients["analyst"].get("/funding").text
    table = html[html.index('id="weighted-lists"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr class=\"nhsuk-table__row \">(.*?)</tr>", table, flags=re.S)
    assert rows
    for row in rows:
        registered = re.findall(r'numeric">([\d,]+)</td>', row)[0]
        assert int(registered.replace(",", "")) % 5 == 0
