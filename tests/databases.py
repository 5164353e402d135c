"""Pytest plugin: throwaway operational stores on SQLite and on a real PostgreSQL server.

PostgreSQL is expected on 127.0.0.1:5432 (trust auth, user postgres). When nothing answers there,
``scripts/ensure_postgres.sh`` installs and starts it (as root or with CI=true). The session gets
its own database ``pcn_test_<random>``, migrated once, emptied before each test and dropped at the
end; tests of migrations get a brand-new empty database each.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pcn.store.database import Store
from pcn.store.migrate import upgrade
from pcn.store.models import Base

PG_HOST, PG_PORT = "127.0.0.1", int(os.environ.get("PCN_TEST_PG_PORT", "5432"))
PG_ADMIN_URL = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/postgres"
REPO = Path(__file__).resolve().parents[1]


def pg_url(database: str, user: str = "postgres") -> str:
    return f"postgresql+psycopg://{user}@{PG_HOST}:{PG_PORT}/{database}"


def _answers() -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((PG_HOST, PG_PORT)) == 0


def _admin_execute(*statements: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a running PostgreSQL server, starting (or installing) one if needed."""
    if not _answers():
        may_install = os.environ.get("CI") == "true" or os.geteuid() == 0
        if may_install:
            subprocess.run(["bash", str(REPO / "scripts" / "ensure_postgres.sh")], check=False,
                           env={**os.environ, "PGPORT": str(PG_PORT)})
        if not _answers():
            message = f"no PostgreSQL on {PG_HOST}:{PG_PORT} (run scripts/ensure_postgres.sh)"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    return PG_ADMIN_URL


def create_database() -> str:
    name = f"pcn_test_{secrets.token_hex(6)}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _pg_session_database(postgres_server: str) -> Iterator[str]:
    """One throwaway database for the session, migrated once; emptied before each test."""
    name = create_database()
    store = Store(pg_url(name))
    upgrade(store)
    store.dispose()
    yield name
    drop_database(name)


def _empty_tables(store: Store) -> None:
    """Remove every row (audit included: replica mode skips the append-only triggers, as only a
    superuser may) and reset the chain head: ~5x faster than a new database per test."""
    tables = ", ".join(t for t in Base.metadata.tables if t != "audit_chain_head")
    with store.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE audit_chain_head SET seq = 0, hash = :h"), {"h": "0" * 64})


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "pcn.sqlite3"
    store = Store(f"sqlite+pysqlite:///{path}")
    upgrade(store)
    store.dispose()
    return path


@pytest.fixture
def pg_empty_store(postgres_server: str, cheap_password_hashing: None) -> Iterator[Store]:
    """A store on a brand-new, empty PostgreSQL database (no migrations run)."""
    name = create_database()
    store = Store(pg_url(name))
    yield store
    store.dispose()
    drop_database(name)


@pytest.fixture
def sqlite_empty_store(tmp_path: Path, cheap_password_hashing: None) -> Iterator[Store]:
    store = Store(f"sqlite+pysqlite:///{tmp_path / 'empty.sqlite3'}")
    yield store
    store.dispose()


@pytest.fixture
def pg_store(_pg_session_database: str, cheap_password_hashing: None) -> Iterator[Store]:
    """A migrated, empty store on the session's throwaway PostgreSQL database."""
    store = Store(pg_url(_pg_session_database))
    _empty_tables(store)
    yield store
    store.dispose()


@pytest.fixture
def sqlite_store(_sqlite_template: Path, tmp_path: Path,
                 cheap_password_hashing: None) -> Iterator[Store]:
    path = tmp_path / "pcn.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    store = Store(f"sqlite+pysqlite:///{path}")
    yield store
    store.dispose()


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2's production parameters cost ~0.3-1 s a hash; tests use the cheapest profile."""
    from pcn.config import get_settings

    monkeypatch.setenv("PCN_PASSWORD_HASHING", "cheapest")
    monkeypatch.setenv("PCN_DEBUG", "true")
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    """A migrated store, once on SQLite and once on PostgreSQL."""
    name = {"sqlite": "sqlite_store", "postgres": "pg_store"}[request.param]
    return request.getfixturevalue(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_store(request: pytest.FixtureRequest) -> Store:
    """An empty database (no schema), once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(
        {"sqlite": "sqlite_empty_store", "postgres": "pg_empty_store"}[request.param])
