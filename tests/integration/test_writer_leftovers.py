"""Issue 16, item 12: what a killed writer leaves is cleaned at the next start (under a writer
lock, whatever process id the leftover's name carries), and a record path that is a file is a
clear error from every command, never a traceback."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pcn.analytics.run import run as run_analytics
from pcn.cli.main import app
from pcn.record import open_record

AS_OF = dt.date(2026, 3, 31)
SYNTH = [sys.executable, "-m", "pcn.cli", "synth", "--pcn", "U55830", "--patients", "600",
         "--as-of", str(AS_OF), "--workers", "1"]


def _staging(base: Path) -> list[Path]:
    return sorted(p for p in base.iterdir() if p.name.startswith(".staging-"))


def test_a_killed_writers_staging_is_removed_at_the_next_start_whatever_its_pid(
        tmp_path: Path) -> None:
    base = tmp_path / "rec"
    subprocess.run([*SYNTH, "--out", str(base), "--seed", "1"], check=True, capture_output=True)
    # A second load killed with SIGKILL just before it publishes: its staging stays behind.
    env = dict(os.environ, PCN_SYNTH_PAUSE_BEFORE_PUBLISH="60")
    proc = subprocess.Popen([*SYNTH, "--out", str(base), "--seed", "2"], env=env,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None
    for line in proc.stdout:
        if b"ready-to-publish" in line:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (left,) = _staging(base)
    # Process ids are reused: give the leftover the id of a process that is alive (this one).
    reused = left.rename(base / f".staging-{os.getpid()}-{left.name.rsplit('-', 1)[1]}")
    assert reused.exists()

    result = run_analytics(base)  # the next writer of this record (its outputs)

    assert not _staging(base), "a killed load's staging outlived the next start"
    assert not _staging(base / "outputs")
    assert result.rows["patient_profile"] > 0
    assert open_record(base).manifest.content_hash  # the record is the published one


def _record_commands(group: object, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every command (as ``group command``) with a ``--record`` or ``--out`` option."""
    found = []
    for name, command in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            found += _record_commands(command, path)
        elif any(o in getattr(p, "opts", []) for p in command.params
                 for o in ("--record", "--out")):
            found.append(" ".join(path))
    return found


def _invocations(file: Path, bundle: Path, patients_csv: Path, out: Path) -> dict[str, list[str]]:
    record = ["--record", str(file)]
    return {
        "run": ["run", *record],
        "continuity": ["continuity", *record, "--out", str(out / "c.csv")],
        "indicators series": ["indicators", "series", *record],
        "indicators show": ["indicators", "show", "dna_rate", *record],
        "definitions check": ["definitions", "check", *record],
        "worklist list": ["worklist", "list", *record],
        "worklist show": ["worklist", "show", "smr_candidates", *record],
        "export fhir": ["export", "fhir", *record, "--out", str(out / "fhir")],
        "ingest fhir": ["ingest", "fhir", "-i", str(bundle), *record],
        "ingest csv": ["ingest", "csv", "-i", str(patients_csv), "--mapping", "emis_search_v1",
                       *record],
        "ingest parquet": ["ingest", "parquet", "-i", str(out / "none.parquet"),
                           "--mapping", "emis_search_v1", *record],
        "ingest opt-outs": ["ingest", "opt-outs", "-i", str(patients_csv), *record],
        "synth": ["synth", "--pcn", "U55830", "--patients", "200", "--out", str(file)],
        "demo summary": ["demo", "summary", *record],
        "serve": ["serve", *record],
        "funding weighted-list": ["funding", "weighted-list", *record, "--output",
                                  str(out / "w.csv")],
        "funding report": ["funding", "report", *record],
        "funding summary": ["funding", "summary", "--pcn", "U55830", *record],
        "tasks create": ["tasks", "create", "--worklist", "smr_candidates", *record],
        "tasks writeback": ["tasks", "writeback", *record],
        "monitoring import": ["monitoring", "import", *record, "--input", str(patients_csv)],
        "monitoring import-fhir": ["monitoring", "import-fhir", *record, "--input",
                                   str(bundle)],
        "monitoring link": ["monitoring", "link", *record, "--patient", "1"],
        "monitoring summary": ["monitoring", "summary", *record, "--output",
                               str(out / "s.csv")],
        "bench dataset": ["bench", "dataset", *record, "--output", str(out / "d.arrow")],
        "capacity report": ["capacity", "report", *record, "--from", "2026-01-01", "--to",
                            "2026-01-02", "--output", str(out / "cap.csv")],
        "capacity backtest": ["capacity", "backtest", *record],
        "capacity declare": ["capacity", "declare", *record, "--date", "2026-01-02"],
        "rota show": ["rota", "show", *record, "--from", "2026-01-01"],
        "rota away": ["rota", "away", "--who", "X", "--from", "2026-01-01", "--to",
                      "2026-01-02", *record],
    }


#: Commands whose --out is not a record directory.
NOT_RECORD_PATHS = {"definitions schema": "writes JSON Schema files",
                    "bench synth": "a benchmark's scratch folder, removed after"}


def test_a_record_path_that_is_a_file_is_a_clear_error_from_every_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PCN_DEBUG", "true")
    file = tmp_path / "not-a-record.txt"
    file.write_text("hello\n")
    bundle = Path(__file__).resolve().parents[1] / "data/fhir_r4_examples/patient-example.json"
    patients_csv = tmp_path / "a81016_patients.csv"
    patients_csv.write_text(
        "NHS Number,Date of Birth,Gender,Ethnicity SNOMED,LSOA,Date of Death,Organisation,"
        "Registration Date,Deduction Date\n"
        "9990000018,01-Feb-1970,F,,E01012039,,A81016,01-Jan-2000,\n")
    calls = _invocations(file, bundle, patients_csv, tmp_path)
    discovered = set(_record_commands(typer.main.get_command(app)))
    untried = discovered - set(calls) - set(NOT_RECORD_PATHS)
    assert not untried, f"commands taking a record path not tried here: {sorted(untried)}"
    runner = CliRunner()
    for name, args in calls.items():
        result = runner.invoke(app, args)
        assert result.exit_code != 0, (name, result.output)
        assert isinstance(result.exception, SystemExit), (name, repr(result.exception))
        assert "Traceback" not in result.output, name
    assert file.read_text() == "hello\n"  # nothing wrote into it
