"""Benchmark the access policy and the audit trail; prints figures (not a test).

    python benchmarks/store_audit.py                       # SQLite in a temporary directory
    python benchmarks/store_audit.py --url postgresql://postgres@127.0.0.1:5432/pcn_bench

The PostgreSQL database must exist and be empty or disposable: the benchmark migrates it, writes
events, and downgrades it to empty at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import threading
import time
from pathlib import Path

from pcn.access import guard
from pcn.access.policy import (
    AccessContext,
    Action,
    Agreement,
    DataScope,
    Principal,
    Purpose,
    Request,
    Role,
    decide,
)
from pcn.config import get_settings
from pcn.store import accounts, audit, migrate, sharing
from pcn.store.database import Store


def bench_policy(n: int = 200_000) -> None:
    principal = Principal("gp", Role.PRACTICE_CLINICIAN, "A81001")
    agreements = tuple(Agreement(i, frozenset({f"B8200{i}"}), frozenset({"A81001"}),
                                 DataScope.VIEW, Purpose.DIRECT_CARE, dt.date(2026, 1, 1))
                       for i in range(5))
    context = AccessContext(dt.datetime(2026, 6, 1), agreements)
    request = Request(principal, Action.VIEW_PATIENT, patient_id=1,
                      patient_practices=frozenset({"B82004"}))
    start = time.perf_counter()
    for _ in range(n):
        decide(request, context)
    elapsed = time.perf_counter() - start
    print(f"policy decide(): {n / elapsed:,.0f} decisions/s ({elapsed / n * 1e6:.1f} µs each)")


def bench_store(store: Store, events: int, threads: int) -> None:
    migrate.upgrade(store)
    accounts.create_user(store, "gp.a", "practice_clinician", practice_code="A81001",
                         password="benchmark password")
    sharing.add_agreement(store, from_practices=["B82002"], to_orgs=["A81001"], data_scope="view",
                          purpose="direct_care", valid_from=dt.date(2020, 1, 1))

    start = time.perf_counter()
    for i in range(events):
        audit.record(store, audit.Event("gp.a", "practice_clinician", "view_patient", "allowed",
                                        "A81001", i, "direct_care"))
    elapsed = time.perf_counter() - start
    print(f"  audit.record, 1 writer: {events / elapsed:,.0f} events/s")

    per_thread = events // threads

    def work() -> None:
        for i in range(per_thread):
            audit.record(store, audit.Event("gp.a", "practice_clinician", "view_patient",
                                            "allowed", "A81001", i, "direct_care"))

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    print(f"  audit.record, {threads} writers: {per_thread * threads / elapsed:,.0f} events/s")

    writer = audit.AuditWriter(store)
    callers = threads * 8

    def grouped() -> None:
        for i in range(events // callers):
            writer.record(audit.Event("gp.a", "practice_clinician", "view_patient", "allowed",
                                      "A81001", i, "direct_care"))

    workers = [threading.Thread(target=grouped) for _ in range(callers)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    writer.close()
    print(f"  AuditWriter (group commit), {callers} callers: "
          f"{events // callers * callers / elapsed:,.0f} events/s")

    latencies = []
    for i in range(300):
        t0 = time.perf_counter()
        guard.authorise(store, "gp.a", Action.VIEW_PATIENT, patient_id=i,
                        patient_practices=frozenset({"B82002"}))
        latencies.append(time.perf_counter() - t0)
    q = statistics.quantiles(latencies, n=100)
    print(f"  guard.authorise (reload account+agreements, decide, audit): "
          f"p50 {q[49] * 1e3:.2f} ms, p95 {q[94] * 1e3:.2f} ms")

    start = time.perf_counter()
    report = audit.verify(store)
    elapsed = time.perf_counter() - start
    assert report.ok, report.problems
    print(f"  audit verify: {report.events_checked:,} events in {elapsed:.2f} s "
          f"({report.events_checked / elapsed:,.0f} events/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="", help="PostgreSQL URL (default: temporary SQLite)")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    import os

    os.environ.setdefault("PCN_PASSWORD_HASHING", "cheapest")
    os.environ.setdefault("PCN_DEBUG", "true")
    get_settings.cache_clear()
    bench_policy()
    if args.url:
        url = args.url.replace("postgresql://", "postgresql+psycopg://", 1)
        store = Store(url)
        print(f"store {store!r}")
        try:
            bench_store(store, args.events, args.threads)
        finally:
            migrate.downgrade(store, "base")
            store.dispose()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite+pysqlite:///{Path(tmp) / 'bench.sqlite3'}")
            print(f"store {store!r}")
            bench_store(store, args.events, args.threads)
            store.dispose()


if __name__ == "__main__":
    main()
