"""TRUST row 15 (overload): above the concurrency limit a request gets 503 with Retry-After at
once, never a 500; requests in flight are unaffected; the count goes back to zero."""

from __future__ import annotations

import asyncio

import httpx2 as httpx

from pcn.config import Settings
from pcn.web.limits import ConcurrencyLimit


def test_saturated_server_answers_503_with_retry_after_then_recovers() -> None:
    async def scenario() -> tuple[list[int], dict[str, str], int, int]:
        gate = asyncio.Event()
        entered = asyncio.Event()

        async def slow_app(scope, receive, send):  # type: ignore[no-untyped-def]
            entered.set()
            await gate.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"done"})

        limited = ConcurrencyLimit(slow_app, limit=1)
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = asyncio.create_task(client.get("/api/worklists"))
            await entered.wait()
            busy = await client.get("/api/worklists")
            static = asyncio.create_task(client.get("/static/app/app.css"))  # not counted
            gate.set()
            done = await first
            after = await client.get("/api/worklists")
            await static
        return ([busy.status_code, done.status_code, after.status_code], dict(busy.headers),
                limited.in_flight, limited.refused)

    statuses, headers, in_flight, refused = asyncio.run(scenario())
    assert statuses == [503, 200, 200]
    assert headers["retry-after"] == "1" and headers["content-type"] == "application/json"
    assert in_flight == 0 and refused == 1


def test_real_app_under_a_burst_answers_200_or_503_never_500(web_world, tokens) -> None:  # type: ignore[no-untyped-def]
    from pcn.web.app import create_app

    settings = Settings(secret_key="test-secret-key-0123456789abcdef", debug=False,
                        max_concurrent_requests=2)
    app = create_app(web_world.record, store=web_world.store, settings=settings)
    auth = {"Authorization": f"Bearer {tokens['clin_a']}"}

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            urls = ["/api/indicators/dna_rate", "/api/worklists", "/fhir/Patient?identifier=1"]
            responses = await asyncio.gather(*(client.get(urls[i % 3], headers=auth)
                                               for i in range(24)))
        return [r.status_code for r in responses]

    statuses = asyncio.run(burst())
    assert set(statuses) <= {200, 503}, statuses
    assert 200 in statuses


def test_fhir_reads_from_many_threads_at_once(web_record) -> None:  # type: ignore[no-untyped-def]
    """The server answers requests on a thread pool; the FHIR reader's one DuckDB connection
    refused a second concurrent call (a 500 under load, found by benchmarks/load.py)."""
    from concurrent.futures import ThreadPoolExecutor

    from pcn.fhir.read import FhirReader
    from pcn.record import open_record

    record = open_record(web_record.record)
    reader = FhirReader(record)
    patients = record.read("patients").to_pandas().head(40)

    def work(i: int) -> int:
        row = patients.iloc[i % len(patients)]
        found = reader.search_patients(str(row["nhs_number"]))
        return int(found["total"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        totals = list(pool.map(work, range(400)))
    assert totals == [1] * 400
