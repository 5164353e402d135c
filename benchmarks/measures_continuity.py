"""Benchmark: continuity of care over ~2M generated appointments. Prints timings.

Run: python benchmarks/measures_continuity.py [N_APPOINTMENTS]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from pcn.measures.continuity import (
    care_closer_to_home,
    clinician_continuity,
    patient_continuity,
    practice_continuity,
)


def generate(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_patients = max(n // 8, 1)
    patient = rng.integers(0, n_patients, n)
    practice = np.array([f"P{i:05d}" for i in range(8)])[patient % 8]
    # each patient leans towards one of 40 clinicians in their practice
    usual = (patient * 7919) % 40
    other = rng.integers(0, 40, n)
    clinician_no = np.where(rng.random(n) < 0.5, usual, other)
    clinician = pd.Series(practice).str.cat(pd.Series(clinician_no.astype(str)), sep="-")
    role = np.where(clinician_no < 25, "gp", "practice_nurse")
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), "min")
    status = np.where(rng.random(n) < 0.9, "attended", "did_not_attend")
    return pd.DataFrame({"patient_id": patient.astype(np.int64), "practice_code": practice,
                         "clinician_id": clinician, "role": role, "start_at": start,
                         "status": status})


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000
    appts = generate(n)
    c0, t0 = time.process_time(), time.perf_counter()
    patients = patient_continuity(appts)
    c1, t1 = time.process_time(), time.perf_counter()
    practice_continuity(patients)
    t2 = time.perf_counter()
    c2 = time.process_time()
    clinician_continuity(appts, patients)
    c3, t3 = time.process_time(), time.perf_counter()
    rng = np.random.default_rng(2)
    n_patients = int(appts["patient_id"].max()) + 1
    registrations = pd.DataFrame({
        "patient_id": np.arange(n_patients, dtype=np.int64),
        "practice_code": np.array([f"P{i:05d}" for i in range(8)])[np.arange(n_patients) % 8],
        "start_date": pd.Timestamp("2010-01-01"), "end_date": pd.NaT,
    })
    n_hosp = n // 10
    hospital = pd.DataFrame({
        "patient_id": rng.integers(0, n_patients, n_hosp),
        "kind": rng.choice(["ae_attendance", "emergency_admission", "outpatient"], n_hosp),
        "start_date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n_hosp),
                                                                   "D"),
    })
    t4 = time.perf_counter()
    care_closer_to_home(appts, hospital, registrations)
    t5 = time.perf_counter()
    print(f"appointments: {n:,}; eligible patients: {len(patients):,}; "
          f"hospital events: {n_hosp:,}")
    print("wall time (CPU time in brackets; wall suffers when the machine is shared)")
    print(f"patient_continuity   {t1 - t0:6.2f} s ({c1 - c0:.2f} s CPU)")
    print(f"practice_continuity  {t2 - t1:6.2f} s")
    print(f"clinician_continuity {t3 - t2:6.2f} s ({c3 - c2:.2f} s CPU)")
    print(f"care_closer_to_home  {t5 - t4:6.2f} s")


if __name__ == "__main__":
    main()
