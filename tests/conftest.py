"""Shared fixtures. Tests never touch the developer's own data directory."""

from __future__ import annotations

import pytest

# Throwaway SQLite and PostgreSQL stores (fixtures `store`, `pg_store`, `sqlite_store`, ...).
pytest_plugins = ["tests.databases"]


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.config import get_settings

    monkeypatch.setenv("PCN_DATA_DIR", str(tmp_path_factory.mktemp("pcn-data")))
    get_settings.cache_clear()
