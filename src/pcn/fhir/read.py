"""The FHIR read operations an API serves, over one record snapshot (no web code here).

``FhirReader(record)`` answers ``Patient/{id}``, ``Patient?identifier=system|value``,
``Patient/{id}/$everything`` and ``Observation?patient=…&code=…`` with plain FHIR JSON dicts
built by ``outbound`` (so the API and the bulk export never disagree). Errors are
``FhirError`` carrying an HTTP status and an OperationOutcome. Access control, scoping and audit
belong to the caller (the web/API layer), which must check them before calling.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb
import pyarrow as pa

from pcn.fhir import outbound
from pcn.fhir import systems as S
from pcn.fhir.outcome import FhirError, not_found, operation_outcome
from pcn.record.codes import is_digits
from pcn.record.schemas import TABLES
from pcn.record.store import Manifest, Record

__all__ = ["FhirError", "FhirReader", "operation_outcome"]


class _Slice:
    """Quacks like a ``Record`` for ``outbound`` generators, over in-memory tables."""

    def __init__(self, tables: dict[str, pa.Table], manifest: Manifest) -> None:
        self._tables = tables
        self.manifest = manifest

    def iter_batches(self, name: str, batch_size: int = 65_536) -> Any:
        yield from self._tables.get(name, TABLES[name].schema.empty_table()).to_batches()


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r,
                       "search": {"mode": "match"}} for r in resources]}


class FhirReader:
    def __init__(self, record: Record) -> None:
        self.record = record
        self.con = duckdb.connect()
        # One connection serves every request thread; DuckDB refuses a second concurrent call
        # on a connection ("connection is busy"), so queries take turns (each is milliseconds).
        self._lock = threading.Lock()
        for name in TABLES:
            files = [str(f) for f in record.files(name)]
            if files:
                self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r})")
            else:
                self.con.register(name, TABLES[name].schema.empty_table())

    def _where(self, table: str, where: str, params: list[Any]) -> pa.Table:
        cols = ", ".join(TABLES[table].schema.names)
        query = f"SELECT {cols} FROM {table} WHERE {where}"
        with self._lock:
            t = self.con.sql(query, params=params).to_arrow_table()
        return t.cast(TABLES[table].schema)

    def _slice(self, **tables: pa.Table) -> _Slice:
        return _Slice(tables, self.record.manifest)

    @staticmethod
    def _patient_id(value: str) -> int:
        if not is_digits(value) or len(value) > 18:
            raise not_found(f"Patient/{value}")
        return int(value)

    def patient(self, patient_id: str) -> dict[str, Any]:
        pid = self._patient_id(patient_id)
        rows = self._where("patients", "patient_id = ?", [pid])
        if rows.num_rows == 0:
            raise not_found(f"Patient/{patient_id}")
        return next(outbound.patients(self._slice(patients=rows)))  # type: ignore[arg-type]

    def search_patients(self, identifier: str) -> dict[str, Any]:
        """``identifier`` as ``system|value`` (or a bare NHS number)."""
        system, _, value = identifier.rpartition("|")
        if system in ("", S.NHS_NUMBER):
            rows = self._where("patients", "nhs_number = ?", [value.replace(" ", "")])
        elif system == S.PATIENT_ID:
            rows = self._where("patients", "patient_id = ?", [int(value)]) \
                if is_digits(value) else TABLES["patients"].schema.empty_table()
        else:
            raise FhirError(400, operation_outcome(
                "error", "not-supported",
                f"identifier system {system!r} is not searchable; use {S.NHS_NUMBER}"))
        found = list(outbound.patients(self._slice(patients=rows)))  # type: ignore[arg-type]
        return _searchset(found)

    def everything(self, patient_id: str) -> dict[str, Any]:
        """The patient and everything about them the record holds (``$everything``)."""
        pid = self._patient_id(patient_id)
        patients = self._where("patients", "patient_id = ?", [pid])
        if patients.num_rows == 0:
            raise not_found(f"Patient/{patient_id}")
        tables = {"patients": patients}
        for name, spec in TABLES.items():
            if spec.patient_ref:
                tables[name] = self._where(name, "patient_id = ?", [pid])
        codes = tables["registrations"].column("practice_code").to_pylist()
        tables["practices"] = self._where(
            "practices", "list_contains(?, practice_code)", [codes or [""]])
        part = self._slice(**tables)
        resources: list[dict[str, Any]] = []
        for _, gen in outbound.GENERATORS:
            resources.extend(gen(part))  # type: ignore[arg-type]
        resources.sort(key=lambda r: r["resourceType"] != "Patient")
        return _searchset(resources)

    def observations(self, patient: str, code: str | None = None) -> dict[str, Any]:
        """``Observation?patient=…&code=…`` (code as ``system|code`` or a bare SNOMED code)."""
        ref = patient.removeprefix("Patient/")
        pid = self._patient_id(ref) if is_digits(ref) else None
        if pid is None:
            raise FhirError(400, operation_outcome("error", "invalid",
                                                   f"patient {patient!r} is not a Patient id"))
        where: str = "patient_id = ?"
        params: list[Any] = [pid]
        if code:
            system, _, value = code.rpartition("|")
            if system not in ("", S.SNOMED):
                raise FhirError(400, operation_outcome(
                    "error", "not-supported", f"code system {system!r}: search by {S.SNOMED}"))
            where, params = where + " AND snomed_code = ?", [pid, value]
        rows = self._where("clinical_events", where, params)
        found = [r for r in outbound.clinical_events(self._slice(clinical_events=rows))  # type: ignore[arg-type]
                 if r["resourceType"] == "Observation"]
        return _searchset(found)
