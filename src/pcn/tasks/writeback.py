"""Follow-through: closed tasks' coded outcomes become coded entries of the network record.

A task closed with an outcome code (structured medication review, declined, not appropriate, ...)
is written as one ``clinical_events`` row — patient, the day the work was done, the SNOMED code —
in a new snapshot of the record, published atomically like every load. The pipeline then reads
it like any other coded entry on every engine (DuckDB and Spark read the same Parquet), so a
patient whose review is recorded leaves the structured medication review worklist and counts in
the indicator's numerator at the next ``pcn run`` (ADR 0110).

Which tasks a snapshot already holds is kept in its manifest (``extra.task_activity``), so a
rerun writes nothing twice, and a record rebuilt from its sources gets the work again.

A synthetic twin describes one fixed day (its ``as_of``): work recorded against it is dated on
that day at the latest, so the twin's next run sees it. A real record's ``as_of`` moves forward
to the latest day of work written into it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from pcn.record.store import RecordWriter, open_record
from pcn.store.database import Store
from pcn.store.models import Task
from pcn.tasks.vocabulary import CLOSED_STATUSES

EXTRA_KEY = "task_activity"


def activity_date(source: dict[str, Any], today: dt.date | None = None) -> dt.date:
    """The day work recorded now is dated: today, or a synthetic twin's own day if earlier."""
    today = today or dt.date.today()
    if source.get("kind") == "synthetic_twin" and source.get("as_of"):
        return min(today, dt.date.fromisoformat(str(source["as_of"])[:10]))
    return today


@dataclass(frozen=True)
class Activity:
    task_id: int
    patient_id: int
    date: dt.date
    snomed_code: str


@dataclass(frozen=True)
class WritebackResult:
    written: list[Activity]
    #: coded tasks about patients this record does not hold (another record's, or removed)
    not_in_record: int
    already_written: int
    snapshot: Path
    changed: bool


def coded_activity(store: Store) -> list[Activity]:
    """Every closed task with an outcome code and a patient, oldest first."""
    with store.read() as session:
        rows = session.execute(
            select(Task.id, Task.patient_id, Task.outcome_date, Task.outcome_code)
            .where(Task.status.in_(CLOSED_STATUSES), Task.outcome_code.is_not(None),
                   Task.patient_id.is_not(None), Task.outcome_date.is_not(None))
            .order_by(Task.id)).all()
    return [Activity(int(t), int(p), d, str(c)) for t, p, d, c in rows
            if p is not None and d is not None]


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)  # snapshots are immutable: a hard link is a safe copy
    except OSError:
        shutil.copyfile(src, dst)


def write_back(record_dir: str | Path, store: Store) -> WritebackResult:
    """Write every closed, coded task not yet in the record as a clinical event (a new
    snapshot, published atomically; nothing is written when there is nothing new)."""
    record = open_record(record_dir)
    done = record.manifest.extra.get(EXTRA_KEY, {})
    written_ids = {int(i) for i in done.get("task_ids", [])}
    patients = set(record.read("patients", columns=["patient_id"])
                   .column("patient_id").to_pylist())
    activity = coded_activity(store)
    new = [a for a in activity if a.task_id not in written_ids and a.patient_id in patients]
    missing = sum(1 for a in activity if a.patient_id not in patients)
    already = sum(1 for a in activity if a.task_id in written_ids)
    if not new:
        return WritebackResult([], missing, already, record.path, False)

    source = dict(record.manifest.source)
    latest = max(a.date for a in new)
    if source.get("kind") != "synthetic_twin" and source.get("as_of") \
            and latest > dt.date.fromisoformat(str(source["as_of"])[:10]):
        source["as_of"] = latest.isoformat()
    extra = {**record.manifest.extra,
             EXTRA_KEY: {"task_ids": sorted(written_ids | {a.task_id for a in new}),
                         "latest_activity_date": max(
                             [latest.isoformat(), str(done.get("latest_activity_date", ""))])}}
    events = pa.table({
        "patient_id": pa.array([a.patient_id for a in new], pa.int64()),
        "date": pa.array([a.date for a in new], pa.date32()),
        "snomed_code": pa.array([a.snomed_code for a in new], pa.string()),
        "numeric_value": pa.array([None] * len(new), pa.float64()),
    })
    writer = RecordWriter(record.base, source=source, extra=extra)
    with writer:
        assert writer.staging is not None
        for table, entry in record.manifest.tables.items():
            for name in entry.files:
                target = writer.staging / name
                _copy(record.path / name, target)
                writer.register_part(table, target)
        part = len(record.manifest.tables["clinical_events"].files)
        while writer.part_path("clinical_events", part).exists():
            part += 1
        writer.write("clinical_events", events, part=part)
    assert writer.record is not None
    return WritebackResult(new, missing, already, writer.record.path, writer.changed)
