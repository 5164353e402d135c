"""`pcn risk qrisk3`: the batch contract (id,score out; bad rows named; nothing half-written)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pcn.cli.main import app
from tests.spec import qrisk3_oracle as oracle

HEADER = ("id,sex,age,ethrisk,town,smoke_cat,b_AF,b_atypicalantipsy,b_corticosteroids,"
          "b_impotence2,b_migraine,b_ra,b_renal,b_semi,b_sle,b_treatedhyp,b_type1,b_type2,"
          "fh_cvd,bmi,rati,sbp,sbps5")
GOOD = [
    "p1,F,64,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,25.25,4,180,20",
    "p2,M,64,2,0,0,1,0,0,1,0,0,0,0,0,1,0,1,1,31.2,5.5,150,12",
    "p3,M,25,9,-3.2,4,0,1,1,0,1,1,1,1,1,0,1,0,0,19.5,2.2,110,0",
]
BAD = "p4,X,90,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,25,4,180,20"


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def as_profile(line: str) -> dict:
    row = dict(zip(HEADER.split(","), line.split(","), strict=True))
    out: dict = {"sex": row["sex"]}
    for k, v in row.items():
        if k in ("id", "sex"):
            continue
        out[k] = float(v) if k in ("town", "bmi", "rati", "sbp", "sbps5") else int(v)
    return out


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


runner = CliRunner()


def said(result) -> str:  # type: ignore[no-untyped-def]
    """The command's output with line wrapping undone (rich wraps long messages)."""
    return " ".join(result.output.split())


def test_batch_writes_id_and_unrounded_score(tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", GOOD)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = read(out)
    assert [r["id"] for r in rows] == ["p1", "p2", "p3"]
    assert list(rows[0]) == ["id", "score"]
    for row, line in zip(rows, GOOD, strict=True):
        assert float(row["score"]) == pytest.approx(oracle.score(as_profile(line)), abs=1e-9)
    assert len(rows[0]["score"].split(".")[1]) > 6  # not rounded
    assert "wrong patients being given the wrong treatment" in said(result)  # disclaimer


def test_batch_with_a_bad_row_names_it_and_writes_nothing(tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", [*GOOD, BAD])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2
    assert "row 4 (id p4), column sex" in said(result)
    assert "row 4 (id p4), column age" in said(result)
    assert "nothing written" in said(result)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [src]  # no temporary file left behind either


def test_batch_skip_invalid_scores_the_good_rows_and_reports_the_bad(tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", [GOOD[0], BAD, GOOD[1]])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out),
                                 "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read(out)] == ["p1", "p2"]
    assert "skipped: row 2 (id p4)" in said(result)
    assert "skipped 1 bad row" in said(result)


def test_batch_missing_column_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("id,sex,age\np1,F,50\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2
    assert "missing column(s) ethrisk" in said(result)
    assert not out.exists()


def test_batch_failure_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", [BAD])
    out = tmp_path / "out.csv"
    out.write_text("id,score\nold,1.0\n", encoding="utf-8")
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2
    assert out.read_text(encoding="utf-8") == "id,score\nold,1.0\n"


def test_risk_commands_have_help() -> None:
    result = runner.invoke(app, ["risk", "qrisk3", "--help"])
    assert result.exit_code == 0
    assert "--skip-invalid" in said(result)


def test_batch_with_a_ragged_row_is_refused_cleanly(tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", [GOOD[0], "p9,F,50"])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2
    assert "not a readable CSV" in said(result)
    assert not out.exists()


def test_batch_empty_cell_is_an_error_not_a_default(tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", [GOOD[0].replace(",25.25,", ",,")])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 2
    assert "row 1 (id p1), column bmi" in said(result)


def test_batch_with_only_a_header_writes_only_a_header(tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", [])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == ["id,score"]


def test_batch_ids_that_need_quoting_survive(tmp_path: Path) -> None:
    src = write(tmp_path / "in.csv", ['"Smith, J",' + GOOD[0].split(",", 1)[1]])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["risk", "qrisk3", "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read(out)] == ["Smith, J"]
