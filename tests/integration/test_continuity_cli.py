"""``pcn continuity`` on a small record written with the real RecordWriter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.record import RecordWriter

runner = CliRunner()


def _record(base: Path) -> None:
    rows = []
    for patient in range(40):
        practice = "A00001" if patient < 15 else "B00002" if patient < 20 else "C00003"
        for k in range(3):
            rows.append((len(rows), patient, practice, f"gp{patient % 2}", "gp", "face_to_face",
                         dt.datetime(2024, 1 + k, 10, 9), "attended"))
    cols = ["appointment_id", "patient_id", "practice_code", "clinician_id", "role", "mode",
            "start_at", "status"]
    appointments = pa.table({c: [r[i] for r in rows] for i, c in enumerate(cols)})
    registrations = pa.table({
        "patient_id": list(range(40)),
        "practice_code": ["A00001" if p < 15 else "B00002" if p < 20 else "C00003"
                          for p in range(40)],
        "start_date": [dt.date(2020, 1, 1)] * 40,
        "end_date": pa.array([None] * 40, pa.date32()),
    })
    hospital = pa.table({
        "patient_id": [1, 2],
        "kind": ["ae_attendance", "emergency_admission"],
        "start_date": [dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
        "end_date": pa.array([None, None], pa.date32()),
        "icd10_code": pa.array([None, "J441"], pa.string()),
    })
    with RecordWriter(base, source={"kind": "test"}) as writer:
        writer.write("appointments", appointments)
        writer.write("registrations", registrations)
        writer.write("hospital_activity", hospital)


def test_continuity_command_prints_protected_tables(tmp_path: Path) -> None:
    _record(tmp_path / "rec")
    result = runner.invoke(app, ["continuity", "--record", str(tmp_path / "rec")])
    assert result.exit_code == 0, result.output
    assert "Continuity of care by practice" in result.output
    assert "Care closer to home" in result.output
    rows = {code: next(ln for ln in result.output.splitlines() if code in ln)
            for code in ("A00001", "B00002", "C00003", "ALL")}
    # B has 5 eligible patients: hidden; A (15) is then hidden too, or B = total - A - C.
    assert "5" not in rows["B00002"] and "15" not in rows["A00001"]
    assert "20" in rows["C00003"]
    assert "20" in rows["ALL"]  # the network row counts only what is shown


def test_bad_date_is_a_clear_error(tmp_path: Path) -> None:
    _record(tmp_path / "rec")
    result = runner.invoke(app, ["continuity", "--record", str(tmp_path / "rec"),
                                 "--start", "2024-13-01"])
    assert result.exit_code == 2
    assert "not a date" in result.output
