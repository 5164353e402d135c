"""Loopback load on `pcn serve`: concurrent users, 70% read / 20% search / 10% write (TRUST 15).

    python benchmarks/load.py                           # 500 users for 30 s on a 5,000-patient twin
    python benchmarks/load.py --users 100 --seconds 10 --record DIR

Builds a twin (unless --record), runs the analytics, creates accounts and tokens in a SQLite
store, starts `pcn serve` as a subprocess on 127.0.0.1 and drives it with asyncio + httpx: each
user repeats {think, one request} until the time is up. Reads: a patient summary, an indicator,
a FHIR Patient read. Searches: a worklist page, a FHIR search by NHS number. Writes: `POST
/api/requests` with an Idempotency-Key (skipped, and said so, when the server has no such
route). A 503/429 answer is load shedding (the client waits Retry-After and goes on); anything
else >= 400 that is not expected is an error; a 5xx other than 503 is a failure. Prints p50,
p95, p99 and the error rate per kind. Targets: p95 < 300 ms, p99 < 1 s, errors < 0.1 %,
overload answered 429/503, never 500.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx2 as httpx

PASSWORD = "benchmark password 123"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(work: Path, record: Path | None, patients: int) -> tuple[Path, str, dict[str, str],
                                                                     list[tuple[int, str]]]:
    """(record, database URL, tokens by user, [(patient_id, nhs_number)] of practice A)."""
    from pcn.access.policy import NETWORK
    from pcn.record import open_record
    from pcn.store.accounts import create_user, issue_token
    from pcn.store.database import Store
    from pcn.store.migrate import upgrade
    from pcn.store.sharing import add_agreement

    if record is None:
        from pcn.analytics.run import run as run_analytics
        from pcn.synth import build_twin

        record = work / "twin"
        build_twin(record, pcn_code="U55830", seed=1, patients=patients,
                   as_of=dt.date(2026, 3, 31), workers=2)
        run_analytics(record)
    rec = open_record(record)
    practices = sorted(rec.read("practices").column("practice_code").to_pylist())
    url = f"sqlite+pysqlite:///{work / 'pcn.sqlite3'}"
    store = Store(url)
    upgrade(store)
    create_user(store, "loadclin", "practice_clinician", practice_code=practices[0],
                password=PASSWORD)
    create_user(store, "loaddirector", "clinical_director", password=PASSWORD)
    add_agreement(store, from_practices=practices, to_orgs=[NETWORK], data_scope="view",
                  purpose="direct_care", valid_from=dt.date(2000, 1, 1), reference="load test")
    tokens = {"clin": issue_token(store, "loadclin"),
              "director": issue_token(store, "loaddirector")}
    store.dispose()
    regs = rec.read("registrations").to_pandas()
    live = regs[regs["end_date"].isna() & (regs["practice_code"] == practices[0])]
    pats = rec.read("patients").to_pandas().set_index("patient_id")
    ids = sorted(set(live["patient_id"]))[:2000]
    return record, url, tokens, [(int(p), str(pats.loc[p, "nhs_number"])) for p in ids]


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.transport_errors = 0

    def add(self, kind: str, status: int, seconds: float) -> None:
        self.status[kind][status] += 1
        if status not in (429, 503):
            self.latency[kind].append(seconds)


async def user(client: httpx.AsyncClient, stats: Stats, tokens: dict[str, str],
               patients: list[tuple[int, str]], worklists: list[str], deadline: float,
               think: float, write: bool, rng: random.Random) -> None:
    auth = {"Authorization": f"Bearer {tokens['clin']}"}
    await asyncio.sleep(rng.uniform(0, think))  # users arrive spread over one think time
    while time.monotonic() < deadline:
        pid, nhs = rng.choice(patients)
        roll = rng.random()
        if roll < 0.7:
            kind = "read"
            url = rng.choice([f"/api/patients/{pid}", "/api/indicators/dna_rate",
                              f"/fhir/Patient/{pid}"])
            call = client.get(url, headers=auth)
        elif roll < 0.9 or not write:
            kind = "search"
            url = rng.choice([f"/fhir/Patient?identifier={nhs}",
                              f"/api/worklists/{rng.choice(worklists)}?page_size=25"])
            call = client.get(url, headers=auth)
        else:
            kind = "write"
            body = {"age": rng.randint(18, 90), "sex": rng.choice("FM"),
                    "text": "Repeat prescription request for my blood pressure tablets."}
            call = client.post("/api/requests", json=body, headers={
                **auth, "Idempotency-Key": secrets.token_hex(12)})
        started = time.perf_counter()
        try:
            response = await call
        except httpx.HTTPError:
            stats.transport_errors += 1
            await asyncio.sleep(think)
            continue
        stats.add(kind, response.status_code, time.perf_counter() - started)
        if response.status_code in (429, 503):
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        await asyncio.sleep(rng.expovariate(1 / think) if think else 0)


async def drive(base: str, users: int, seconds: float, think: float, tokens: dict[str, str],
                patients: list[tuple[int, str]], seed: int) -> tuple[Stats, bool, float]:
    stats = Stats()
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
        write = "/api/requests" in paths
        listing = await client.get("/api/worklists",
                                   headers={"Authorization": f"Bearer {tokens['clin']}"})
        worklists = [w["id"] for w in listing.json()["worklists"]] or ["none"]
        deadline = time.monotonic() + seconds
        rng = random.Random(seed)
        started = time.perf_counter()
        await asyncio.gather(*(user(client, stats, tokens, patients, worklists, deadline, think,
                                    write, random.Random(rng.random())) for _ in range(users)))
        elapsed = time.perf_counter() - started
    return stats, write, elapsed


def report(stats: Stats, write: bool, elapsed: float, users: int, limit: int) -> bool:
    expected = {"read": {200, 404}, "search": {200}, "write": {201}}
    total = sum(sum(c.values()) for c in stats.status.values())
    print(f"{users} users, {elapsed:.0f} s, {total:,} requests ({total / elapsed:,.0f}/s), "
          f"server concurrency limit {limit}")
    print(f"{'kind':<7} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'shed 503/429':>13} {'errors':>7} {'5xx':>5}")
    all_latency: list[float] = []
    errors = shed = fivexx = 0
    for kind in ("read", "search", "write"):
        counts = stats.status.get(kind, {})
        n = sum(counts.values())
        if not n:
            print(f"{kind:<7} {'-':>9}  (no route: POST /api/requests is not on this server)"
                  if kind == "write" and not write else f"{kind:<7} {0:>9}")
            continue
        lat = stats.latency[kind]
        all_latency += lat
        k_shed = counts.get(503, 0) + counts.get(429, 0)
        k_5xx = sum(v for s, v in counts.items() if s >= 500 and s != 503)
        k_err = sum(v for s, v in counts.items() if s not in expected[kind] | {429, 503})
        errors, shed, fivexx = errors + k_err, shed + k_shed, fivexx + k_5xx
        print(f"{kind:<7} {n:>9,} {percentile(lat, 50) * 1000:>8.0f} "
              f"{percentile(lat, 95) * 1000:>8.0f} {percentile(lat, 99) * 1000:>8.0f} "
              f"{k_shed:>13,} {k_err:>7,} {k_5xx:>5,}")
    p95, p99 = percentile(all_latency, 95), percentile(all_latency, 99)
    # A request that never got an answer (refused connection, timeout) is an error too.
    rate = (errors + stats.transport_errors) / max(total + stats.transport_errors, 1)
    print(f"all     {total:>9,} p95 {p95 * 1000:.0f} ms (target < 300), p99 {p99 * 1000:.0f} ms "
          f"(< 1000), errors {rate:.3%} (< 0.1%), shed {shed / max(total, 1):.1%}, "
          f"5xx other than 503: {fivexx}, transport errors: {stats.transport_errors}")
    return fivexx == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", type=Path)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between requests")
    parser.add_argument("--limit", type=int, default=8, help="PCN_MAX_CONCURRENT_REQUESTS")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pcn-load-"))
    record, url, tokens, patients = prepare(work, args.record, args.patients)
    port = free_port()
    env = {**os.environ, "PCN_DATABASE_URL": url, "PCN_SECRET_KEY": secrets.token_urlsafe(32),
           "PCN_MAX_CONCURRENT_REQUESTS": str(args.limit), "PCN_DATA_DIR": str(work)}
    server = subprocess.Popen([sys.executable, "-m", "pcn.cli", "serve", "--record", str(record),
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=open(work / "server.log", "w"))  # noqa: SIM115
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/sign-in", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise SystemExit("the server did not start; see " + str(work / "server.log"))
        stats, write, elapsed = asyncio.run(drive(base, args.users, args.seconds, args.think,
                                                  tokens, patients, args.seed))
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    if not report(stats, write, elapsed, args.users, args.limit):
        raise SystemExit("a 5xx other than 503 was answered")


if __name__ == "__main__":
    main()
