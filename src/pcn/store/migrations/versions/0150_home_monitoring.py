"""Home monitoring readings (issue 22, ADR 0150).

Revision ID: 0150
Revises: 0111
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0150"
down_revision = "0111"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_readings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("systolic", sa.Float(), nullable=True),
        sa.Column("diastolic", sa.Float(), nullable=True),
        sa.Column("pulse", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("patient_id", "kind", "taken_at",
                            name="uq_monitoring_readings_patient_kind_time"),
    )
    op.create_index("ix_monitoring_readings_patient_id", "monitoring_readings", ["patient_id"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_readings_patient_id", table_name="monitoring_readings")
    op.drop_table("monitoring_readings")
