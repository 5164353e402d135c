"""Alerts from home readings become tasks with their evidence, once per series (issue 22)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.config import get_settings
from pcn.refdata import codelist
from pcn.store.database import Store
from pcn.store.models import AuditEvent, Task, TaskEvent
from tests.spec.conftest import build_record, ev, patient, practice, reg

HYP = sorted(codelist("nhsd-primary-care-domain-refsets-hyp_cod").codes)[0]
START = dt.date(2026, 12, 1)


def days(pid: int, n: int, sys: int, dia: int) -> list[list[object]]:
    return [
        [pid, f"{START + dt.timedelta(days=i)}T{t}", sys, dia, 72]
        for i in range(n)
        for t in ("08:00", "20:00")
    ]


@pytest.fixture
def world(tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    build_record(
        tmp_path / "record",
        as_of=dt.date(2026, 12, 31),
        practices=[practice("A00001"), practice("A00002")],
        patients=[patient(p, dob=dt.date(1960, 1, 1)) for p in (1, 2, 3, 4)],
        registrations=[reg(1, "A00001"), reg(2, "A00002"), reg(3), reg(4)],
        clinical_events=[ev(2, dt.date(2018, 1, 1), HYP)],
    )
    monkeypatch.setenv("PCN_DATABASE_URL", store.url)
    get_settings.cache_clear()
    yield tmp_path / "record"
    get_settings.cache_clear()


def import_rows(record: Path, path: Path, rows: list[list[object]]) -> str:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "taken_at", "systolic", "diastolic", "pulse"])
        writer.writerows(rows)
    result = CliRunner().invoke(
        app, ["monitoring", "import", "--record", str(record), "--input", str(path)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_alerts_become_tasks_with_their_evidence_and_never_twice(
    world: Path, tmp_path: Path, store: Store
) -> None:
    severe = [*days(1, 4, 130, 80), [1, f"{START}T21:00", 184, 96, 88]]
    rows = severe + days(2, 4, 140, 80) + days(3, 4, 152, 80) + days(4, 4, 120, 75)
    out = import_rows(world, tmp_path / "r.csv", rows)
    assert "3 alert task(s) raised" in out
    with store.read() as session:
        tasks = {t.patient_id: t for t in session.scalars(select(Task))}
        events = list(session.scalars(select(TaskEvent)))
        audited = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "monitoring_alerts"))
        )
    assert sorted(tasks) == [1, 2, 3]  # patient 4 is normal: no task
    urgent = tasks[1]
    assert (
        urgent.source,
        urgent.kind,
        urgent.priority,
        urgent.owner_role,
        urgent.practice_code,
    ) == ("monitoring", "home_bp_severe", "urgent", "gp", "A00001")
    assert urgent.due_date == urgent.created_at.date()  # same day
    assert "1 December 2026 21:00 184/96 mmHg" in urgent.reason
    assert urgent.notes is not None and urgent.notes.count("\n- ") == 9
    review = tasks[2]
    assert (review.kind, review.priority, review.practice_code) == (
        "home_bp_above_target",
        "routine",
        "A00002",
    )
    assert "average 140.0/80.0 mmHg from 6 readings over 3 days" in review.reason
    assert (tasks[3].kind, tasks[3].priority) == ("home_bp_stage2", "high")
    evidence = {e.task_id: e.detail["evidence"] for e in events}
    assert len(evidence[urgent.id]["readings"]) == 9
    assert evidence[review.id]["on_hypertension_register"] is True
    assert len(audited) == 1 and audited[0].detail["patient_ids"] == [1, 2, 3]

    # the same readings again, and one more normal reading in patient 1's series: no new task
    again = import_rows(world, tmp_path / "r2.csv", [*rows, [1, f"{START}T23:00", 120, 80, 70]])
    assert "alert task(s) raised" not in again
    with store.read() as session:
        assert len(list(session.scalars(select(Task)))) == 3


def test_a_link_is_issued_for_a_patient_of_the_record_and_audited(
    world: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pcn.monitoring import links

    monkeypatch.setenv("PCN_SECRET_KEY", "link-test-secret-0123456789abcdef")
    monkeypatch.setenv("PCN_PUBLIC_BASE_URL", "https://pcn.example.nhs.uk/")
    get_settings.cache_clear()
    result = CliRunner().invoke(
        app,
        ["monitoring", "link", "--record", str(world), "--patient", "3"],
        env={"COLUMNS": "400"},
    )
    assert result.exit_code == 0, result.output
    url = next(w for w in result.output.split() if w.startswith("https://"))
    assert url.startswith("https://pcn.example.nhs.uk/readings/")
    assert links.read(get_settings(), url.rsplit("/", 1)[1]).patient_id == 3
    with store.read() as session:
        issued = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "monitoring_link_issued"))
        )
    assert [e.patient_id for e in issued] == [3]
    unknown = CliRunner().invoke(
        app, ["monitoring", "link", "--record", str(world), "--patient", "77"]
    )
    assert unknown.exit_code == 2 and "patient 77 is not in" in unknown.output
