"""Build a synthetic twin: plan the practices, generate chunks in parallel, publish atomically.

Memory is bounded by ``workers × chunk size``: each worker holds one chunk (at most
``synth_chunk_patients`` registered patients and their rows) at a time and writes it straight to
its own Parquet part files, so a 10-million-patient twin needs no more memory than a 100,000 one.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pcn import __version__
from pcn.config import get_settings
from pcn.record.hashing import TableHasher
from pcn.record.schemas import TABLES
from pcn.record.store import PARQUET_OPTIONS, RecordWriter, conform
from pcn.refdata import lsoas
from pcn.synth.generate import Chunk, Context, StaffMember, StaffPools, day_number, generate_chunk
from pcn.synth.population import PracticePlan, practice_plans

GENERATED_TABLES = (
    "patients",
    "registrations",
    "clinical_events",
    "medications",
    "appointments",
    "hospital_activity",
    "opt_outs",
)

#: Practice-employed roles: one whole-time post per this many registered patients.
PRACTICE_STAFFING = {"gp": 1700, "practice_nurse": 3500, "hca": 5000, "admin": 900}
#: PCN-employed ARRS roles (Network Contract DES): one post per this many PCN patients.
PCN_STAFFING = {
    "anp": 12000,
    "clinical_pharmacist": 9000,
    "pharmacy_technician": 20000,
    "fcp_physio": 15000,
    "social_prescriber": 12000,
    "care_coordinator": 10000,
    "health_coach": 30000,
    "mental_health_practitioner": 25000,
    "paramedic": 30000,
}
ARRS_START = dt.date(2019, 7, 1)


@dataclass
class TwinResult:
    path: Path
    registered: int
    total_patients: int
    events: int
    seconds: float
    changed: bool


def plan_chunks(plans: list[PracticePlan], chunk_size: int) -> list[Chunk]:
    chunks = []
    offset = 0
    cid = 0
    for i, p in enumerate(plans):
        n_chunks = max(1, -(-p.n_registered // chunk_size))
        sizes = [
            p.n_registered // n_chunks + (1 if j < p.n_registered % n_chunks else 0)
            for j in range(n_chunks)
        ]
        for size in sizes:
            c = Chunk(chunk_id=cid, practice_index=i, n_registered=size, id_offset=offset)
            chunks.append(c)
            offset += c.n_candidates
            cid += 1
    return chunks


def build_staff(
    plans: list[PracticePlan], seed: int, as_of: dt.date
) -> tuple[pa.Table, list[StaffPools]]:
    rng = np.random.default_rng([seed, 424242])
    rows: list[dict[str, Any]] = []
    pcn_code = plans[0].pcn_code
    pcn_total = sum(p.n_registered for p in plans)

    def hire(role: str, practice: str | None, count: int, prefix: str) -> list[StaffMember]:
        out = []
        for j in range(count):
            cid = f"{prefix}-{role.upper()}-{j + 1:02d}"
            wte = float(
                np.round(rng.choice([0.4, 0.5, 0.6, 0.8, 1.0], p=[0.1, 0.2, 0.2, 0.25, 0.25]), 2)
            )
            earliest = ARRS_START if practice is None else as_of - dt.timedelta(days=365 * 15)
            start = earliest + dt.timedelta(
                days=int(rng.integers(0, max((as_of - earliest).days - 400, 1)))
            )
            rows.append(
                {
                    "clinician_id": cid,
                    "practice_code": practice,
                    "pcn_code": pcn_code,
                    "role": role,
                    "arrs": practice is None,
                    "wte": wte,
                    "start_date": start,
                    "end_date": None,
                }
            )
            out.append(StaffMember(cid, role, practice, wte))
        return out

    shared: dict[str, list[StaffMember]] = {}
    for role, per in PCN_STAFFING.items():
        shared[role] = hire(role, None, max(1, round(pcn_total / per)), pcn_code)
    pools = []
    for p in plans:
        own = {
            role: hire(role, p.practice_code, max(1, round(p.n_registered / per)), p.practice_code)
            for role, per in PRACTICE_STAFFING.items()
        }
        pools.append(StaffPools({**own, **shared}))
    # A few people who have left: workforce turnover is part of the picture.
    for p in plans[: max(1, len(plans) // 2)]:
        left = as_of - dt.timedelta(days=int(rng.integers(30, 700)))
        rows.append(
            {
                "clinician_id": f"{p.practice_code}-GP-LEFT",
                "practice_code": p.practice_code,
                "pcn_code": pcn_code,
                "role": "gp",
                "arrs": False,
                "wte": 0.6,
                "start_date": left - dt.timedelta(days=2000),
                "end_date": left,
            }
        )
    table = pa.Table.from_pylist(rows, schema=TABLES["staff"].schema)
    return table, pools


def _run_chunk(
    args: tuple[PracticePlan, Chunk, Context, StaffPools, str],
) -> dict[str, tuple[str, int, int]]:
    plan, chunk, ctx, pools, staging = args
    tables = generate_chunk(plan, chunk, ctx, pools)
    out = {}
    for name, table in tables.items():
        table = conform(table, name)
        d = Path(staging) / name
        d.mkdir(exist_ok=True)
        path = d / f"part-{chunk.chunk_id:05d}.parquet"
        pq.write_table(table, path, **PARQUET_OPTIONS)
        h = TableHasher(table.schema)
        h.update(table)
        out[name] = (str(path), h.rows, h.partial_sum)
    return out


def practices_table(plans: list[PracticePlan]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "practice_code": p.practice_code,
                "name": p.name,
                "pcn_code": p.pcn_code,
                "pcn_name": p.pcn_name,
                "sub_icb_code": p.sub_icb_code,
                "icb_code": p.icb_code,
                "region_code": p.region_code,
                "postcode": p.postcode,
                "lsoa_code": p.lsoa_code,
            }
            for p in plans
        ],
        schema=TABLES["practices"].schema,
    )


def lsoa_table(plans: list[PracticePlan]) -> pa.Table:
    codes = sorted({c for p in plans for c in p.lsoa_codes} | {p.lsoa_code for p in plans})
    df = lsoas()
    df = df[df.lsoa_code.isin(codes)].sort_values("lsoa_code")
    return pa.table(
        {
            "lsoa_code": pa.array(df.lsoa_code, pa.string()),
            "imd_decile": pa.array(df.imd_decile.astype("int8"), pa.int8()),
            "imd_rank": pa.array(df.imd_rank.astype("int32"), pa.int32()),
            "rural_urban": pa.array(df.rural_urban, pa.string()),
            "lon": pa.array(df.lon, pa.float64()),
            "lat": pa.array(df.lat, pa.float64()),
        }
    )


def build_twin(
    out: str | Path,
    *,
    pcn_code: str,
    patients: int | None = None,
    seed: int = 1,
    as_of: dt.date | None = None,
    workers: int = 1,
    progress: bool = False,
    chunk_size: int | None = None,
) -> TwinResult:
    """Build the synthetic twin of ``pcn_code`` into the record directory ``out``."""
    settings = get_settings()
    as_of = as_of or settings.twin_as_of
    chunk_size = chunk_size or settings.synth_chunk_patients
    if patients is not None and patients < 100:
        raise ValueError("--patients must be at least 100")
    t0 = time.perf_counter()
    plans = practice_plans(pcn_code, patients)
    chunks = plan_chunks(plans, chunk_size)
    ctx = Context(seed=seed, as_of=as_of, history_years=settings.twin_history_years)
    staff, pools = build_staff(plans, seed, as_of)
    source = {
        "kind": "synthetic_twin",
        "pcn_code": pcn_code.upper(),
        "seed": seed,
        "patients": sum(p.n_registered for p in plans),
        "as_of": as_of.isoformat(),
        "history_years": ctx.history_years,
        "generator": f"pcn {__version__}",
    }
    extra = {
        "practices": {
            p.practice_code: {
                "list_size": p.list_size,
                "n_registered": p.n_registered,
                "list_size_imputed": p.list_size_imputed,
            }
            for p in plans
        }
    }
    writer = RecordWriter(out, source=source, extra=extra)
    totals = {name: 0 for name in GENERATED_TABLES}
    with writer:
        assert writer.staging is not None
        writer.write("practices", practices_table(plans))
        writer.write("staff", staff)
        writer.write("lsoa", lsoa_table(plans))
        jobs = [
            (plans[c.practice_index], c, ctx, pools[c.practice_index], str(writer.staging))
            for c in chunks
        ]
        bar = Progress(
            TextColumn("[bold]twin[/] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=not progress,
            transient=True,
        )
        with bar:
            task = bar.add_task(
                f"{pcn_code} · {len(chunks)} chunk(s)", total=sum(c.n_registered for c in chunks)
            )

            def collect(result: dict[str, tuple[str, int, int]], chunk: Chunk) -> None:
                for name, (path, rows, psum) in result.items():
                    writer.adopt_part(name, Path(path), rows, psum)
                    totals[name] += rows
                bar.advance(task, chunk.n_registered)

            if workers <= 1 or len(jobs) == 1:
                for job in jobs:
                    collect(_run_chunk(job), job[1])
            else:
                ctx_mp = get_context("spawn")
                with ProcessPoolExecutor(
                    max_workers=min(workers, len(jobs)), mp_context=ctx_mp
                ) as pool:
                    futures = {pool.submit(_run_chunk, job): job[1] for job in jobs}
                    for fut in as_completed(futures):
                        collect(fut.result(), futures[fut])
            if os.environ.get("PCN_SYNTH_PAUSE_BEFORE_PUBLISH"):
                # Test hook: lets a test kill the writer after all parts exist but before the
                # switch, the most dangerous moment for atomicity.
                print("ready-to-publish", flush=True)
                time.sleep(float(os.environ["PCN_SYNTH_PAUSE_BEFORE_PUBLISH"]))
    assert writer.record is not None
    return TwinResult(
        path=Path(out),
        registered=sum(c.n_registered for c in chunks),
        total_patients=totals["patients"],
        events=totals["clinical_events"],
        seconds=time.perf_counter() - t0,
        changed=writer.changed,
    )


__all__ = ["TwinResult", "build_twin", "day_number"]
