"""Funding outputs are planning (secondary) use: opted-out patients are left out of them.

Oracle as in test_secondary_use.py: the same record with every opted-out patient's rows deleted
gives exactly what the funding outputs give from the full record."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from pcn.cli.main import app as cli_app
from tests.web.conftest import WebRecord
from tests.web.test_secondary_use import deleted_record, opted_out  # noqa: F401 (fixtures)

runner = CliRunner()


def test_weighted_list_cli_equals_the_record_without_opted_out(
        web_record: WebRecord, deleted_record: Path, tmp_path: Path) -> None:  # noqa: F811
    full, oracle = tmp_path / "full.csv", tmp_path / "oracle.csv"
    for record, out in ((web_record.record, full), (deleted_record, oracle)):
        result = runner.invoke(cli_app, ["funding", "weighted-list", "--record", str(record),
                                         "--output", str(out)])
        assert result.exit_code == 0, result.output
    assert full.read_text() == oracle.read_text()


def test_funding_report_cli_equals_the_record_without_opted_out(
        web_record: WebRecord, deleted_record: Path) -> None:  # noqa: F811
    from pcn.funding.weighted import comparison, record_population

    full = comparison(record_population(web_record.record))
    oracle = comparison(record_population(deleted_record))
    columns = ["practice_code", "registered", "carr_hill", "imd_need", "care_home_residents",
               "allocation_carr_hill", "allocation_imd_need"]
    pd.testing.assert_frame_equal(full[columns], oracle[columns])
    report = runner.invoke(cli_app, ["funding", "report", "--record", str(web_record.record)])
    assert report.exit_code == 0, report.output


def test_funding_summary_and_csv_equal_the_record_without_opted_out(
        web_record: WebRecord, deleted_record: Path, clients,  # noqa: F811
        tmp_path: Path) -> None:
    from pcn.funding.summary import care_home_residents
    from pcn.measures.sdc import protect_counts

    full = care_home_residents(web_record.record, "U55830")
    assert full == care_home_residents(deleted_record, "U55830")
    outs = []
    for record in (web_record.record, deleted_record):
        out = tmp_path / f"summary-{len(outs)}.csv"
        result = runner.invoke(cli_app, ["funding", "summary", "--pcn", "U55830", "--record",
                                         str(record), "--output", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    # the web download: the same count after disclosure control
    csv = clients["manager"].get("/funding/export.csv?year=2025/26").text
    line = pd.read_csv(io.StringIO(csv)).set_index("stream").loc["care_home_premium"]
    shown = protect_counts(pd.Series([full], name="n", dtype="int64")).iloc[0]
    if pd.isna(shown):
        assert pd.isna(line["population"])
    else:
        assert line["population"] == shown
