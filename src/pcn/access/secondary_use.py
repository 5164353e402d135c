"""Secondary use: the ONE place opted-out patients are removed from analytics and planning exports.

A patient with a current type 1 opt-out (SNOMED CT 827241000000103 in the GP record) or on the
national data opt-out list is left out of everything that leaves the system for planning or
analytics (:func:`pcn.ingest.optouts.opted_out_patient_ids`, ADR 0063). Direct care is unchanged:
patient pages, worklists a clinician works through and their CSV, and the FHIR read API show
everyone the user may see (ADR 0090).

Every export entry point is registered in :data:`EXPORTS` with its use. A test enumerates the
app's routes and the CLI's commands and fails when an export path is missing from the register,
so a new export cannot bypass the filter silently; another proves the secondary ones leave
opted-out patients out.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from pcn.record.store import Record
    from pcn.reporting.network import NetworkView


class Use(StrEnum):
    DIRECT_CARE = "direct_care"
    SECONDARY = "secondary"


@dataclass(frozen=True)
class ExportPath:
    """One way data leaves the system: ``GET /path`` (web or API) or ``pcn group command``."""

    entry: str
    use: Use
    why: str


#: Every export entry point. Secondary ones read through :func:`secondary_view` /
#: :func:`opted_out`; direct-care ones are scoped by :mod:`pcn.access.guard` instead.
EXPORTS: tuple[ExportPath, ...] = (
    ExportPath("GET /indicators/{indicator_id}/export.csv", Use.SECONDARY,
               "indicator table for planning, disclosure-controlled"),
    ExportPath("GET /api/indicators/{indicator_id}", Use.SECONDARY,
               "aggregate for other tools"),
    ExportPath("GET /api/worklists", Use.SECONDARY, "worklist sizes per practice (aggregate)"),
    ExportPath("GET /worklists/{worklist_id}/export.csv", Use.DIRECT_CARE,
               "patients a clinician will contact; scoped by the guard"),
    ExportPath("GET /api/worklists/{worklist_id}", Use.DIRECT_CARE,
               "patients a clinician will contact; scoped by the guard"),
    ExportPath("GET /api/patients/{patient_id}", Use.DIRECT_CARE, "one patient's summary"),
    ExportPath("GET /api/requests", Use.DIRECT_CARE, "the triage queue the clinician works"),
    ExportPath("GET /api/requests/{request_id}", Use.DIRECT_CARE, "one triage request"),
    ExportPath("GET /fhir/Patient/{patient_id}", Use.DIRECT_CARE, "FHIR read of one patient"),
    ExportPath("GET /fhir/Patient", Use.DIRECT_CARE, "FHIR search by NHS number"),
    ExportPath("GET /fhir/Patient/{patient_id}/$everything", Use.DIRECT_CARE,
               "one patient's record"),
    ExportPath("GET /fhir/Observation", Use.DIRECT_CARE, "one patient's observations"),
    ExportPath("GET /fhir/CarePlan", Use.DIRECT_CARE, "one patient's care plan"),
    ExportPath("GET /fhir/Task", Use.DIRECT_CARE, "one patient's open tasks"),
    ExportPath("GET /api/tasks", Use.DIRECT_CARE, "the tasks the clinician works; scoped"),
    ExportPath("GET /api/tasks/{task_id}", Use.DIRECT_CARE, "one task"),
    ExportPath("pcn export fhir", Use.SECONDARY,
               "bulk record extract; --purpose direct-care keeps everyone"),
    ExportPath("pcn continuity", Use.SECONDARY, "continuity tables for planning"),
    ExportPath("pcn capacity report", Use.SECONDARY,
               "demand against capacity per date x practice x role, for planning"),
    ExportPath("pcn indicators show", Use.SECONDARY, "one indicator's table for planning"),
    ExportPath("pcn worklist show", Use.DIRECT_CARE, "a worklist for the practice team"),
    ExportPath("pcn monitoring summary", Use.DIRECT_CARE,
               "home blood pressure series and their NG136 category, for the clinicians"),
    ExportPath("GET /funding/export.csv", Use.SECONDARY,
               "DES money lines for planning (care home residents counted from the record)"),
    ExportPath("pcn funding weighted-list", Use.SECONDARY,
               "weighted lists per practice from the record"),
    ExportPath("pcn funding report", Use.SECONDARY,
               "weighted lists, errors and allocations from the record"),
    ExportPath("pcn funding summary", Use.SECONDARY,
               "DES money lines; --record counts coded care home residents"),
)


#: Commands that read a record but send no patient data out (each with why).
NOT_EXPORTS: dict[str, str] = {
    "pcn run": "writes the record's own outputs, read by the app",
    "pcn indicators series": "writes the record's own outputs (monthly series for SPC pages)",
    "pcn serve": "the web app: its routes are classified one by one above",
    "GET /api/docs": "the API's description (Swagger UI): no data",
    "GET /openapi.json": "the API's OpenAPI schema: no data",
    "pcn ingest fhir": "loads into the record",
    "pcn ingest csv": "loads into the record",
    "pcn ingest parquet": "loads into the record",
    "pcn ingest opt-outs": "loads the national data opt-out list",
    "pcn demo summary": "the synthetic twin's calibration against QOF",
    "pcn worklist list": "worklist definitions and their sizes, for the operator",
    "pcn bench dataset": "benchmark dataset; refuses any record that is not synthetic",
    "pcn tasks create": "reads a published worklist to create tasks in the store",
    "pcn tasks writeback": "writes closed tasks' coded outcomes into the record",
    "pcn monitoring import": "loads home readings into the operational store",
    "pcn monitoring import-fhir": "loads home readings (FHIR Observations) into the store",
    "pcn monitoring link": "issues a patient's own readings link (only the link is sent)",
    "pcn definitions check": "which definitions the record's outputs can support: no data",
    "pcn capacity backtest": "forecast error figures for the network: no counts, no patients",
    "pcn capacity declare": "today's free slots per role into the store, for triage routing",
    "pcn rota show": "who works when from the staff register: no patient data",
    "pcn rota away": "checks a staff id against the register: no patient data",
}


def export_path(entry: str) -> ExportPath:
    """The registered export (``KeyError`` names an unregistered one)."""
    for path in EXPORTS:
        if path.entry == entry:
            return path
    raise KeyError(f"{entry!r} is not in pcn.access.secondary_use.EXPORTS")


def opted_out(record: Record) -> frozenset[int]:
    """Patients to leave out of secondary use (type 1 or national data opt-out)."""
    from pcn.ingest.optouts import opted_out_patient_ids

    return frozenset(opted_out_patient_ids(record))


def without_opted_out(frame: pd.DataFrame, excluded: frozenset[int],
                      column: str = "patient_id") -> pd.DataFrame:
    """``frame`` without the rows of excluded patients."""
    if not excluded or frame.empty:
        return frame
    return frame[~frame[column].isin(sorted(excluded)).to_numpy()]


_views: dict[tuple[str, str], NetworkView] = {}
_lock = threading.Lock()


def secondary_view(view: NetworkView) -> NetworkView:
    """The same snapshot as ``view`` with opted-out patients removed from every table (cached
    per snapshot: a new load has a new content hash and gets a new view)."""
    from pcn.reporting.network import NetworkView

    key = (str(view.record_dir), view.record.manifest.content_hash)
    with _lock:
        cached = _views.get(key)
        if cached is None:
            cached = _views[key] = NetworkView(view.record_dir,
                                               exclude_patients=opted_out(view.record))
        return cached
