"""``pcn indicators``: check, list, schema and series through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.measures.indicators import indicators_dir

runner = CliRunner()


def test_check_passes_on_shipped_definitions() -> None:
    result = runner.invoke(app, ["indicators", "check"])
    assert result.exit_code == 0, result.output
    count = len(list(indicators_dir().glob("*.yaml")))
    assert f"{count} indicator definitions valid" in result.output


def test_check_names_the_bad_file_and_fails(tmp_path: Path) -> None:
    good = (indicators_dir() / "dna_rate.yaml").read_text()
    (tmp_path / "dna_rate.yaml").write_text(good)
    (tmp_path / "broken.yaml").write_text(good.replace("id: dna_rate", "id: broken").replace(
        "status == 'did_not_attend'", "status === 'x'"))
    result = runner.invoke(app, ["indicators", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "broken.yaml" in result.output and "cannot parse" in result.output
    assert "1 of 2 definitions are invalid" in result.output


def test_list_and_schema() -> None:
    listed = runner.invoke(app, ["indicators", "list"])
    assert listed.exit_code == 0 and "dna_rate" in listed.output
    schema = runner.invoke(app, ["indicators", "schema"])
    assert json.loads(schema.output)["additionalProperties"] is False


def test_series_needs_published_outputs_and_says_so(tmp_path: Path) -> None:
    import datetime as dt

    from tests.spec.conftest import build_record, patient, practice, reg

    build_record(tmp_path / "rec", as_of=dt.date(2025, 6, 30), practices=[practice("A00001")],
                 patients=[patient(1)], registrations=[reg(1)])
    result = runner.invoke(app, ["indicators", "series", "--record", str(tmp_path / "rec")])
    assert result.exit_code == 2
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "no published outputs" in said and "run `pcn run --record" in said
    assert not (tmp_path / "rec" / "outputs" / "current").exists()
    bad = runner.invoke(app, ["indicators", "series", "--record", str(tmp_path / "rec"),
                              "--months", "0"])
    assert bad.exit_code == 2 and "--months" in bad.output
