"""Home monitoring readings and the social prescribing directory and caseload (issue 22, ADRs
0150, 0152, 0153).

Revision ID: 0150
Revises: 0140
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0150"
down_revision = "0140"
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
    )
    op.create_index("ix_monitoring_readings_patient_id", "monitoring_readings", ["patient_id"])
    op.create_table(
        "social_services",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("organisation_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("minimum_age", sa.Integer(), nullable=True),
        sa.Column("maximum_age", sa.Integer(), nullable=True),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("outcodes", sa.JSON(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "social_referrals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=False, unique=True),
        sa.Column("patient_id", sa.BigInteger(), nullable=False),
        sa.Column("practice_code", sa.String(16), nullable=True),
        sa.Column("referred_by", sa.String(64), nullable=False),
        sa.Column("referred_at", sa.DateTime(), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("link_worker", sa.String(64), nullable=True),
        sa.Column("first_contact_at", sa.DateTime(), nullable=True),
        sa.Column("what_matters", sa.Text(), nullable=True),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("ons4_start", sa.JSON(), nullable=True),
        sa.Column("ons4_end", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_social_referrals_patient_id", "social_referrals", ["patient_id"])
    op.create_index("ix_social_referrals_link_worker", "social_referrals", ["link_worker"])


def downgrade() -> None:
    op.drop_index("ix_social_referrals_link_worker", table_name="social_referrals")
    op.drop_index("ix_social_referrals_patient_id", table_name="social_referrals")
    op.drop_table("social_referrals")
    op.drop_table("social_services")
    op.drop_index("ix_monitoring_readings_patient_id", table_name="monitoring_readings")
    op.drop_table("monitoring_readings")
