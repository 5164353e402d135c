"""Rota exceptions: leave, training and sickness the PCN records against its rota (issue 20).

Revision ID: 0140
Revises: 0111
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0140"
down_revision = "0111"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rota_exceptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("clinician_id", sa.String(64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_rota_exceptions_clinician_id", "rota_exceptions", ["clinician_id"])


def downgrade() -> None:
    op.drop_index("ix_rota_exceptions_clinician_id", table_name="rota_exceptions")
    op.drop_table("rota_exceptions")
