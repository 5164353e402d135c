"""Benchmark: capacity report + 8-week forecast at ICS scale (default 1M patients). Prints timings.

    python benchmarks/capacity_scale.py [--patients N] [--keep DIR]

Writes a synthetic record (practices of 10,000 patients, the twin's staffing ratios, about 5.5
appointments a patient a year over two years) and times ``pcn capacity report`` for the week
before the record's date and the 8 weeks after it (rota, demand, forecast), then the backtest.
Goal (issue 20): forecast + report under 60 s for 1M patients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from pcn.record.schemas import TABLES
from pcn.record.store import RecordWriter, conform, open_record
from pcn.synth.build import PCN_STAFFING, PRACTICE_STAFFING
from pcn.synth.generate import ROLE_MIX

AS_OF = dt.date(2026, 3, 31)
PER_PRACTICE = 10_000
PCN_SIZE = 50_000
YEARS = 2
RATE = 5.5


def write_record(base: Path, patients: int, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    n_practices = max(1, patients // PER_PRACTICE)
    practices = [f"B{i:05d}" for i in range(n_practices)]
    staff = []
    for p in practices:
        for role, per in PRACTICE_STAFFING.items():
            for j in range(max(1, round(PER_PRACTICE / per))):
                staff.append((f"{p}-{role}-{j}", p, role))
    for k in range(max(1, patients // PCN_SIZE)):
        for role, per in PCN_STAFFING.items():
            for j in range(max(1, round(PCN_SIZE / per))):
                staff.append((f"PCN{k}-{role}-{j}", None, role))
    staff_table = pa.table({
        "clinician_id": [s[0] for s in staff], "practice_code": [s[1] for s in staff],
        "pcn_code": ["ICS"] * len(staff), "role": [s[2] for s in staff],
        "arrs": [s[1] is None for s in staff],
        "wte": rng.choice([0.5, 0.6, 0.8, 1.0], len(staff)).astype(float),
        "start_date": [dt.date(2018, 1, 1)] * len(staff), "end_date": [None] * len(staff),
    })
    n = int(patients * RATE * YEARS)
    first = (AS_OF - dt.timedelta(days=365 * YEARS) - dt.date(1970, 1, 1)).days
    days = first + rng.integers(0, 365 * YEARS, n)
    weekday = (days + 3) % 7
    days = days - np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0))
    roles = list(ROLE_MIX)
    weights = np.array([ROLE_MIX[r] for r in roles])
    seconds = days * 86400 + (8 * 60 + rng.integers(0, 60, n) * 10) * 60
    patient = rng.integers(0, patients, n)
    appointments = pa.table({
        "appointment_id": np.arange(n, dtype=np.int64), "patient_id": patient,
        "practice_code": pa.array(np.array(practices)[patient % n_practices]),
        "clinician_id": pa.array(np.full(n, "X")),
        "role": pa.array(np.array(roles)[rng.choice(len(roles), n, p=weights / weights.sum())]),
        "mode": pa.array(np.full(n, "face_to_face")),
        "start_at": pa.array(seconds.astype(np.int64)).cast(pa.timestamp("s")),
        "status": pa.array(np.where(rng.random(n) < 0.95, "attended", "did_not_attend")),
    })
    extra = {"practices": {p: {"n_registered": PER_PRACTICE} for p in practices}}
    source = {"kind": "synthetic_twin", "as_of": AS_OF.isoformat(), "patients": patients}
    with RecordWriter(base, source=source, extra=extra) as writer:
        writer.write("staff", conform(staff_table, "staff"))
        for part, start in enumerate(range(0, n, 4_000_000)):
            writer.write("appointments", conform(appointments.slice(start, 4_000_000),
                                                 "appointments"), part=part)
    assert "appointments" in TABLES
    return base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="pcn-capacity-bench-"))
    try:
        t0 = time.perf_counter()
        write_record(folder / "record", args.patients)
        t1 = time.perf_counter()
        from pcn.capacity.demand import daily_demand
        from pcn.capacity.forecast import backtest, weekly_series
        from pcn.capacity.report import capacity_report

        record = open_record(folder / "record")
        t2 = time.perf_counter()
        table = capacity_report(record, AS_OF - dt.timedelta(days=6),
                                AS_OF + dt.timedelta(weeks=8))
        t3 = time.perf_counter()
        daily = daily_demand(record, AS_OF - dt.timedelta(weeks=104), AS_OF)
        result = backtest(weekly_series(daily, AS_OF))
        t4 = time.perf_counter()
        staff = record.manifest.tables["staff"].rows
        appts = record.manifest.tables["appointments"].rows
        print(f"patients {args.patients:,}; staff {staff:,}; appointments {appts:,}")
        print(f"write synthetic record: {t1 - t0:.1f} s (not part of the goal)")
        print(f"capacity report + 8-week forecast ({len(table):,} rows): {t3 - t2:.1f} s "
              "(goal < 60 s)")
        print(f"backtest ({result.series:,} series, {len(result.origins)} origins): "
              f"{t4 - t3:.1f} s; MAE ratio {result.mae_ratio:.3f}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
