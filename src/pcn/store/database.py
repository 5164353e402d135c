"""Connecting to the operational store: a SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pcn.config import Settings, get_settings

SQLITE_FILE = "pcn.sqlite3"
READ_ONLY_OPTION = "pcn_read_only"


class StoreError(Exception):
    """A problem with the operational store that the user can fix (bad URL, schema not migrated)."""


def now_utc() -> dt.datetime:
    """The current time as naive UTC, the form every ``*_at`` column stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def database_url(settings: Settings | None = None) -> str:
    """The store's SQLAlchemy URL: ``Settings.database_url``, or a SQLite file in ``data_dir``.

    ``postgres://`` and ``postgresql://`` URLs are pointed at the psycopg 3 driver.
    """
    settings = settings or get_settings()
    url = settings.database_url.strip()
    if not url:
        path = settings.data_dir / SQLITE_FILE
        return f"sqlite+pysqlite:///{path}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _sqlite_setup(engine)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise StoreError(f"unsupported database URL scheme {parsed.drivername!r}: "
                     "use an empty PCN_DATABASE_URL (SQLite) or postgresql://")


def _sqlite_setup(engine: Engine) -> None:
    """Foreign keys on, WAL, and ``BEGIN IMMEDIATE`` so concurrent writers queue, never deadlock."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (no deadlock on lock upgrade); read-only
        # transactions (Store.read) stay deferred so they never wait for one another.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Store:
    """One operational database: an engine plus a session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        #: The same pool, for transactions that only read (deferred BEGIN on SQLite).
        self.read_engine = self.engine.execution_options(**{READ_ONLY_OPTION: True})
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        #: A :class:`pcn.store.audit.AuditWriter` once group commit is enabled.
        self.audit_writer: Any = None

    def enable_group_commit(self, max_batch: int = 500) -> None:
        """Batch concurrent audit appends into shared commits (for a multi-threaded server)."""
        from pcn.store.audit import AuditWriter

        if self.audit_writer is None:
            self.audit_writer = AuditWriter(self, max_batch)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only (on SQLite it does not take the write lock)."""
        with self._read_sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        if self.audit_writer is not None:
            self.audit_writer.close()
            self.audit_writer = None
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"


def open_store(url: str | None = None, settings: Settings | None = None) -> Store:
    """Open the configured store (does not migrate it: see :func:`pcn.store.migrate.upgrade`)."""
    return Store(url or database_url(settings))
