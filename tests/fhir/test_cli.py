"""The CLI edges: export, ingest (fhir, csv, opt-outs) end to end, and --help everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.record import open_record
from tests.fhir.records import NHS, small_tables, write_record

runner = CliRunner()


@pytest.mark.parametrize("cmd", [["ingest", "fhir"], ["ingest", "csv"], ["ingest", "parquet"],
                                 ["ingest", "opt-outs"], ["export", "fhir"]])
def test_every_command_has_help(cmd: list[str]) -> None:
    result = runner.invoke(app, [*cmd, "--help"])
    assert result.exit_code == 0 and "--record" in result.output


def test_export_then_ingest_round_trip_via_the_cli(tmp_path: Path) -> None:
    src = write_record(tmp_path / "a", small_tables())
    # Moving records between clinical systems is direct care: everyone, opted out or not.
    out = runner.invoke(app, ["export", "fhir", "--record", str(tmp_path / "a"),
                              "--out", str(tmp_path / "fhir"), "--purpose", "direct-care"])
    assert out.exit_code == 0, out.output
    load = runner.invoke(app, ["ingest", "fhir", "-i", str(tmp_path / "fhir"),
                               "--record", str(tmp_path / "b"), "--validation", "fast"])
    assert load.exit_code == 0, load.output
    assert "record changed" in load.output
    assert (open_record(tmp_path / "b").manifest.tables["patients"].content_hash
            == src.manifest.tables["patients"].content_hash)


def test_bad_input_gives_a_one_line_error_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "fhir", "-i", str(tmp_path / "missing.json"),
                                 "--record", str(tmp_path / "r")])
    assert result.exit_code == 2
    bad_mapping = runner.invoke(app, ["ingest", "csv", "--mapping", "no_such_layout",
                                      "-i", str(tmp_path), "--record", str(tmp_path / "r")])
    assert bad_mapping.exit_code == 2


def test_opt_out_list_with_invalid_number_exits_1(tmp_path: Path) -> None:
    write_record(tmp_path / "r", small_tables())
    f = tmp_path / "ndoo.csv"
    f.write_text(f"nhs_number\n{NHS[0]}\n0000000001\n")
    result = runner.invoke(app, ["ingest", "opt-outs", "-i", str(f), "--record",
                                 str(tmp_path / "r")])
    assert result.exit_code == 1 and "row 3" in result.output
