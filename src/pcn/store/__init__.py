"""The operational store: accounts, tokens, sharing agreements, break-glass, audit, idempotency.

SQLAlchemy 2 over a SQLite file (default, ``data_dir/pcn.sqlite3``) or PostgreSQL
(``PCN_DATABASE_URL``); the schema is made by the Alembic migrations shipped in this package
(:mod:`pcn.store.migrate`). Domain code asks for :func:`open_store`.
"""

from pcn.store.database import Store, StoreError, database_url, now_utc, open_store

__all__ = ["Store", "StoreError", "database_url", "now_utc", "open_store"]
