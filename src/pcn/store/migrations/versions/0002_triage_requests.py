"""Triage requests, their staff-action history and declared capacity (issue 6, ADR 0080).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=True),
        sa.Column("given_name", sa.String(200), nullable=True),
        sa.Column("given_date_of_birth", sa.Date(), nullable=True),
        sa.Column("given_nhs_number", sa.String(10), nullable=True),
        sa.Column("patient_id", sa.BigInteger(), nullable=True),
        sa.Column("practice_code", sa.String(16), nullable=True),
        sa.Column("age", sa.Float(), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("red_flags", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(32), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("advice", sa.Text(), nullable=False),
        sa.Column("usual_clinician_id", sa.String(64), nullable=True),
        sa.Column("engine_version", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("final_urgency", sa.String(16), nullable=True),
        sa.Column("final_route", sa.String(32), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("assigned_user", sa.String(64), nullable=True),
        sa.Column("assigned_role", sa.String(32), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_triage_requests_patient_id", "triage_requests", ["patient_id"])
    op.create_index("ix_triage_requests_practice_code", "triage_requests", ["practice_code"])
    op.create_index("ix_triage_requests_status", "triage_requests", ["status"])
    op.create_table(
        "triage_request_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("triage_requests.id"),
                  nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_triage_request_events_request_id", "triage_request_events",
                    ["request_id"])
    op.create_table(
        "triage_capacity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("practice_code", sa.String(16), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("free_slots", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("practice_code", "on_date", "role",
                            name="uq_triage_capacity_practice_day_role"),
    )


def downgrade() -> None:
    op.drop_table("triage_capacity")
    op.drop_index("ix_triage_request_events_request_id", table_name="triage_request_events")
    op.drop_table("triage_request_events")
    op.drop_index("ix_triage_requests_status", table_name="triage_requests")
    op.drop_index("ix_triage_requests_practice_code", table_name="triage_requests")
    op.drop_index("ix_triage_requests_patient_id", table_name="triage_requests")
    op.drop_table("triage_requests")
