"""Settings → store URL: empty means a SQLite file in data_dir; PostgreSQL URLs use psycopg 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from pcn.config import Settings
from pcn.store.database import StoreError, database_url, make_engine


def test_empty_url_means_sqlite_file_in_data_dir(tmp_path: Path) -> None:
    url = database_url(Settings(data_dir=tmp_path, database_url=""))
    assert url == f"sqlite+pysqlite:///{tmp_path / 'pcn.sqlite3'}"


@pytest.mark.parametrize(("given", "expected"), [
    ("postgres://app@db:5432/pcn", "postgresql+psycopg://app@db:5432/pcn"),
    ("postgresql://app:pw@db/pcn", "postgresql+psycopg://app:pw@db/pcn"),
    ("postgresql+psycopg://app@db/pcn", "postgresql+psycopg://app@db/pcn"),
])
def test_postgres_urls_use_psycopg3(given: str, expected: str) -> None:
    assert database_url(Settings(database_url=given)) == expected


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(StoreError, match="unsupported"):
        make_engine("mysql://x@y/z")
