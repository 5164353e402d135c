"""20 staff working tasks at once: p50/p95 per action on SQLite and PostgreSQL (issue 17 goal:
p95 < 300 ms per action).

    python benchmarks/tasks_concurrency.py [--record DIR] [--patients N] [--staff 20]
                                           [--rounds 10] [--backends sqlite,postgres]
                                           [--think 1.0]

Builds a twin (U55830, seed 1; ``--patients`` for a smaller one) and runs `pcn run` unless
``--record`` is given. For each backend it makes a fresh migrated store (PostgreSQL: a new
database on 127.0.0.1:5432, dropped afterwards), one account per member of staff spread over the
practices (clinicians) and the PCN (care coordinators, who see a practice by agreement), starts
the app in process as `pcn serve` does, and lets ``--staff`` threads work at the same time, each
through its own client and bearer token over the ASGI stack: list my tasks, create a task from a
worklist, read it, record a contact attempt, close it with a coded outcome, list the worklist's
tasks. Every request is authorised and audited as in production. ``--think`` is each person's
mean pause between actions in seconds (exponentially distributed; 0 = back-to-back, a stress
test). Prints p50/p95/max per action.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import secrets
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from pcn.config import Settings
from pcn.store.accounts import create_user, issue_token
from pcn.store.database import Store
from pcn.store.migrate import upgrade
from pcn.store.sharing import add_agreement

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WORKLIST = "smr_candidates"
SMR = "1239511000000100"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _pg_database() -> tuple[str, str]:
    name = f"pcn_bench_{secrets.token_hex(4)}"
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_pg(name: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def run_backend(record: Path, url: str, staff: int, rounds: int, think: float = 0.0
                ) -> tuple[dict[str, list[float]], int, int]:
    from pcn.analytics.run import outputs_path
    from pcn.record import open_record
    from pcn.web.app import create_app

    store = Store(url)
    upgrade(store)
    practices = sorted(open_record(record).read("practices").column("practice_code")
                       .to_pylist())
    frame = pd.read_parquet(outputs_path(record) / "worklists" / f"{WORKLIST}.parquet")
    add_agreement(store, from_practices=[practices[0]], to_orgs=["network"],
                  data_scope="view", purpose="direct_care", valid_from=dt.date(2000, 1, 1),
                  reference="benchmark")
    people: list[tuple[str, str, list[int]]] = []
    for i in range(staff):
        coordinator = i % 4 == 3
        practice = practices[0] if coordinator else practices[i % len(practices)]
        name = f"staff{i:02d}"
        create_user(store, name, "care_coordinator" if coordinator else "practice_clinician",
                    practice_code=None if coordinator else practice,
                    password="benchmark password 123")
        mine = [int(p) for p in frame.loc[frame["practice_code"] == practice, "patient_id"]]
        # each person works a disjoint slice of their practice's list
        people.append((name, issue_token(store, name), mine[i::staff]))
    store.enable_group_commit()
    app = create_app(record, store=store, warm=True,
                     settings=Settings(secret_key="benchmark-secret-0123456789abcdef",
                                       max_concurrent_requests=200))
    timings: dict[str, list[float]] = defaultdict(list)
    errors = [0]
    lock = threading.Lock()
    start = threading.Barrier(staff)

    def work(name: str, token: str, patients: list[int]) -> None:
        client = TestClient(app)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        pause = random.Random(name)

        def timed(action: str, method: str, path: str, body: object = None,
                  expect: int = 200) -> dict[str, object]:
            if think > 0:
                time.sleep(pause.expovariate(1 / think))
            t0 = time.perf_counter()
            response = client.request(method, path, headers=headers,
                                      content=json.dumps(body) if body is not None else None)
            elapsed = (time.perf_counter() - t0) * 1000
            with lock:
                timings[action].append(elapsed)
                if response.status_code != expect:
                    errors[0] += 1
            return response.json() if response.status_code == expect else {}

        start.wait()
        for r in range(rounds):
            timed("list my tasks", "GET", "/api/tasks?owner=me&status=open")
            if r >= len(patients):
                continue
            made = timed("create task", "POST", "/api/tasks",
                         {"patient_id": patients[r], "worklist": WORKLIST, "owner": name},
                         expect=201)
            task_id = made.get("id")
            if task_id is None:
                continue
            timed("read task", "GET", f"/api/tasks/{task_id}")
            timed("record attempt", "PATCH", f"/api/tasks/{task_id}",
                  {"contact_attempt": True, "notes": "no answer"})
            timed("close with outcome", "PATCH", f"/api/tasks/{task_id}",
                  {"status": "done", "outcome_code": SMR})
            timed("list worklist tasks", "GET", f"/api/tasks?worklist={WORKLIST}&limit=200")
        client.close()

    threads = [threading.Thread(target=work, args=p) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(len(v) for v in timings.values())
    store.dispose()
    return timings, total, errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path)
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--staff", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds between one person's actions (0: back-to-back)")
    args = parser.parse_args()
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="pcn-tasks-bench-"))
    record = args.record
    if record is None:
        from pcn.analytics.run import run as run_analytics
        from pcn.synth import build_twin

        record = work / "twin"
        t0 = time.perf_counter()
        build_twin(record, pcn_code="U55830", seed=1, patients=args.patients,
                   as_of=dt.date(2026, 3, 31), workers=2)
        run_analytics(record)
        console.print(f"twin and `pcn run` in {time.perf_counter() - t0:.1f} s")
    for backend in args.backends.split(","):
        pg_name = None
        if backend == "postgres":
            pg_name, url = _pg_database()
        else:
            url = f"sqlite+pysqlite:///{work / f'pcn-{secrets.token_hex(3)}.sqlite3'}"
        try:
            t0 = time.perf_counter()
            timings, total, errors = run_backend(record, url, args.staff, args.rounds,
                                                 args.think)
            wall = time.perf_counter() - t0
        finally:
            if pg_name:
                _drop_pg(pg_name)
        table = Table(title=f"{backend}: {args.staff} staff at once, think {args.think:g} s, "
                      f"{total:,} requests, {errors} errors", header_style="bold")
        for column in ("action", "requests", "p50 ms", "p95 ms", "max ms"):
            table.add_column(column, justify="left" if column == "action" else "right")
        worst = 0.0
        for action, values in timings.items():
            p95 = percentile(values, 95)
            worst = max(worst, p95)
            table.add_row(action, f"{len(values):,}", f"{statistics.median(values):.0f}",
                          f"{p95:.0f}", f"{max(values):.0f}")
        console.print(table)
        console.print(f"{backend}: worst p95 {worst:.0f} ms "
                      f"({'meets' if worst < 300 else 'misses'} the 300 ms goal); "
                      f"{total / wall:.0f} requests/s including set-up")


if __name__ == "__main__":
    main()
