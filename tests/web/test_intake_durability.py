"""TRUST rows 11 and 12 for `POST /api/requests`, on SQLite and PostgreSQL:

- 11: the same request sent three times with one Idempotency-Key, the third after a restart (a
  new app and a new connection pool over the same database), is stored once and answered
  identically;
- 12: `pcn serve` killed with SIGKILL in the middle of a burst: every request that was answered
  201 is in the store afterwards."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pcn.config import Settings
from pcn.store.database import Store
from pcn.store.models import TriageRequestRow
from tests.web.conftest import WebRecord, WebWorld


def _count(store: Store, text: str) -> int:
    with store.read() as session:
        return int(session.scalar(select(func.count()).select_from(TriageRequestRow)
                                  .where(TriageRequestRow.text == text)) or 0)


def test_one_key_three_posts_across_a_restart_store_one_request(web_app, web_world: WebWorld,
                                                                tokens) -> None:  # type: ignore[no-untyped-def]
    from pcn.web.app import create_app

    text = f"Cough for three weeks, no fever, still working. Ref {secrets.token_hex(4)}"
    body = {"age": 54, "sex": "F", "text": text}
    headers = {"Authorization": f"Bearer {tokens['clin_a']}",
               "Idempotency-Key": f"retry-{secrets.token_hex(8)}"}
    first = TestClient(web_app).post("/api/requests", json=body, headers=headers)
    second = TestClient(web_app).post("/api/requests", json=body, headers=headers)
    # Restart: a new engine and pool, and a new app, over the same database.
    restarted_store = Store(web_world.store.url)
    try:
        settings = Settings(secret_key="another-secret-key-0123456789abcdef", debug=False)
        restarted = create_app(web_world.record, store=restarted_store, settings=settings)
        third = TestClient(restarted).post("/api/requests", json=body, headers=headers)
        assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
        assert first.content == second.content == third.content
        assert "idempotent-replayed" not in first.headers
        assert second.headers.get("idempotent-replayed") == third.headers.get(
            "idempotent-replayed") == "true"
        assert _count(restarted_store, text) == _count(web_world.store, text) == 1
        # The key is bound to its body: the same key with another body is a conflict.
        other = TestClient(restarted).post("/api/requests", json={**body, "age": 55},
                                           headers=headers)
        assert other.status_code == 409 and _count(restarted_store, text) == 1
    finally:
        restarted_store.dispose()


# ---- row 12: kill the server mid-burst -----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def serve_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL for a server subprocess, per engine."""
    from pcn.store.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite+pysqlite:///{tmp_path / 'serve.sqlite3'}"
        name = None
    else:
        request.getfixturevalue("postgres_server")
        from tests.databases import create_database, pg_url

        name = create_database()
        url = pg_url(name)
    store = Store(url)
    upgrade(store)
    store.dispose()
    yield url
    if name is not None:
        from tests.databases import drop_database

        drop_database(name)


@pytest.mark.slow
def test_every_acknowledged_request_survives_a_server_kill(
        web_record: WebRecord, serve_database: str, tmp_path: Path,
        cheap_password_hashing: None) -> None:
    from pcn.store.accounts import create_user, issue_token

    store = Store(serve_database)
    create_user(store, "burst", "practice_clinician", practice_code=web_record.practices[0],
                password="burst password 1234")
    token = issue_token(store, "burst")
    store.dispose()
    port = _free_port()
    env = {**os.environ, "PCN_DATABASE_URL": serve_database, "PCN_DEBUG": "true",
           "PCN_SECRET_KEY": secrets.token_urlsafe(32), "PCN_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "pcn.cli", "serve", "--record",
                               str(web_record.record), "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/sign-in", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("pcn serve did not start: " + (tmp_path / "server.log").read_text())

        acknowledged: list[tuple[int, str]] = []

        async def post(client: httpx.AsyncClient, i: int) -> None:
            text = f"Burst request {i}: sore throat for five days. {secrets.token_hex(4)}"
            while True:  # a client retries a 503 (load shed) with the same key
                try:
                    r = await client.post(
                        "/api/requests", json={"age": 30, "sex": "M", "text": text},
                        headers={"Authorization": f"Bearer {token}",
                                 "Idempotency-Key": f"burst-{i}-{text[-8:]}"})
                except httpx.HTTPError:
                    return  # no answer: the request may or may not be stored
                if r.status_code != 503:
                    break
                await asyncio.sleep(0.05)
            if r.status_code == 201:
                acknowledged.append((int(r.json()["id"]), text))

        async def burst() -> None:
            limits = httpx.Limits(max_connections=16)
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
                tasks = [asyncio.create_task(post(client, i)) for i in range(400)]
                while len(acknowledged) < 25 and not all(t.done() for t in tasks):
                    await asyncio.sleep(0.01)
                os.kill(server.pid, signal.SIGKILL)  # mid-burst: many requests in flight
                await asyncio.gather(*tasks)

        asyncio.run(burst())
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        log.close()
    assert len(acknowledged) >= 25, "the burst was not under way when the server was killed"
    assert len(acknowledged) < 400, "the kill came after the burst"
    store = Store(serve_database)
    try:
        with store.read() as session:
            stored = dict(session.execute(select(TriageRequestRow.id, TriageRequestRow.text)
                                          ).all())
    finally:
        store.dispose()
    missing = [(i, t) for i, t in acknowledged if stored.get(i) != t]
    assert not missing, f"{len(missing)} acknowledged requests lost: {missing[:3]}"
