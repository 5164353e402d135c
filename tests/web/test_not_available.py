"""Issue 19: an indicator the record cannot support says "not available" on the page, in the
API, in the CSV export and in the CLI, never 0% or a funnel of zeros."""

from __future__ import annotations

import csv
import io

from typer.testing import CliRunner

from pcn.cli.main import app as cli

NA = "ld_health_check"  # no shipped codelist for the LD annual health check (HLTHCHK_COD)
OK = "cervical_screening_25_49"


def test_page_says_not_available_and_draws_nothing(clients) -> None:  # type: ignore[no-untyped-def]
    page = clients["director"].get(f"/indicators/{NA}")
    assert page.status_code == 200
    assert 'id="not-available"' in page.text and "HLTHCHK_COD" in page.text
    assert "funnel-chart" not in page.text and "indicator-table" not in page.text
    listing = clients["director"].get("/indicators").text
    assert "Not available" in listing
    shown = clients["director"].get(f"/indicators/{OK}").text
    assert 'id="not-available"' not in shown and "indicator-table" in shown


def test_api_marks_it_unavailable_with_no_rows(api, tokens) -> None:  # type: ignore[no-untyped-def]
    body = api.get(f"/api/indicators/{NA}",
                   headers={"Authorization": f"Bearer {tokens['director']}"}).json()
    assert body["available"] is False and body["rows"] == [] and body["spc"] is None
    assert "HLTHCHK_COD" in body["not_available_reason"]
    shown = api.get(f"/api/indicators/{OK}",
                    headers={"Authorization": f"Bearer {tokens['director']}"}).json()
    assert shown["available"] is True and shown["rows"]
    pcn = next(r for r in shown["rows"] if r["level"] == "pcn")
    assert pcn["value"] > 0  # the twin records screening now


def test_csv_says_not_available_in_every_row(clients) -> None:  # type: ignore[no-untyped-def]
    response = clients["director"].get(f"/indicators/{NA}/export.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and all(r["value"] == "not available" for r in rows)
    assert "numerator" not in rows[0]


def test_cli_show_says_not_available(web_record) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["indicators", "show", NA, "--record",
                                      str(web_record.record)])
    assert result.exit_code == 0, result.output
    assert "not available" in result.output
    shown = CliRunner().invoke(cli, ["indicators", "show", OK, "--record",
                                     str(web_record.record)])
    assert shown.exit_code == 0 and "not available" not in shown.output


def test_no_xmr_chart_of_overlapping_month_end_values(clients, api, tokens) -> None:  # type: ignore[no-untyped-def]
    """Issue 19: month-end values of rolling windows are autocorrelated; only independent
    monthly values (event counts and rates) get an XmR chart."""
    auth = {"Authorization": f"Bearer {tokens['director']}"}
    rolling = api.get("/api/indicators/hyp_bp_140_90_under_80", headers=auth).json()
    assert rolling["available"] is True and rolling["spc"] is None
    page = clients["director"].get("/indicators/hyp_bp_140_90_under_80").text
    assert 'id="spc-not-drawn"' in page and "spc-chart" not in page
    monthly = api.get("/api/indicators/dna_rate", headers=auth).json()
    assert monthly["spc"] is not None and len(monthly["spc"]["points"]) >= 2


def test_worklists_page_lists_what_is_not_available(clients) -> None:  # type: ignore[no-untyped-def]
    page = clients["director"].get("/worklists").text
    assert 'id="worklists-not-available"' in page and "HLTHCHK_COD" in page
    assert 'href="/worklists/ld_health_check_due"' not in page  # never a list of everyone
