"""PostgreSQL privileges for the application's own database role (run once by the DBA).

The app connects as a role that may read and write the operational tables but may only INSERT and
SELECT on ``audit_events``: no UPDATE, DELETE or TRUNCATE. The row triggers from the migration
refuse those even for the table owner, so the trail is protected twice (TRUST.md row 6).
"""

from __future__ import annotations

import re

from sqlalchemy import text

from pcn.store.database import Store, StoreError

APPEND_ONLY_TABLES = ("audit_events",)
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_app_role(store: Store, role: str, create: bool = False,
                   password: str | None = None) -> None:
    """Give ``role`` the app's privileges on the current schema (``create``: make the role first).

    ``store`` must be connected as the schema owner or a superuser, after ``pcn db upgrade``.
    """
    if store.dialect != "postgresql":
        raise StoreError("database roles exist only on PostgreSQL")
    if not _ROLE_NAME.match(role):
        raise StoreError(f"role name {role!r}: use lower-case letters, digits and '_'")
    with store.engine.begin() as conn:
        if create:
            exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
            if not exists:
                conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
            if password is not None:
                conn.execute(text(f'ALTER ROLE "{role}" PASSWORD :p'), {"p": password})
        database = conn.scalar(text("SELECT current_database()"))
        conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        conn.exec_driver_sql(
            f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
        conn.exec_driver_sql(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
        for table in (*APPEND_ONLY_TABLES, "alembic_version"):
            conn.exec_driver_sql(f'REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM "{role}"')
        conn.exec_driver_sql(f'REVOKE INSERT ON alembic_version FROM "{role}"')
