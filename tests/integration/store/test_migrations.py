"""Alembic migrations: empty → head → base → head on SQLite and PostgreSQL; models = schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from pcn.store import migrate
from pcn.store.database import Store
from pcn.store.models import Base

EXPECTED_TABLES = {"users", "api_tokens", "sharing_agreements", "break_glass_grants",
                   "audit_events", "audit_chain_head", "idempotency_keys", "triage_requests",
                   "tasks", "task_events", "triage_capacity", "web_sessions",
                   "care_plans", "mdt_meetings", "mdt_patients", "monitoring_readings",
                   "social_services", "social_referrals", "rota_exceptions"}


def _tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_migrations_upgrade_downgrade_round_trip(empty_store: Store) -> None:
    assert migrate.current_revision(empty_store) is None
    migrate.upgrade(empty_store)
    assert migrate.current_revision(empty_store) == migrate.head_revision()
    assert _tables(empty_store) == EXPECTED_TABLES

    migrate.downgrade(empty_store, "base")
    assert migrate.current_revision(empty_store) is None
    assert _tables(empty_store) == set()
    if empty_store.dialect == "postgresql":  # the trigger function goes too
        with empty_store.engine.connect() as conn:
            assert conn.scalar(text(
                "SELECT count(*) FROM pg_proc WHERE proname = 'pcn_audit_refuse_change'")) == 0

    migrate.upgrade(empty_store)  # and back up again from nothing
    assert _tables(empty_store) == EXPECTED_TABLES


def test_models_match_migrated_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []


def test_require_head_refuses_unmigrated_store(empty_store: Store) -> None:
    from pcn.store.database import StoreError

    with pytest.raises(StoreError, match="pcn db upgrade"):
        migrate.require_head(empty_store)
    migrate.upgrade(empty_store)
    migrate.require_head(empty_store)
