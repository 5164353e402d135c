"""Home readings in and out of the operational store, and the facts the record adds.

CSV import validates every row before writing any (a clear error names the row, the field and
why). Re-importing the same readings adds nothing (see :func:`store_bp_readings`).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select

from pcn.monitoring.series import BpReading, PatientFacts
from pcn.record.store import Record
from pcn.store.database import Store, now_utc
from pcn.store.models import MonitoringReading

CSV_COLUMNS = ("patient_id", "taken_at", "systolic", "diastolic", "pulse")
UK = ZoneInfo("Europe/London")
#: Plausible ranges: outside them a value is far more likely a typing slip than a reading.
SYSTOLIC_RANGE = (50, 300)
DIASTOLIC_RANGE = (20, 200)
PULSE_RANGE = (20, 250)


class ReadingError(ValueError):
    """Readings that cannot be taken in; the message names the row and field."""


@dataclass(frozen=True)
class OtherReading:
    patient_id: int
    kind: str  # "weight" (kg) or "spo2" (%)
    taken_at: dt.datetime
    value: Fraction


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_held: int
    patients: int


def parse_taken_at(text: str) -> dt.datetime:
    """An ISO 8601 date-time (``2026-12-01T08:05`` or with a space); a time with an offset is
    turned into UK local time, the clock the patient read; a bare date means midnight. Dates
    written the UK way (``01/12/2026 08:05``, day first) are read too."""
    text = text.strip()
    for layout in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, layout)
        except ValueError:
            continue
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(UK).replace(tzinfo=None)
    return value.replace(microsecond=0)


def _number(text: str, field: str, bounds: tuple[int, int], unit: str) -> Fraction:
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{field}: {text.strip()!r} is not a number") from None
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(
            f"{field}: {text.strip()} {unit} is outside {low}–{high} {unit}; "
            "check it was typed correctly"
        )
    return value


def parse_row(row: Mapping[str, str | None]) -> BpReading:
    """One CSV row as a reading, or ``ValueError`` naming the field."""

    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    for name in ("patient_id", "taken_at", "systolic", "diastolic"):
        if not cell(name):
            raise ValueError(f"{name}: missing")
    try:
        patient_id = int(cell("patient_id"))
    except ValueError:
        raise ValueError(f"patient_id: {cell('patient_id')!r} is not a whole number") from None
    try:
        taken_at = parse_taken_at(cell("taken_at"))
    except ValueError:
        raise ValueError(
            f"taken_at: {cell('taken_at')!r} is not a date and time like 2026-12-01T08:05"
        ) from None
    systolic = _number(cell("systolic"), "systolic", SYSTOLIC_RANGE, "mmHg")
    diastolic = _number(cell("diastolic"), "diastolic", DIASTOLIC_RANGE, "mmHg")
    if diastolic >= systolic:
        raise ValueError(
            f"diastolic: {cell('diastolic')} is not below the systolic "
            f"{cell('systolic')}; were the two swapped?"
        )
    pulse = None
    if cell("pulse"):
        pulse_value = _number(cell("pulse"), "pulse", PULSE_RANGE, "beats a minute")
        if pulse_value.denominator != 1:
            raise ValueError(f"pulse: {cell('pulse')} is not a whole number of beats")
        pulse = int(pulse_value)
    return BpReading(patient_id, taken_at, systolic, diastolic, pulse)


def read_csv(path: Path) -> list[BpReading]:
    """Every row of a readings CSV, validated; all problems reported together."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as e:
        raise ReadingError(f"cannot read {path}: {e.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in CSV_COLUMNS if c not in header and c != "pulse"]
        if missing:
            raise ReadingError(
                f"{path.name}: missing column(s) {', '.join(missing)}; expected "
                f"{','.join(CSV_COLUMNS)}"
            )
        reader.fieldnames = header
        readings: list[BpReading] = []
        problems: list[str] = []
        for number, row in enumerate(reader, start=2):
            try:
                reading = parse_row(row)
            except ValueError as e:
                problems.append(f"row {number}: {e}")
                continue
            readings.append(reading)
    if problems:
        shown = "\n".join(problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ReadingError(
            f"{path.name}: nothing imported; {len(problems)} row(s) need fixing:\n{shown}{more}"
        )
    return readings


def _key(r: BpReading) -> tuple[int, dt.datetime, float, float, int | None]:
    return (r.patient_id, r.taken_at, float(r.systolic), float(r.diastolic), r.pulse)


def store_bp_readings(
    store: Store, readings: Sequence[BpReading], *, source: str, created_by: str
) -> ImportResult:
    """Add readings in one transaction. Two readings may share a moment (NG136's pairs are a
    minute apart and may be written with one time); importing the same readings again adds
    nothing: each distinct reading is added only as many times as it appears beyond what the
    store already holds."""
    wanted = Counter(_key(r) for r in readings)
    patients = sorted({r.patient_id for r in readings})
    with store.session() as session:
        held: Counter[tuple[int, dt.datetime, float, float, int | None]] = Counter()
        for chunk in range(0, len(patients), 500):
            rows = session.scalars(
                select(MonitoringReading).where(
                    MonitoringReading.kind == "bp",
                    MonitoringReading.patient_id.in_(patients[chunk : chunk + 500]),
                )
            )
            held.update(
                (
                    row.patient_id,
                    row.taken_at,
                    float(row.systolic or 0),
                    float(row.diastolic or 0),
                    row.pulse,
                )
                for row in rows
            )
        now = now_utc()
        new = [key for key, count in wanted.items() for _ in range(count - held[key])]
        session.add_all(
            MonitoringReading(
                patient_id=pid,
                kind="bp",
                taken_at=taken,
                systolic=sys,
                diastolic=dia,
                pulse=pulse,
                value=None,
                source=source,
                created_by=created_by,
                created_at=now,
            )
            for pid, taken, sys, dia, pulse in new
        )
    return ImportResult(
        added=len(new), already_held=len(readings) - len(new), patients=len(patients)
    )


def _fraction(value: float | None) -> Fraction:
    # Stored as floats; repr gives the shortest decimal that reads back, i.e. what was typed.
    return Fraction(repr(float(value or 0)))


def load_bp_readings(store: Store, patient_ids: Iterable[int] | None = None) -> list[BpReading]:
    query = select(MonitoringReading).where(MonitoringReading.kind == "bp")
    if patient_ids is not None:
        query = query.where(MonitoringReading.patient_id.in_(list(patient_ids)))
    with store.read() as session:
        rows = session.scalars(
            query.order_by(MonitoringReading.patient_id, MonitoringReading.taken_at)
        ).all()
    return [
        BpReading(r.patient_id, r.taken_at, _fraction(r.systolic), _fraction(r.diastolic), r.pulse)
        for r in rows
    ]


def patient_facts(record: Record, patient_ids: Iterable[int]) -> dict[int, PatientFacts]:
    """Date of birth and hypertension diagnosis/resolved dates from the record (QOF HYP
    register codes, ``pcn/definitions/registers/hypertension.yaml``). Patients the record does
    not hold get no facts: not on the register, age unknown."""
    from pcn.analytics.registers import default_registers

    wanted = sorted(set(patient_ids))
    if not wanted:
        return {}
    register = next(r for r in default_registers() if r.id == "hypertension")
    ids = pc.field("patient_id").isin(wanted)
    people = _read(record, "patients", ["patient_id", "date_of_birth"], ids)
    diagnosis_codes, resolved_codes = register.codes(), register.resolved_codes()
    codes = sorted(diagnosis_codes | resolved_codes)
    events = _read(
        record,
        "clinical_events",
        ["patient_id", "date", "snomed_code"],
        ids & pc.field("snomed_code").isin(codes),
    )
    diagnosed: dict[int, list[dt.date]] = {}
    resolved: dict[int, list[dt.date]] = {}
    for pid, day, code in zip(
        events["patient_id"].to_pylist(),
        events["date"].to_pylist(),
        events["snomed_code"].to_pylist(),
        strict=True,
    ):
        target = resolved if code in resolved_codes else diagnosed
        target.setdefault(pid, []).append(day)
    return {
        pid: PatientFacts(
            date_of_birth=dob,
            diagnosed_on=tuple(diagnosed.get(pid, ())),
            resolved_on=tuple(resolved.get(pid, ())),
        )
        for pid, dob in zip(
            people["patient_id"].to_pylist(), people["date_of_birth"].to_pylist(), strict=True
        )
    }


def _read(record: Record, table: str, columns: list[str], where: pc.Expression) -> pa.Table:
    files = record.files(table)
    if not files:
        return record.read(table, columns)
    import pyarrow.dataset as ds

    return ds.dataset(
        [str(f) for f in files], format="parquet", schema=pq.read_schema(files[0])
    ).to_table(columns=columns, filter=where)


def store_other_readings(
    store: Store, readings: Sequence[OtherReading], *, source: str, created_by: str
) -> int:
    """Weight and SpO2 readings (``OtherReading``); repeats of the same moment are skipped."""
    now = now_utc()
    added = 0
    with store.session() as session:
        for r in readings:
            pid, kind, taken = r.patient_id, r.kind, r.taken_at
            held = session.scalar(
                select(MonitoringReading).where(
                    MonitoringReading.patient_id == pid,
                    MonitoringReading.kind == kind,
                    MonitoringReading.taken_at == taken,
                )
            )
            if held is not None:
                continue
            session.add(
                MonitoringReading(
                    patient_id=pid,
                    kind=kind,
                    taken_at=taken,
                    systolic=None,
                    diastolic=None,
                    pulse=None,
                    value=float(r.value),
                    source=source,
                    created_by=created_by,
                    created_at=now,
                )
            )
            session.flush()
            added += 1
    return added
