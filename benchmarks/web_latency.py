"""Page and API latency (p50/p95) of `pcn serve` on the default twin (goal: p95 < 300 ms).

    python benchmarks/web_latency.py [--record DIR] [--patients N] [--repeats 30]

Builds the default twin (U55830, seed 1, real list sizes) unless --record is given, starts the
app in process (indicators, continuity and inequalities computed once at start-up, as
`pcn serve` does), signs in as a practice clinician and an analyst, and times each page and API
route through the ASGI stack (no network), printing a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table

from pcn.config import Settings
from pcn.store.accounts import create_user, issue_token
from pcn.store.database import Store
from pcn.store.migrate import upgrade
from pcn.web.app import create_app

PASSWORD = "benchmark password 123"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path, help="existing record (default: build the twin)")
    parser.add_argument("--patients", type=int, default=None, help="twin size (default: real)")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    console = Console()
    work = Path(tempfile.mkdtemp(prefix="pcn-web-bench-"))
    record = args.record
    if record is None:
        from pcn.synth import build_twin

        record = work / "twin"
        started = time.perf_counter()
        build_twin(record, pcn_code="U55830", seed=1, patients=args.patients,
                   as_of=dt.date(2026, 3, 31), workers=2)
        console.print(f"twin built in {time.perf_counter() - started:.1f} s")
        from pcn.analytics.run import run as run_analytics

        started = time.perf_counter()
        run_analytics(record)
        console.print(f"`pcn run` outputs in {time.perf_counter() - started:.1f} s")
        from pcn.measures.series import build_series

        started = time.perf_counter()
        build_series(record)
        console.print(f"`pcn indicators series` in {time.perf_counter() - started:.1f} s")
    store = Store(f"sqlite+pysqlite:///{work / 'pcn.sqlite3'}")
    upgrade(store)
    from pcn.record import open_record

    practice = open_record(record).read("practices").column("practice_code").to_pylist()[0]
    create_user(store, "bench.clinician", "practice_clinician", practice_code=practice,
                password=PASSWORD)
    create_user(store, "bench.analyst", "analyst", password=PASSWORD)
    token = issue_token(store, "bench.clinician")

    started = time.perf_counter()
    app = create_app(record, store=store, warm=True,
                     settings=Settings(secret_key="benchmark-secret-0123456789"))
    console.print(f"app start-up (all indicators computed) {time.perf_counter() - started:.1f} s")
    view = app.state.view
    patient = int(view.current_registrations.query("practice_code == @practice")
                  ["patient_id"].iloc[0])
    worklists = view.worklist_ids()

    def client_for(username: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        token_field = re.search(r'name="csrf_token" value="([^"]+)"',
                                client.get("/sign-in").text)
        assert token_field
        client.post("/sign-in", data={"username": username, "password": PASSWORD,
                                      "csrf_token": token_field.group(1)})
        return client

    clinician, analyst = client_for("bench.clinician"), client_for("bench.analyst")
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    routes: list[tuple[str, TestClient, str]] = [
        ("clinician", clinician, "/overview"), ("analyst", analyst, "/overview"),
        ("clinician", clinician, "/indicators"), ("analyst", analyst, "/indicators"),
        ("clinician", clinician, "/indicators/dna_rate"),
        ("analyst", analyst, "/indicators/dna_rate"),
        # patient-based: SPC from the stored month-end series
        ("clinician", clinician, "/indicators/hyp_bp_140_90_under_80"),
        ("analyst", analyst, "/indicators/hyp_bp_140_90_under_80"),
        ("clinician", clinician, "/continuity"), ("analyst", analyst, "/continuity"),
        ("clinician", clinician, "/inequalities"), ("analyst", analyst, "/inequalities"),
        ("clinician", clinician, "/worklists"),
        ("clinician", clinician, "/funding"), ("analyst", analyst, "/funding"),
        ("clinician", clinician, f"/patients/{patient}"),
        ("api", api, f"/api/patients/{patient}"), ("api", api, "/api/indicators/dna_rate"),
        ("api", api, "/api/indicators/hyp_bp_140_90_under_80"),
        ("api", api, "/api/worklists"),
    ]
    routes += [("clinician", clinician, f"/worklists/{w}") for w in worklists[:2]]
    table = Table(title=f"Latency over {args.repeats} requests ({len(view.profile):,} patients)",
                  header_style="bold")
    for column in ("who", "route", "status", "p50 ms", "p95 ms", "max ms"):
        table.add_column(column, justify="right" if "ms" in column else "left")
    worst = 0.0
    for who, client, path in routes:
        timings = []
        status = 0
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            status = client.get(path).status_code
            timings.append((time.perf_counter() - t0) * 1000)
        p95 = percentile(timings, 95)
        worst = max(worst, p95)
        table.add_row(who, path, str(status), f"{statistics.median(timings):.0f}",
                      f"{p95:.0f}", f"{max(timings):.0f}")
    console.print(table)
    verdict = "[green]meets[/]" if worst < 300 else "[red]misses[/]"
    console.print(f"worst p95 {worst:.0f} ms — {verdict} the 300 ms goal")


if __name__ == "__main__":
    main()
