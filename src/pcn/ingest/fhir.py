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

import multiprocessing
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
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
#: NDJSON files larger than this are split into line-aligned jobs for parallel reading.
CHUNK_BYTES = 32 << 20
#: Below this much input a process pool costs more than it saves.
PARALLEL_MIN_BYTES = 64 << 20
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


@dataclass(frozen=True)
class Job:
    """One unit of reading: a whole file, or a line-aligned byte range of an NDJSON file."""

    path: Path
    start: int = 0
    end: int | None = None
    first_line: int = 1


def plan_jobs(files: list[Path], chunk_bytes: int) -> list[Job]:
    """Split large NDJSON files at line boundaries so the second pass can run in parallel."""
    jobs: list[Job] = []
    for f in files:
        size = f.stat().st_size
        if f.suffix != ".ndjson" or size <= chunk_bytes:
            jobs.append(Job(f))
            continue
        with f.open("rb") as fh:
            start, line = 0, 1
            while start < size:
                fh.seek(min(start + chunk_bytes, size))
                fh.readline()  # to the end of the line we landed in
                end = min(fh.tell(), size)
                jobs.append(Job(f, start, end, line))
                fh.seek(start)
                line += fh.read(end - start).count(b"\n")
                start = end
    return jobs


def _ndjson_lines(job: Job) -> Iterator[tuple[int, bytes]]:
    with job.path.open("rb") as fh:
        if job.end is None:
            yield from enumerate(fh, job.first_line)
            return
        fh.seek(job.start)
        data = fh.read(job.end - job.start)
    yield from enumerate(data.splitlines(), job.first_line)


def iter_items(jobs: list[Job], report: IngestReport | None,
               line_filter: Callable[[bytes], bool] | None = None) -> Iterator[Item]:
    """Every resource in the inputs; unreadable ones are reported (when ``report``) and skipped."""

    def bad(src: str, loc: str, element: str, why: str) -> None:
        if report is not None:
            report.reject(src, loc, "?", element, why)

    for job in jobs:
        f = job.path
        src = f.name
        if f.suffix == ".ndjson":
            for n, line in _ndjson_lines(job):
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


class _Loader:
    """Shared by both passes: validation, rejection, and buffering rows per table."""

    def __init__(self, validation: Validation, ctx: M.Context) -> None:
        self.validation = validation
        self.ctx = ctx
        self.report = IngestReport()
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        # full batches are kept as Arrow (compact) rather than Python tuples
        self.chunks: dict[str, list[pa.Table]] = {t: [] for t in TABLES}

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



class SecondPass(_Loader):
    """The second pass over one job (run in this process or in a worker process)."""

    def run(self, job: Job) -> tuple[dict[str, pa.Table], IngestReport]:
        # unreadable input is reported here, once: the first pass skips it silently
        for item in iter_items([job], self.report):
            self._second(item)
        return self.tables(), self.report


_WORKER: SecondPass | None = None


def _init_worker(validation: Validation, ctx: M.Context) -> None:
    global _WORKER
    _WORKER = SecondPass(validation, ctx)


def _run_job(job: Job) -> tuple[dict[str, pa.Table], IngestReport]:
    assert _WORKER is not None
    _WORKER.report = IngestReport()
    _WORKER.rows = {t: [] for t in TABLES}
    _WORKER.chunks = {t: [] for t in TABLES}
    return _WORKER.run(job)


class FhirLoad(_Loader):
    """Reads inputs into rows per table, with a report; ``run`` merges them into the record."""

    def __init__(self, record_dir: Path, validation: Validation = "full",
                 workers: int = 1) -> None:
        self.record_dir = Path(record_dir)
        super().__init__(validation, M.Context())
        self.workers = workers
        self.old = existing_record(self.record_dir)
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

    def read(self, paths: list[Path]) -> None:
        jobs = plan_jobs(input_files(paths), CHUNK_BYTES)
        first: dict[str, list[Item]] = {t: [] for t in M.PASS1}
        for item in iter_items(jobs, None, _pass1_line):
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
        self.report.read += sum(len(v) for v in first.values())
        for tables, report in self._second_pass(jobs):
            self.report.read += report.read
            self.report.loaded.update(report.loaded)
            self.report.rejected.extend(report.rejected)
            for name, table in tables.items():
                self.chunks[name].append(table)

    def _second_pass(self, jobs: list[Job]) -> Iterator[tuple[dict[str, pa.Table],
                                                              IngestReport]]:
        """Results per job, in input order; on a process pool when there is enough to share."""
        size = sum((j.end or j.path.stat().st_size) - j.start for j in jobs)
        if self.workers <= 1 or len(jobs) < 2 or size < PARALLEL_MIN_BYTES:
            worker = SecondPass(self.validation, self.ctx)
            for job in jobs:
                worker.report, worker.rows = IngestReport(), {t: [] for t in TABLES}
                worker.chunks = {t: [] for t in TABLES}
                yield worker.run(job)
            return
        # forkserver: no fork of a process that may hold library threads
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(self.validation, self.ctx)) as pool:
            yield from pool.map(_run_job, jobs)

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
                strict: bool = False, workers: int = 1) -> IngestReport:
    """Load FHIR inputs into the record.

    ``workers`` > 1 reads the second pass on a process pool when the input exceeds
    ``PARALLEL_MIN_BYTES``. Opt-in: on the shared 2-core test machine it did not beat one
    process (see docs/adr/0062-fhir-validation-modes.md); a caller started as a script needs the
    ``if __name__ == "__main__"`` guard (forkserver workers import the main module).
    """
    load = FhirLoad(record_dir, validation, workers)
    load.read([Path(p) for p in inputs])
    return load.run(strict=strict)
