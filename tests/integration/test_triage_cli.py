"""The batch contract and the evaluate command, driven through the real CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pcn.cli.main import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    return result.exit_code, " ".join(text.split())


def test_batch_writes_the_output_contract(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        "id,age,sex,text\n"
        'r1,62,M,"crushing chest pain, going into my jaw, sweating"\n'
        'r2,30,F,"burning when I wee, going all the time"\n'
        "r3,45,F,please can I order my repeat prescription\n"
    )
    target = tmp_path / "out.csv"
    code, output = _run("triage", "--input", str(source), "--output", str(target))
    assert code == 0, output
    with target.open(newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["id", "urgency", "route", "red_flags", "explanation"]
    assert [r["id"] for r in rows] == ["r1", "r2", "r3"]
    assert (rows[0]["urgency"], rows[0]["route"]) == ("emergency", "emergency_services")
    assert "chest_pain_cardiac" in rows[0]["red_flags"].split(";")
    assert (rows[1]["route"], rows[2]["route"]) == ("pharmacy_first", "admin")
    assert rows[1]["red_flags"] == rows[2]["red_flags"] == ""
    assert all(r["explanation"] for r in rows)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id,age,text\nr1,40,cough\n", "missing column(s) sex"),
        ("id,age,sex,text\nr1,40,F,cough\nr2,40,X,cough\n", "row 3, column 'sex'"),
        ("id,age,sex,text\nr1,forty,F,cough\n", "row 2, column 'age'"),
        ("id,age,sex,text\nr1,140,F,cough\n", "row 2, column 'age'"),
        ("id,age,sex,text\nr1,40,F,\n", "row 2, column 'text': is empty"),
        ("id,age,sex,text\nr1,40,F,cough\nr1,41,M,cold\n", "row 3, column 'id': duplicate"),
        ("id,age,sex,text\n,40,F,cough\n", "row 2, column 'id': is empty"),
        ("id,age,sex,text\nr1,40,F,cough,extra,fields\n", "row 2, column 'text'"),
    ],
)
def test_bad_input_names_row_and_column_and_writes_nothing(
    tmp_path: Path, content: str, expected: str
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    target = tmp_path / "out.csv"
    code, output = _run("triage", "--input", str(source), "--output", str(target))
    assert code == 2
    assert expected in output
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary file left behind either


def test_bad_input_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"id,age,sex,text\nr1,40,F,\xff\xfe broken\n")
    target = tmp_path / "out.csv"
    target.write_text("previous results\n")
    code, output = _run("triage", "--input", str(source), "--output", str(target))
    assert code == 2
    assert "not UTF-8" in output
    assert target.read_text() == "previous results\n"


def test_missing_input_file_is_a_clear_error(tmp_path: Path) -> None:
    code, output = _run(
        "triage", "--input", str(tmp_path / "nope.csv"), "--output", str(tmp_path / "o.csv")
    )
    assert code == 2
    assert "no such file" in output


def test_evaluate_prints_every_measure(tmp_path: Path) -> None:
    source = tmp_path / "labelled.csv"
    source.write_text(
        "id,age,sex,text,urgency,route\n"
        "a,60,M,crushing chest pain going down my left arm,emergency,emergency_services\n"
        "b,40,F,please can I have a sick note for work,routine,admin\n"
    )
    code, output = _run("triage", "evaluate", "--input", str(source))
    assert code == 0, output
    for measure in (
        "emergencies caught",
        "urgency exact",
        "under-triaged",
        "routine and self-care over-triaged",
        "route exact",
        "confusion matrix",
    ):
        assert measure in output
    assert "1/1 (100.0%)" in output  # emergencies caught row


def test_evaluate_rejects_unknown_labels(tmp_path: Path) -> None:
    source = tmp_path / "labelled.csv"
    source.write_text("id,age,sex,text,urgency,route\na,40,F,cough,soon,gp\n")
    code, output = _run("triage", "evaluate", "--input", str(source))
    assert code == 2
    assert "row 2, column 'urgency'" in output


@pytest.mark.parametrize("command", [[], ["evaluate"], ["explain"]])
def test_every_triage_command_has_help(command: list[str]) -> None:
    code, output = _run("triage", *command, "--help")
    assert code == 0
    assert "Usage" in output


def test_capacity_command_declares_slots_that_routing_uses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.config import get_settings
    from pcn.store.database import now_utc, open_store
    from pcn.store.migrate import upgrade
    from pcn.triage.requests import capacity_today

    monkeypatch.setenv("PCN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PCN_DATABASE_URL", "")
    get_settings.cache_clear()
    store = open_store()
    upgrade(store)
    try:
        assert _run("triage", "capacity", "--practice", "a81016", "--role", "anp",
                    "--slots", "4")[0] == 0
        code, text = _run("triage", "capacity", "--practice", "A81016", "--role", "wizard",
                          "--slots", "4")
        assert code == 2 and "role: 'wizard' is not one of" in text
        assert capacity_today(store, "A81016", now_utc().date()) == {"anp": 4}
    finally:
        store.dispose()
        get_settings.cache_clear()
