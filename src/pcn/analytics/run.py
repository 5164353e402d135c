"""``pcn run``: compute every output of a record and publish them atomically.

Outputs are produced in order by the ``OUTPUTS`` list; each one is written to a staging directory
and may read the outputs written before it (the practice summary reads the patient profile).
When all are written, the staging directory is published as ``<record>/outputs/current`` with
``pcn.record.atomic`` — readers see the previous outputs or the new ones, never a mixture.
Later features add outputs (worklists, indicators) with ``add_output``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pcn import __version__
from pcn.analytics.engine import Engine, EngineKind
from pcn.analytics.profile import RunContext, compute_profile
from pcn.analytics.summary import compute_summary
from pcn.record import Record, atomic, open_record
from pcn.risk.admission import MAX_FIT_PATIENTS

# The population health stage registers its profile columns (pcn.risk.features) on import.
from pcn.risk.pipeline import post_process

OUTPUTS_DIR = "outputs"
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd"}


@dataclass(frozen=True)
class OutputSpec:
    """One output file: ``build(ctx, written)`` computes it as an Arrow table;
    ``written(name)`` is an output already produced in this run."""

    name: str
    build: Callable[[RunContext, Callable[[str], pa.Table]], pa.Table]


def _patient_profile(ctx: RunContext, written: Callable[[str], pa.Table]) -> pa.Table:
    return compute_profile(ctx)


def _practice_summary(ctx: RunContext, written: Callable[[str], pa.Table]) -> pa.Table:
    practices = ctx.engine.to_arrow(ctx.table("practices").select("practice_code", "pcn_code"))
    return compute_summary(written("patient_profile"), practices, ctx.registers)


OUTPUTS: list[OutputSpec] = [
    OutputSpec("patient_profile", _patient_profile),
    OutputSpec("practice_summary", _practice_summary),
]


def add_output(spec: OutputSpec) -> None:
    """Add (or replace, by name) an output; outputs run in list order."""
    for i, existing in enumerate(OUTPUTS):
        if existing.name == spec.name:
            OUTPUTS[i] = spec
            return
    OUTPUTS.append(spec)


@dataclass
class RunResult:
    path: Path
    index_date: dt.date
    engine: str
    rows: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    changed: bool = True
    #: Queries that read each record table (ADR 0013: passes over the data, not per register).
    reads: dict[str, int] = field(default_factory=dict)


def default_index_date(record: Record) -> dt.date:
    """The record's ``source.as_of`` (the date it describes) when present, else today."""
    as_of = record.manifest.source.get("as_of")
    if as_of:
        return dt.date.fromisoformat(str(as_of)[:10])
    return dt.date.today()


def compute_outputs(
    engine: Engine,
    index_date: dt.date,
    out_dir: Path,
    progress: Callable[[str], None] | None = None,
    model_cache: Path | None = None,
) -> tuple[dict[str, int], dict[str, float]]:
    """Write every output as ``out_dir/<name>.parquet``; return row counts and timings."""
    ctx = RunContext(engine=engine, index_date=index_date)
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}

    # Outputs stay in memory for the rest of the run (later outputs and the population health
    # stage read them from here, not back from Parquet) and are written as they are made —
    # except the profile, which the population health stage enriches and writes once.
    tables: dict[str, pa.Table] = {}

    def written(name: str) -> pa.Table:
        if name not in tables:
            raise ValueError(f"output {name!r} is read before it is written")
        return tables[name]

    for spec in OUTPUTS:
        if progress:
            progress(spec.name)
        t0 = time.perf_counter()
        table = spec.build(ctx, written)
        tables[spec.name] = table
        if spec.name != "patient_profile":
            pq.write_table(table, out_dir / f"{spec.name}.parquet", **PARQUET_OPTIONS)
        rows[spec.name] = table.num_rows
        seconds[spec.name] = time.perf_counter() - t0
    # Population health stage: scores, segments, worklists (engine-independent pandas).
    if progress:
        progress("population health")
    t0 = time.perf_counter()

    # Past profiles only train the admission model, which samples its patients anyway: build
    # them for a share of the population a little above that sample.
    registered = max(rows.get("patient_profile", 0), 1)
    share = min(1.0, 1.2 * MAX_FIT_PATIENTS / registered)

    def profile_at(day: dt.date) -> Any:
        past = RunContext(engine=engine, index_date=day, sample=share)
        return compute_profile(past).to_pandas()

    def hospital() -> Any:
        # Only what the admission model's outcome needs: a fraction of the table.
        h = engine.table("hospital_activity")
        h = h.filter(h.kind == "emergency_admission").select("patient_id", "kind", "start_date")
        return engine.to_arrow(h).to_pandas()

    profile = tables.pop("patient_profile").to_pandas()
    rows.update(post_process(profile, index_date, out_dir, profile_at, hospital, model_cache))
    seconds["population_health"] = time.perf_counter() - t0
    return rows, seconds


def run(
    record_dir: str | Path,
    engine_kind: EngineKind = "duckdb",
    index_date: dt.date | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Compute all outputs of the record at ``record_dir`` and publish them atomically."""
    record = open_record(record_dir)
    index_date = index_date or default_index_date(record)
    base = record.base / OUTPUTS_DIR
    # What killed writers left beside the record (an ingest or synth killed part-way) goes
    # now, not at the next successful load; the outputs' own leftovers go in atomic.writing.
    atomic.clean_stale_staging(record.base)
    t0 = time.perf_counter()
    with atomic.writing(base) as staging:
        with Engine.for_record(record, engine_kind) as engine:
            cache = (
                record.base
                / "models"
                / f"admission-{record.manifest.content_hash[:20]}-{index_date}.pkl"
            )
            rows, seconds = compute_outputs(engine, index_date, staging, progress, cache)
            reads = dict(sorted(engine.reads.items()))
        content = hashlib.sha256()
        for name in sorted(rows):
            content.update(name.encode())
            content.update((staging / f"{name}.parquet").read_bytes())
        content.update((staging / "admission_model.json").read_bytes())
        manifest = {
            "pcn_version": __version__,
            "index_date": index_date.isoformat(),
            "engine": engine_kind,
            "record_content_hash": record.manifest.content_hash,
            "record_snapshot": record.path.name,
            "rows": rows,
            "content_hash": content.hexdigest(),
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        snapshot_id = hashlib.sha256(
            f"{content.hexdigest()}:{index_date}:{record.manifest.content_hash}".encode()
        ).hexdigest()[:20]
        path, changed = atomic.publish(base, staging, snapshot_id)
    seconds["total"] = time.perf_counter() - t0
    return RunResult(path, index_date, engine_kind, rows, seconds, changed, reads)


def outputs_path(record_dir: str | Path) -> Path:
    """The published outputs directory of a record (``<record>/outputs/current``)."""
    record = open_record(record_dir)
    return record.base / OUTPUTS_DIR / "current"
