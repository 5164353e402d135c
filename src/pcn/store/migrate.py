"""Alembic migrations, run from Python (the migration scripts ship inside the package)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from pcn.store.database import Store, StoreError

SCRIPT_LOCATION = str(Path(__file__).parent / "migrations")


def _config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    config = _config(store)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(store: Store, revision: str = "base") -> None:
    config = _config(store)
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def head_revision() -> str:
    head = ScriptDirectory(SCRIPT_LOCATION).get_current_head()
    assert head is not None
    return head


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_head(store: Store) -> None:
    """Refuse to work on a store whose schema is not the one this code expects."""
    current = current_revision(store)
    if current != head_revision():
        raise StoreError(
            f"the store at {store!r} is at schema revision {current or 'empty'}, "
            f"this pcn needs {head_revision()}: run `pcn db upgrade`"
        )
