"""``pcn ingest fhir``: FHIR R4 Bundles and Bulk Data NDJSON -> the network record.

Two passes over the inputs: the first reads who and where (Organization, Patient, Practitioner,
PractitionerRole) so that the second can resolve every reference (Condition, Observation,
MedicationRequest/Statement, Encounter, Appointment, EpisodeOfCare). Nothing is written until all
inputs are read; the merge then publishes one snapshot atomically (``merge``).

Validation: ``full`` (the default) checks every resource against the ``fhir.resources`` R4B model
before mapping it; ``fast`` relies on the mapper's own checks of every element it reads (type,
presence, code validity) and skips the model, which is the slow part (~10k resources/s). Both
reject with the element path and the reason. See docs/adr/0062-fhir-validation-modes.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
import pyarrow as pa

from pcn.fhir import inbound as M
from pcn.fhir.validation import SUPPORTED, validation_error
from pcn.ingest.merge import existing_record, merge_into_record, read_table, rows_to_table
from pcn.ingest.patient_ids import PatientIndex
from pcn.ingest.report import IngestReport
from pcn.record.schemas import TABLES

Validation = Literal["full", "fast"]
BUNDLE_TYPES = ("transaction", "batch", "collection", "searchset")
CHUNK_ROWS = 200_000
_PASS1_LINE = re.compile(rb'"(?:' + b"|".join(t.encode() for t in M.PASS1) + rb')"')


class IngestError(Exception):
    """The load as a whole cannot go ahead (nothing is written)."""


@dataclass
class Item:
    source: str
    location: str
    resource: dict[str, Any]
    full_url: str | None = None

    @property
    def label(self) -> str:
        return f"{self.resource.get('resourceType', '?')}/{self.resource.get('id', '?')}"


def input_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            # a Bulk Data export's manifest.json lists the files; it is not a resource
            files += sorted(f for f in p.rglob("*") if f.suffix in (".ndjson", ".json")
                            and f.name != "manifest.json")
        elif p.exists():
            files.append(p)
        else:
            raise IngestError(f"{p}: no such file or directory")
    return files


def iter_items(files: list[Path], report: IngestReport | None,
               line_filter: Callable[[bytes], bool] | None = None) -> Iterator[Item]:
    """Every resource in the inputs; unreadable ones are reported (when ``report``) and skipped."""

    def bad(src: str, loc: str, element: str, why: str) -> None:
        if report is not None:
            report.reject(src, loc, "?", element, why)

    for f in files:
        src = f.name
        if f.suffix == ".ndjson":
            with f.open("rb") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip() or (line_filter and not line_filter(line)):
                        continue
                    try:
                        obj = orjson.loads(line)
                    except orjson.JSONDecodeError as e:
                        bad(src, f"line {n}", "$", f"invalid JSON: {e}")
                        continue
                    if not isinstance(obj, dict):
                        bad(src, f"line {n}", "$", "a line must hold one JSON object")
                        continue
                    yield Item(src, f"line {n}", obj)
            continue
        try:
            doc = orjson.loads(f.read_bytes())
        except orjson.JSONDecodeError as e:
            bad(src, "file", "$", f"invalid JSON: {e}")
            continue
        if not isinstance(doc, dict):
            bad(src, "file", "$", "must be a FHIR resource (a JSON object)")
            continue
        if doc.get("resourceType") != "Bundle":
            yield Item(src, "resource", doc)
            continue
        btype = doc.get("type")
        if btype not in BUNDLE_TYPES:
            bad(src, "file", "Bundle.type", f"{btype!r} bundles are not loaded (use one of "
                f"{', '.join(BUNDLE_TYPES)})")
            continue
        entries = doc.get("entry", [])
        if not isinstance(entries, list):
            bad(src, "file", "Bundle.entry", "must be a JSON array")
            continue
        for i, entry in enumerate(entries):
            loc = f"entry {i}"
            if not isinstance(entry, dict):
                bad(src, loc, f"Bundle.entry[{i}]", "must be a JSON object")
                continue
            req = entry.get("request")
            if isinstance(req, dict) and req.get("method") not in (None, "POST", "PUT"):
                bad(src, loc, f"Bundle.entry[{i}].request.method",
                    f"{req.get('method')!r} is not loaded (only POST/PUT)")
                continue
            search = entry.get("search")
            if isinstance(search, dict) and search.get("mode") == "outcome":
                continue
            res = entry.get("resource")
            if not isinstance(res, dict):
                bad(src, loc, f"Bundle.entry[{i}].resource", "is missing or not an object")
                continue
            full = entry.get("fullUrl")
            yield Item(src, loc, res, full if isinstance(full, str) else None)


def _pass1_line(line: bytes) -> bool:
    """Cheap pre-filter: could this line be a pass-1 resource? (parsed to be sure)"""
    return _PASS1_LINE.search(line) is not None


class FhirLoad:
    """Reads inputs into rows per table, with a report; ``run`` merges them into the record."""

    def __init__(self, record_dir: Path, validation: Validation = "full") -> None:
        self.record_dir = Path(record_dir)
        self.validation = validation
        self.report = IngestReport()
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        # full batches are kept as Arrow (compact) rather than Python tuples
        self.chunks: dict[str, list[pa.Table]] = {t: [] for t in TABLES}
        self.old = existing_record(self.record_dir)
        self.ctx = M.Context()
        self._seed_from_record()

    def _seed_from_record(self) -> None:
        if self.old is None:
            self.patients = PatientIndex()
            return
        pts = read_table(self.old, "patients").select(["nhs_number", "patient_id"]).to_pydict()
        self.patients = PatientIndex(dict(zip(pts["nhs_number"], pts["patient_id"],
                                              strict=True)))
        self.ctx.patient_by_nhs = self.patients.by_nhs
        self.ctx.patient_ids = set(self.patients.by_id)
        pr = read_table(self.old, "practices").to_pydict()
        self.ctx.practices = dict(zip(pr["practice_code"], pr["pcn_code"], strict=True))
        self.ctx.pcn_codes = set(pr["pcn_code"])
        st = read_table(self.old, "staff").to_pydict()
        self.ctx.staff = {c: (p, r) for c, p, r in
                          zip(st["clinician_id"], st["practice_code"], st["role"], strict=True)}

    def _checked(self, item: Item) -> bool:
        """Model-validate when asked; reports and returns False on failure."""
        if self.validation != "full":
            return True
        err = validation_error(item.resource)
        if err is None:
            return True
        self.report.reject(item.source, item.location, item.label, *err)
        return False

    def _reject(self, item: Item, e: M.Rejected) -> None:
        self.report.reject(item.source, item.location, item.label, e.element, e.why)

    def _guarded(self, item: Item, fn: Callable[[], Any]) -> Any:
        """Run a mapper; a shape the mapper did not foresee is a rejection, not a crash."""
        try:
            return fn()
        except M.Rejected:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, IndexError,
                OverflowError) as e:
            raise M.Rejected(str(item.resource.get("resourceType", "resource")),
                             f"malformed resource ({type(e).__name__}: {e})") from None

    def read(self, paths: list[Path]) -> None:
        files = input_files(paths)
        first: dict[str, list[Item]] = {t: [] for t in M.PASS1}
        for item in iter_items(files, None, _pass1_line):
            rtype = item.resource.get("resourceType")
            if isinstance(rtype, str) and rtype in first:
                first[rtype].append(item)
        for item in first["Organization"]:
            self._organization(item)
        for item in first["Patient"]:
            self._patient(item)
        for item in first["Practitioner"]:
            self._practitioner(item)
        for item in first["PractitionerRole"]:
            self._practitioner_role(item)
        # unreadable input is reported once, in this second pass over everything.
        for item in iter_items(files, self.report):
            self._second(item)
        self.report.read += sum(len(v) for v in first.values())

    def _organization(self, item: Item) -> None:
        if not self._checked(item):
            return
        try:
            row = self._guarded(item, lambda: M.map_organization(item.resource))
        except M.Rejected as e:
            self._reject(item, e)
            return
        code = row[0]
        if isinstance(item.resource.get("id"), str):
            self.ctx.org_by_ref[f"Organization/{item.resource['id']}"] = code
        if item.full_url:
            self.ctx.org_by_ref[item.full_url] = code
        self.ctx.practices[code] = row[2]
        self.ctx.pcn_codes.add(row[2])
        self.rows["practices"].append(row)
        self.report.loaded["Organization"] += 1

    def _patient(self, item: Item) -> None:
        if not self._checked(item):
            return
        try:
            nhs, explicit = self._guarded(item, lambda: M.patient_identity(item.resource))
            try:
                pid = self.patients.assign(nhs, explicit)
            except ValueError as e:
                raise M.Rejected("Patient.identifier", str(e)) from None
            row = self._guarded(item, lambda: M.map_patient(item.resource, pid, nhs))
        except M.Rejected as e:
            self._reject(item, e)
            return
        rid = item.resource.get("id")
        if isinstance(rid, str):
            self.ctx.patient_by_ref[f"Patient/{rid}"] = pid
        if item.full_url:
            self.ctx.patient_by_ref[item.full_url] = pid
        self.ctx.patient_by_nhs[nhs] = pid
        self.ctx.patient_ids.add(pid)
        self.rows["patients"].append(row)
        self.report.loaded["Patient"] += 1

    def _practitioner(self, item: Item) -> None:
        if not self._checked(item):
            return
        try:
            cid = self._guarded(item, lambda: M.practitioner_id(item.resource))
        except M.Rejected as e:
            self._reject(item, e)
            return
        if isinstance(item.resource.get("id"), str):
            self.ctx.clinician_by_ref[f"Practitioner/{item.resource['id']}"] = cid
        if item.full_url:
            self.ctx.clinician_by_ref[item.full_url] = cid
        self.report.loaded["Practitioner"] += 1

    def _practitioner_role(self, item: Item) -> None:
        if not self._checked(item):
            return
        try:
            row = self._guarded(item, lambda: M.map_practitioner_role(item.resource, self.ctx))
        except M.Rejected as e:
            self._reject(item, e)
            return
        if isinstance(item.resource.get("id"), str):
            self.ctx.clinician_by_ref[f"PractitionerRole/{item.resource['id']}"] = row[0]
        self.ctx.staff[row[0]] = (row[1], row[3])
        self.rows["staff"].append(row)
        self.report.loaded["PractitionerRole"] += 1

    def _second(self, item: Item) -> None:
        rtype = item.resource.get("resourceType")
        if isinstance(rtype, str) and rtype in M.PASS1:
            return
        self.report.read += 1
        if not isinstance(rtype, str) or rtype not in M.PASS2:
            why = (f"resource type {rtype!r} is not loaded into the record (supported: "
                   f"{', '.join(SUPPORTED)})")
            self.report.reject(item.source, item.location, item.label, "resourceType", why)
            return
        if not self._checked(item):
            return
        table, mapper = M.PASS2[rtype]
        try:
            rows = self._guarded(item, lambda: mapper(item.resource, self.ctx))
        except M.Rejected as e:
            self._reject(item, e)
            return
        buf = self.rows[table]
        buf.extend(rows)
        if len(buf) >= CHUNK_ROWS:
            self.chunks[table].append(self._to_arrow(table, buf))
            buf.clear()
        self.report.loaded[rtype] += 1

    @staticmethod
    def _to_arrow(name: str, rows: list[tuple[Any, ...]]) -> pa.Table:
        try:
            return rows_to_table(name, rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as e:
            raise IngestError(f"{name}: cannot build rows: {e}") from e

    def tables(self) -> dict[str, pa.Table]:
        out = {}
        for name, rows in self.rows.items():
            parts = self.chunks[name] + ([self._to_arrow(name, rows)] if rows else [])
            if parts:
                out[name] = pa.concat_tables(parts)
                self.report.rows[name] = out[name].num_rows
        return out

    def run(self, strict: bool = False) -> IngestReport:
        tables = self.tables()
        if strict and self.report.rejected:
            self.report.notes.append("strict: nothing written because resources were rejected")
            return self.report
        if not tables:
            self.report.notes.append("nothing to load: the record is unchanged")
            return self.report
        record, changed = merge_into_record(
            self.record_dir, tables, source={"kind": "fhir", "validation": self.validation})
        self.report.changed = changed
        self.report.content_hash = record.manifest.content_hash
        return self.report


def ingest_fhir(inputs: list[Path], record_dir: Path, validation: Validation = "full",
                strict: bool = False) -> IngestReport:
    load = FhirLoad(record_dir, validation)
    load.read([Path(p) for p in inputs])
    return load.run(strict=strict)
