"""Alerts from home readings become tasks in the one work model (ADR 0110, ADR 0151).

* a reading at or above 180 systolic or 120 diastolic: an urgent task due today (GP queue);
* a series above target (people on the hypertension register): a routine review;
* a stage 1 or 2 average (people not on the register): a review to confirm the diagnosis
  (stage 2 with high priority).

Each task carries its evidence: the reason names the figures, the notes list the readings, and
the ``created`` task event holds them as data. One task per series and kind of alert, ever
(``source_ref``), so importing the same readings again never makes a second task.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from pcn.access.policy import Purpose
from pcn.monitoring.rules import home_bp_rules
from pcn.monitoring.series import CATEGORY_TEXT, BpReading, SeriesSummary, display_mean
from pcn.record.store import Record
from pcn.store import audit
from pcn.store.database import Store, now_utc
from pcn.store.models import Task, TaskEvent


@dataclass(frozen=True)
class AlertRule:
    kind: str
    priority: str
    owner_role: str
    due_in_days: int
    title: str


#: Which series category raises which task (a category not here raises none).
ALERTS = {
    "severe": AlertRule(
        "home_bp_severe", "urgent", "gp", 0, "Very high home blood pressure: review today"
    ),
    "above_target": AlertRule(
        "home_bp_above_target",
        "routine",
        "practice_nurse",
        14,
        "Home blood pressure above target: review treatment",
    ),
    "stage2": AlertRule(
        "home_bp_stage2",
        "high",
        "gp",
        7,
        "Home blood pressure average in the stage 2 range: confirm diagnosis",
    ),
    "stage1": AlertRule(
        "home_bp_stage1",
        "routine",
        "gp",
        28,
        "Home blood pressure average in the stage 1 range: confirm diagnosis",
    ),
}


def _bp(r: BpReading) -> str:
    pulse = f", pulse {r.pulse}" if r.pulse is not None else ""
    return (
        f"{r.taken_at:%-d %B %Y %H:%M} {display_mean(r.systolic).removesuffix('.0')}/"
        f"{display_mean(r.diastolic).removesuffix('.0')} mmHg{pulse}"
    )


def evidence(s: SeriesSummary) -> tuple[str, str, dict[str, object]]:
    """(reason, notes, data) for a series' task."""
    rule = ALERTS[s.category]
    rules = home_bp_rules()
    if s.category == "severe":
        worst = ", ".join(_bp(r) for r in s.severe_readings)
        reason = f"{rule.title}: {worst} ({rules.severe.cite})"
    else:
        reason = (
            f"{rule.title}: average {display_mean(s.mean_systolic)}/"
            f"{display_mean(s.mean_diastolic)} mmHg from {s.n_readings_used} readings "
            f"over {s.days_used} days, first day left out "
            f"({rules.averaging.cite})"
        )
    notes = "\n".join(["Home readings in this series:", *(f"- {_bp(r)}" for r in s.readings)])
    data: dict[str, object] = {
        "series_start": s.series_start.isoformat(),
        "series_end": s.series_end.isoformat(),
        "category": s.category,
        "category_text": CATEGORY_TEXT[s.category],
        "mean_systolic": display_mean(s.mean_systolic),
        "mean_diastolic": display_mean(s.mean_diastolic),
        "n_readings_used": s.n_readings_used,
        "on_hypertension_register": s.on_register,
        "readings": [
            {
                "taken_at": r.taken_at.isoformat(),
                "systolic": float(r.systolic),
                "diastolic": float(r.diastolic),
                "pulse": r.pulse,
            }
            for r in s.readings
        ],
    }
    return reason, notes, data


def source_ref(s: SeriesSummary) -> str:
    return f"{ALERTS[s.category].kind}:{s.key}"


def current_practices(record: Record, patient_ids: Sequence[int]) -> dict[int, str]:
    """Each patient's current practice (latest open registration) in the record."""
    table = record.read("registrations", ["patient_id", "practice_code", "start_date", "end_date"])
    ids = pa.array(sorted(set(patient_ids)), type=table.schema.field("patient_id").type)
    table = table.filter(pc.is_in(table["patient_id"], value_set=ids))
    out: dict[int, tuple[dt.date, str]] = {}
    for row in table.to_pylist():
        if row["end_date"] is not None:
            continue
        held = out.get(row["patient_id"])
        if held is None or row["start_date"] > held[0]:
            out[row["patient_id"]] = (row["start_date"], row["practice_code"])
    return {pid: code for pid, (_, code) in out.items()}


def raise_alerts(
    store: Store, record: Record, series: Sequence[SeriesSummary], *, username: str, role: str
) -> list[int]:
    """A task for each series whose category raises one and has none yet; the new task ids."""
    wanted = [s for s in series if s.category in ALERTS]
    if not wanted:
        return []
    practices = current_practices(record, [s.patient_id for s in wanted])
    now = now_utc()
    created: list[tuple[int, int]] = []
    with store.session() as session:
        refs = [source_ref(s) for s in wanted]
        held = set(
            session.scalars(
                select(Task.source_ref).where(
                    Task.source == "monitoring", Task.source_ref.in_(refs)
                )
            )
        )
        for s, ref in zip(wanted, refs, strict=True):
            if ref in held:
                continue
            held.add(ref)
            rule = ALERTS[s.category]
            reason, notes, data = evidence(s)
            row = Task(
                patient_id=s.patient_id,
                practice_code=practices.get(s.patient_id),
                source="monitoring",
                worklist_id=None,
                source_ref=ref,
                kind=rule.kind,
                reason=reason,
                priority=rule.priority,
                due_date=now.date() + dt.timedelta(days=rule.due_in_days),
                owner_user=None,
                owner_role=rule.owner_role,
                status="open",
                attempts=0,
                notes=notes,
                created_by=username,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            session.add(
                TaskEvent(
                    task_id=row.id,
                    occurred_at=now,
                    username=username,
                    role=role,
                    action="created",
                    reason=None,
                    detail={
                        "source": "monitoring",
                        "kind": rule.kind,
                        "priority": rule.priority,
                        "owner": rule.owner_role,
                        "evidence": data,
                    },
                )
            )
            created.append((row.id, s.patient_id))
    if created:
        patients = sorted({p for _, p in created})
        audit.record(
            store,
            audit.Event(
                username=username,
                role=role,
                action="monitoring_alerts",
                outcome="ok",
                patient_id=patients[0] if len(patients) == 1 else None,
                purpose=Purpose.DIRECT_CARE.value,
                detail={"tasks": len(created), "patient_ids": patients},
            ),
        )
    return [t for t, _ in created]
