"""FHIR throughput: resources/second for export (record -> NDJSON) and import (NDJSON -> record).

    python benchmarks/fhir_throughput.py                       # generated record, 20k patients
    python benchmarks/fhir_throughput.py --patients 50000
    python benchmarks/fhir_throughput.py --record var/twin     # an existing record (e.g. a twin)

Import is timed in both validation modes: ``fast`` (the mapper's own checks of every element it
stores) and ``full`` (every resource also validated by the fhir.resources R4B pydantic model).
The round trip's content hashes are compared, so the figures are for a correct load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from pcn.fhir.outbound import export_ndjson
from pcn.ingest.fhir import ingest_fhir
from pcn.ingest.merge import complete_lsoa
from pcn.record import RecordWriter, open_record
from pcn.record.nhs_number import synthetic_numbers
from pcn.record.schemas import TABLES
from pcn.refdata.codelists import codelist
from pcn.refdata.places import lsoas_near, pcn_practices

CARRIED = ("practices", "patients", "registrations", "clinical_events", "medications",
           "appointments", "staff", "hospital_activity", "lsoa")


def generated_record(path: Path, patients: int, seed: int = 1) -> None:
    """A plain random record (not the synthetic twin): enough rows of every kind to time."""
    rng = np.random.default_rng(seed)
    prac = pcn_practices("U55830")
    codes = prac["practice_code"].to_numpy()
    lsoa = lsoas_near(codes[0], n=40)["lsoa_code"].to_numpy()
    pid = np.arange(1, patients + 1)
    epoch = dt.date(1970, 1, 1)
    dob = rng.integers(-20000, 19000, patients)
    reg_practice = rng.choice(codes, patients)
    t = {
        "practices": pa.table({
            "practice_code": codes, "name": prac["practice_name"], "pcn_code": prac["pcn_code"],
            "pcn_name": prac["pcn_name"], "sub_icb_code": prac["sub_icb_code"],
            "icb_code": prac["icb_code"], "region_code": prac["region_code"],
            "postcode": prac["postcode"], "lsoa_code": [None] * len(codes)}),
        "patients": pa.table({
            "patient_id": pid, "nhs_number": synthetic_numbers(0, patients).astype(str),
            "date_of_birth": pa.array(dob, pa.int32()).cast(pa.date32()),
            "sex": rng.choice(["F", "M"], patients),
            "ethnicity_code": rng.choice(["10292001", None], patients),
            "lsoa_code": rng.choice(lsoa, patients),
            "date_of_death": pa.array([epoch + dt.timedelta(days=20000) if i % 50 == 0 else None
                                       for i in range(patients)], pa.date32())}),
        "registrations": pa.table({
            "patient_id": pid, "practice_code": reg_practice,
            "start_date": pa.array(dob + 30, pa.int32()).cast(pa.date32()),
            "end_date": pa.array([None] * patients, pa.date32())}),
    }
    bp = list(codelist("nhsd-primary-care-domain-refsets-bp_cod").codes)[:20]
    hyp = list(codelist("nhsd-primary-care-domain-refsets-hyp_cod").codes)[:20]
    n_ev = patients * 12
    ev_code = rng.choice(bp + hyp, n_ev)
    value = np.where(np.isin(ev_code, bp), rng.normal(130, 15, n_ev).round(0), np.nan)
    t["clinical_events"] = pa.table({
        "patient_id": rng.choice(pid, n_ev),
        "date": pa.array(rng.integers(18000, 20500, n_ev), pa.int32()).cast(pa.date32()),
        "snomed_code": ev_code, "numeric_value": pa.array(value, from_pandas=True)})
    meds = list(codelist("opensafely-statin-medication").codes)[:30]
    n_med = patients * 4
    t["medications"] = pa.table({
        "patient_id": rng.choice(pid, n_med),
        "date": pa.array(rng.integers(18000, 20500, n_med), pa.int32()).cast(pa.date32()),
        "dmd_code": rng.choice(meds, n_med), "quantity": rng.choice([28.0, 56.0], n_med)})
    staff_ids = [f"c{i}" for i in range(40)]
    t["staff"] = pa.table({
        "clinician_id": staff_ids, "practice_code": rng.choice(codes, 40),
        "pcn_code": ["U55830"] * 40, "role": ["gp"] * 40, "arrs": [False] * 40,
        "wte": [1.0] * 40,
        "start_date": pa.array([dt.date(2015, 1, 1)] * 40), "end_date": pa.array([None] * 40,
                                                                                pa.date32())})
    n_app = patients * 3
    t["appointments"] = pa.table({
        "appointment_id": np.arange(n_app), "patient_id": rng.choice(pid, n_app),
        "practice_code": rng.choice(codes, n_app), "clinician_id": rng.choice(staff_ids, n_app),
        "role": ["gp"] * n_app, "mode": rng.choice(["face_to_face", "telephone"], n_app),
        "start_at": pa.array(rng.integers(1.6e9, 1.7e9, n_app) // 600 * 600,
                             pa.int64()).cast(pa.timestamp("s")),
        "status": rng.choice(["attended", "did_not_attend", "cancelled"], n_app)})
    n_h = patients // 5
    t["hospital_activity"] = pa.table({
        "patient_id": rng.choice(pid, n_h), "kind": rng.choice(["ae_attendance", "elective"], n_h),
        "start_date": pa.array(rng.integers(18000, 20500, n_h), pa.int32()).cast(pa.date32()),
        "end_date": pa.array([None] * n_h, pa.date32()), "icd10_code": rng.choice(["I500"], n_h)})
    t["lsoa"] = complete_lsoa(TABLES["lsoa"].schema.empty_table(),
                              t["patients"].cast(TABLES["patients"].schema))
    w = RecordWriter(path, source={"kind": "benchmark"})
    with w:
        for name, table in t.items():
            w.write(name, table)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (immune to other machine load)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=20_000)
    ap.add_argument("--record", type=Path, help="time an existing record instead")
    ap.add_argument("--full", action="store_true",
                    help="also time full model validation on an existing --record (slow)")
    ap.add_argument("--workers", type=int, default=1,
                    help="import worker processes (pcn's default is 1)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pcn-fhir-bench-"))
    try:
        src = args.record
        if src is None:
            src = work / "source"
            t = time.perf_counter()
            generated_record(src, args.patients)
            print(f"generated record: {args.patients:,} patients in "
                  f"{time.perf_counter() - t:.1f} s")
        rec = open_record(src)
        print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
        t, c = time.perf_counter(), cpu_seconds()
        counts = export_ndjson(rec, work / "fhir")
        secs, cpu = time.perf_counter() - t, cpu_seconds() - c
        total = sum(counts.values())
        print(f"export: {total:,} resources in {secs:.2f} s = {total / secs:,.0f} resources/s "
              f"(wall); {total / cpu:,.0f} per CPU-second")
        modes = ["fast", "full"] if args.full or args.record is None else ["fast"]
        workers = args.workers
        for mode in modes:
            dest = work / f"copy-{mode}"
            t, c = time.perf_counter(), cpu_seconds()
            report = ingest_fhir([work / "fhir"], dest, validation=mode,  # type: ignore[arg-type]
                                 workers=workers)
            secs, cpu = time.perf_counter() - t, cpu_seconds() - c
            n = report.read
            cpu_note = f"{n / cpu:,.0f} per CPU-second" if workers == 1 else "CPU n/a"
            copy = open_record(dest).manifest
            same = all(copy.tables[k].content_hash == rec.manifest.tables[k].content_hash
                       for k in CARRIED)
            print(f"import ({mode}): {n:,} resources in {secs:.2f} s = {n / secs:,.0f} "
                  f"resources/s (wall); {cpu_note}; rejected "
                  f"{report.skipped:,}; round trip exact: {same}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
