"""Shared fixtures. Tests never touch the developer's own data directory."""

from __future__ import annotations

import pytest

# Throwaway SQLite and PostgreSQL stores (fixtures `store`, `pg_store`, `sqlite_store`, ...), and
# one technical log for the whole run, scanned for NHS numbers and tokens at the end (TRUST 17).
pytest_plugins = ["tests.databases", "tests.log_capture"]


@pytest.fixture(autouse=True)
def _isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pcn.config import get_settings

    monkeypatch.setenv("PCN_DATA_DIR", str(tmp_path_factory.mktemp("pcn-data")))
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def default_twin(tmp_path_factory: pytest.TempPathFactory):
    """The synthetic twin of the default PCN (U55830, seed 1, real list sizes), built once."""
    import datetime as dt

    from pcn.synth import build_twin

    out = tmp_path_factory.mktemp("twin") / "U55830"
    build_twin(out, pcn_code="U55830", seed=1, as_of=dt.date(2026, 3, 31), workers=2)
    return out
