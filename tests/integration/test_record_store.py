import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
import pytest

from pcn.record import RecordWriter, open_record
from pcn.record.store import RecordError


def _patients(n: int, shift: int = 0) -> pa.Table:
    return pa.table(
        {
            "patient_id": pa.array(range(n), pa.int64()),
            "nhs_number": pa.array([f"99900000{i:01d}" for i in range(n)], pa.string()),
            "date_of_birth": pa.array([dt.date(1950 + shift, 1, 1 + i) for i in range(n)]),
            "sex": pa.array(["F" if i % 2 else "M" for i in range(n)]),
            "ethnicity_code": pa.array([None] * n, pa.string()),
            "lsoa_code": pa.array(["E01012000"] * n),
            "date_of_death": pa.array([None] * n, pa.date32()),
        }
    )


def _write(base: Path, shift: int = 0) -> RecordWriter:
    with RecordWriter(base, source={"kind": "test"}) as w:
        w.write("patients", _patients(3, shift))
    return w


def test_record_round_trip_has_every_table_and_manifest(tmp_path: Path) -> None:
    w = _write(tmp_path / "rec")
    rec = open_record(tmp_path / "rec")
    assert rec.manifest.tables["patients"].rows == 3
    assert set(rec.manifest.tables) >= {"practices", "clinical_events", "lsoa"}
    assert rec.read("patients").num_rows == 3
    assert rec.read("clinical_events").num_rows == 0
    assert w.changed


def test_rewriting_identical_content_is_a_no_op(tmp_path: Path) -> None:
    _write(tmp_path / "rec")
    first = open_record(tmp_path / "rec")
    w = _write(tmp_path / "rec")
    second = open_record(tmp_path / "rec")
    assert not w.changed
    assert second.path == first.path
    assert second.manifest.created_at == first.manifest.created_at


def test_failed_write_leaves_previous_record(tmp_path: Path) -> None:
    _write(tmp_path / "rec")
    before = open_record(tmp_path / "rec").manifest.content_hash
    with pytest.raises(RuntimeError), RecordWriter(tmp_path / "rec", source={}) as w:
        w.write("patients", _patients(3, shift=5))
        raise RuntimeError("boom")
    assert open_record(tmp_path / "rec").manifest.content_hash == before
    assert not [p for p in (tmp_path / "rec").iterdir() if p.name.startswith(".staging")]


def test_bad_column_type_is_named(tmp_path: Path) -> None:
    bad = _patients(2).set_column(3, "sex", pa.array([1, 2], pa.int64()))
    with (
        pytest.raises(RecordError, match=r"patients: missing column|patients"),
        RecordWriter(tmp_path / "rec", source={}) as w,
    ):
        w.write("patients", bad.drop(["lsoa_code"]))


def test_killed_writer_leaves_previous_record_intact(tmp_path: Path) -> None:
    base = tmp_path / "rec"
    _write(base)
    before = open_record(base).manifest.content_hash
    script = textwrap.dedent(f"""
        import datetime as dt, time, pyarrow as pa
        from pcn.record import RecordWriter
        from tests.integration.test_record_store import _patients
        with RecordWriter({str(base)!r}, source={{}}) as w:
            w.write("patients", _patients(3, shift=9))
            print("half-written", flush=True)
            time.sleep(60)
    """)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"half-written"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.1)
    assert open_record(base).manifest.content_hash == before
    # the next writer cleans the dead writer's staging directory
    _write(base, shift=2)
    assert not [p for p in base.iterdir() if p.name.startswith(".staging")]
    assert open_record(base).manifest.content_hash != before
