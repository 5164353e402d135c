"""Rota exceptions the PCN records (leave, training, sickness) in the operational store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from pcn.capacity.rota import EXCEPTION_KINDS, RotaException
from pcn.store.database import Store, now_utc
from pcn.store.models import RotaException as RotaExceptionRow


class ExceptionError(ValueError):
    """A rota exception that cannot be recorded: names the field and why."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field, self.why = field, why


def add_exception(
    store: Store,
    clinician_id: str,
    start: dt.date,
    end: dt.date,
    kind: str,
    created_by: str,
    note: str = "",
    known_staff: set[str] | None = None,
) -> int:
    """Record that someone is away from ``start`` to ``end`` (inclusive); returns its id."""
    if not clinician_id.strip():
        raise ExceptionError("clinician_id", "is empty")
    if known_staff is not None and clinician_id not in known_staff:
        raise ExceptionError("clinician_id", f"{clinician_id!r} is not in the staff register")
    if kind not in EXCEPTION_KINDS:
        raise ExceptionError("kind", f"{kind!r} is not one of {', '.join(EXCEPTION_KINDS)}")
    if end < start:
        raise ExceptionError("end_date", "is before the start date")
    if (end - start).days > 366:
        raise ExceptionError("end_date", "an exception longer than a year belongs in the register")
    with store.session() as session:
        row = RotaExceptionRow(
            clinician_id=clinician_id,
            start_date=start,
            end_date=end,
            kind=kind,
            note=note[:200],
            created_by=created_by,
            created_at=now_utc(),
        )
        session.add(row)
        session.flush()
        return int(row.id)


def remove_exception(store: Store, exception_id: int) -> bool:
    with store.session() as session:
        row = session.get(RotaExceptionRow, exception_id)
        if row is None:
            return False
        session.delete(row)
        return True


def list_exceptions(
    store: Store, start: dt.date | None = None, end: dt.date | None = None
) -> list[tuple[int, RotaException]]:
    """Exceptions overlapping [start, end] (all when no dates), oldest first."""
    query = select(RotaExceptionRow).order_by(RotaExceptionRow.start_date, RotaExceptionRow.id)
    if start is not None:
        query = query.where(RotaExceptionRow.end_date >= start)
    if end is not None:
        query = query.where(RotaExceptionRow.start_date <= end)
    with store.read() as session:
        return [
            (int(r.id), RotaException(r.clinician_id, r.start_date, r.end_date, r.kind))
            for r in session.scalars(query)
        ]
