"""The ``pcn monitoring summary`` table: one row per series, NG136 category (the contract)."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pcn.monitoring.readings import load_bp_readings, patient_facts
from pcn.monitoring.series import SeriesSummary, display_mean, summarise
from pcn.record.store import Record
from pcn.store.database import Store

SUMMARY_COLUMNS = (
    "patient_id",
    "series_start",
    "n_readings_used",
    "mean_systolic",
    "mean_diastolic",
    "category",
)


def series_of(
    store: Store, record: Record, patient_ids: Iterable[int] | None = None
) -> list[SeriesSummary]:
    readings = load_bp_readings(store, patient_ids)
    facts = patient_facts(record, {r.patient_id for r in readings})
    return summarise(readings, facts)


def summary_rows(series: list[SeriesSummary]) -> list[dict[str, str]]:
    return [
        {
            "patient_id": str(s.patient_id),
            "series_start": s.series_start.isoformat(),
            "n_readings_used": str(s.n_readings_used),
            "mean_systolic": display_mean(s.mean_systolic),
            "mean_diastolic": display_mean(s.mean_diastolic),
            "category": s.category,
        }
        for s in series
    ]


def write_summary(series: list[SeriesSummary], output: Path) -> None:
    """Write the CSV aside and move it into place (never a half-written file)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".summary-", suffix=".csv", dir=output.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(summary_rows(series))
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
