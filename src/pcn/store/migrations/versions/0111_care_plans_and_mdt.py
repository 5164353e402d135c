"""Personalised care and support plans (versioned) and MDT meetings with their patient lists
(issue 17).

Revision ID: 0111
Revises: 0110
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0111"
down_revision = "0110"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "care_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("practice_code", sa.String(16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("what_matters", sa.Text(), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("coordinator", sa.String(200), nullable=True),
        sa.Column("review_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_care_plans_patient_id", "care_plans", ["patient_id"])
    op.create_table(
        "mdt_meetings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("practice_code", sa.String(16), nullable=True),
        sa.Column("worklists", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "mdt_patients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("meeting_id", sa.Integer(), sa.ForeignKey("mdt_meetings.id"), nullable=False),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("practice_code", sa.String(16), nullable=False),
        sa.Column("worklist_id", sa.String(64), nullable=True),
        sa.Column("discussion", sa.Text(), nullable=True),
        sa.Column("discussed_by", sa.String(64), nullable=True),
        sa.Column("discussed_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("meeting_id", "patient_id", name="uq_mdt_patients_meeting_patient"),
    )
    op.create_index("ix_mdt_patients_meeting_id", "mdt_patients", ["meeting_id"])


def downgrade() -> None:
    op.drop_index("ix_mdt_patients_meeting_id", table_name="mdt_patients")
    op.drop_table("mdt_patients")
    op.drop_table("mdt_meetings")
    op.drop_index("ix_care_plans_patient_id", table_name="care_plans")
    op.drop_table("care_plans")
