"""Benchmark: every shipped indicator on a generated profile (default 50k patients, 400k
appointments, 30k hospital events), plus funnel limits and XmR. Prints timings.

Run: python benchmarks/measures_indicators.py [N_PATIENTS]
"""

from __future__ import annotations

import sys
import time
from datetime import date

import numpy as np
import pandas as pd

from pcn.measures.funnel import funnel
from pcn.measures.indicators import (
    PATIENT_PROFILE_COLUMNS,
    compute_indicator,
    load_indicators,
    protect_result,
)
from pcn.measures.spc import xmr


def profile(n: int, rng: np.random.Generator) -> pd.DataFrame:
    frame = pd.DataFrame({"patient_id": np.arange(n, dtype=np.int64),
                          "practice_code": rng.choice([f"P{i}" for i in range(8)], n)})
    for col, desc in PATIENT_PROFILE_COLUMNS.items():
        if col in frame.columns:
            continue
        kind = desc.split(":")[0]
        if kind == "bool":
            frame[col] = rng.random(n) < 0.2
        elif kind == "int":
            frame[col] = rng.integers(0, 95, n)
        elif kind == "float":
            frame[col] = rng.normal(100, 40, n)
        elif kind == "date":
            frame[col] = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 800, n), "D")
        else:
            frame[col] = rng.choice(["fit", "mild", "moderate", "severe", None], n)
    frame["sex"] = rng.choice(["F", "M"], n)
    return frame


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    rng = np.random.default_rng(1)
    prof = profile(n, rng)
    n_appt = n * 8
    appts = pd.DataFrame({
        "patient_id": rng.integers(0, n, n_appt),
        "practice_code": rng.choice([f"P{i}" for i in range(8)], n_appt),
        "clinician_id": rng.choice([f"c{i}" for i in range(60)], n_appt),
        "role": rng.choice(["gp", "practice_nurse", "clinical_pharmacist", "anp"], n_appt),
        "start_at": pd.Timestamp("2022-04-01")
        + pd.to_timedelta(rng.integers(0, 3 * 365 * 24, n_appt), "h"),
        "status": rng.choice(["attended", "did_not_attend", "cancelled"], n_appt, p=[.85, .05, .1]),
    })
    n_hosp = max(n * 3 // 5, 1)
    hosp = pd.DataFrame({
        "patient_id": rng.integers(0, n, n_hosp),
        "kind": rng.choice(["ae_attendance", "emergency_admission", "elective", "outpatient"],
                           n_hosp),
        "start_date": pd.Timestamp("2022-04-01")
        + pd.to_timedelta(rng.integers(0, 3 * 365, n_hosp), "D"),
        "icd10_code": rng.choice(["J441", "I10", "S720", "E119", "E110"], n_hosp),
    })
    indicators = load_indicators()
    c0, t0 = time.process_time(), time.perf_counter()
    results = [compute_indicator(ind, prof, as_of=date(2025, 3, 31), appointments=appts,
                                 hospital_activity=hosp) for ind in indicators.values()]
    c1, t1 = time.process_time(), time.perf_counter()
    for r in results:
        protect_result(r)
    t2 = time.perf_counter()
    for r in results:
        units = r.by_practice[r.by_practice["level"] == "practice"]
        funnel(units, kind=r.indicator.kind, per=r.indicator.per)
        if r.monthly is not None:
            pcn = r.monthly[r.monthly["level"] == "pcn"]
            xmr(pcn["value"].fillna(0).to_numpy(), low_is_good=r.indicator.low_is_good)
    t3 = time.perf_counter()
    print(f"patients {n:,}; appointments {n_appt:,}; hospital events {n_hosp:,}")
    print(f"{len(results)} indicators computed      {t1 - t0:6.2f} s ({c1 - c0:.2f} s CPU)")
    print(f"disclosure control on all      {t2 - t1:6.2f} s")
    print(f"funnels + XmR charts on all    {t3 - t2:6.2f} s")


if __name__ == "__main__":
    main()
