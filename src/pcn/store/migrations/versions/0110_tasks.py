"""One work model: ``tasks`` and ``task_events``; triage requests become tasks (issue 17,
ADR 0110).

Every stored triage request gets a task (source ``triage_request``) carrying who works it
(``assigned_user``/``assigned_role`` → ``owner_user``/``owner_role``), what was done
(``outcome`` → ``outcome_text``, ``closed_at``) and its history (``triage_request_events`` →
``task_events``, same times, people, actions and reasons). The audit trail is not touched: its
events keep naming the request ids they named. The downgrade moves everything back.

Revision ID: 0110
Revises: 0090
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0110"
down_revision = "0090"
branch_labels = None
depends_on = None

#: Task priority from a request's (final) urgency.
PRIORITY_OF_URGENCY = {"emergency": "urgent", "urgent": "high", "routine": "routine",
                       "self_care": "low"}


def _tasks_table() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("patient_id", sa.BigInteger(), nullable=True),
        sa.Column("practice_code", sa.String(16), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("worklist_id", sa.String(64), nullable=True),
        sa.Column("source_ref", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("owner_user", sa.String(64), nullable=True),
        sa.Column("owner_role", sa.String(32), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome_code", sa.String(20), nullable=True),
        sa.Column("outcome_term", sa.String(300), nullable=True),
        sa.Column("outcome_date", sa.Date(), nullable=True),
        sa.Column("outcome_text", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    for column in ("patient_id", "practice_code", "worklist_id", "owner_user", "status"):
        op.create_index(f"ix_tasks_{column}", "tasks", [column])
    op.create_table(
        "task_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_index("ix_task_events_task_id", "task_events", ["task_id"])


_requests = sa.table(
    "triage_requests", sa.column("id", sa.Integer()), sa.column("received_at", sa.DateTime()),
    sa.column("submitted_by", sa.String()), sa.column("patient_id", sa.BigInteger()),
    sa.column("practice_code", sa.String()), sa.column("urgency", sa.String()),
    sa.column("final_urgency", sa.String()), sa.column("route", sa.String()),
    sa.column("final_route", sa.String()), sa.column("status", sa.String()),
    sa.column("assigned_user", sa.String()), sa.column("assigned_role", sa.String()),
    sa.column("outcome", sa.Text()), sa.column("closed_at", sa.DateTime()),
    sa.column("updated_at", sa.DateTime()), sa.column("task_id", sa.Integer()))
_request_events = sa.table(
    "triage_request_events", sa.column("id", sa.Integer()), sa.column("request_id", sa.Integer()),
    sa.column("occurred_at", sa.DateTime()), sa.column("username", sa.String()),
    sa.column("role", sa.String()), sa.column("action", sa.String()),
    sa.column("reason", sa.Text()), sa.column("detail", sa.JSON()))
_tasks = sa.table(
    "tasks", sa.column("id", sa.Integer()), sa.column("patient_id", sa.BigInteger()),
    sa.column("practice_code", sa.String()), sa.column("source", sa.String()),
    sa.column("worklist_id", sa.String()), sa.column("source_ref", sa.String()),
    sa.column("kind", sa.String()), sa.column("reason", sa.Text()),
    sa.column("priority", sa.String()), sa.column("due_date", sa.Date()),
    sa.column("owner_user", sa.String()), sa.column("owner_role", sa.String()),
    sa.column("status", sa.String()), sa.column("attempts", sa.Integer()),
    sa.column("outcome_code", sa.String()), sa.column("outcome_term", sa.String()),
    sa.column("outcome_date", sa.Date()), sa.column("outcome_text", sa.Text()),
    sa.column("notes", sa.Text()), sa.column("created_by", sa.String()),
    sa.column("created_at", sa.DateTime()), sa.column("updated_at", sa.DateTime()),
    sa.column("closed_at", sa.DateTime()))
_task_events = sa.table(
    "task_events", sa.column("id", sa.Integer()), sa.column("task_id", sa.Integer()),
    sa.column("occurred_at", sa.DateTime()), sa.column("username", sa.String()),
    sa.column("role", sa.String()), sa.column("action", sa.String()),
    sa.column("reason", sa.Text()), sa.column("detail", sa.JSON()))


def upgrade() -> None:
    _tasks_table()
    with op.batch_alter_table("triage_requests") as batch:
        batch.add_column(sa.Column("task_id", sa.Integer(), nullable=True))
    conn = op.get_bind()
    requests = conn.execute(sa.select(_requests).order_by(_requests.c.id)).mappings().all()
    for r in requests:
        urgency = r["final_urgency"] or r["urgency"]
        route = r["final_route"] or r["route"]
        task_id = conn.execute(sa.insert(_tasks).values(
            patient_id=r["patient_id"], practice_code=r["practice_code"],
            source="triage_request", worklist_id=None, source_ref=str(r["id"]),
            kind="online_consultation",
            reason=f"Online consultation request ({urgency}, {route})",
            priority=PRIORITY_OF_URGENCY.get(urgency, "routine"), due_date=None,
            owner_user=r["assigned_user"], owner_role=r["assigned_role"],
            status="done" if r["status"] == "closed" else "open", attempts=0,
            outcome_code=None, outcome_term=None, outcome_date=None,
            outcome_text=r["outcome"], notes=None,
            created_by=r["submitted_by"] or "public", created_at=r["received_at"],
            updated_at=r["updated_at"], closed_at=r["closed_at"],
        ).returning(_tasks.c.id)).scalar_one()
        conn.execute(sa.update(_requests).where(_requests.c.id == r["id"])
                     .values(task_id=task_id))
        for e in conn.execute(sa.select(_request_events)
                              .where(_request_events.c.request_id == r["id"])
                              .order_by(_request_events.c.id)).mappings():
            conn.execute(sa.insert(_task_events).values(
                task_id=task_id, occurred_at=e["occurred_at"], username=e["username"],
                role=e["role"], action=e["action"], reason=e["reason"], detail=e["detail"]))
    op.drop_index("ix_triage_request_events_request_id", table_name="triage_request_events")
    op.drop_table("triage_request_events")
    with op.batch_alter_table("triage_requests") as batch:
        batch.alter_column("task_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key("fk_triage_requests_task_id", "tasks", ["task_id"], ["id"])
        batch.create_index("ix_triage_requests_task_id", ["task_id"], unique=True)
        for column in ("assigned_user", "assigned_role", "outcome", "closed_at"):
            batch.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("triage_requests") as batch:
        batch.add_column(sa.Column("assigned_user", sa.String(64), nullable=True))
        batch.add_column(sa.Column("assigned_role", sa.String(32), nullable=True))
        batch.add_column(sa.Column("outcome", sa.Text(), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
    conn = op.get_bind()
    history: list[dict[str, object]] = []
    for request_id, task_id in conn.execute(sa.select(_requests.c.id, _requests.c.task_id)
                                            .order_by(_requests.c.id)).all():
        task = conn.execute(sa.select(_tasks).where(_tasks.c.id == task_id)).mappings().one()
        conn.execute(sa.update(_requests).where(_requests.c.id == request_id).values(
            assigned_user=task["owner_user"], assigned_role=task["owner_role"],
            outcome=task["outcome_text"], closed_at=task["closed_at"]))
        for e in conn.execute(sa.select(_task_events).where(_task_events.c.task_id == task_id)
                              .order_by(_task_events.c.id)).mappings():
            history.append({"request_id": request_id, "occurred_at": e["occurred_at"],
                            "username": e["username"], "role": e["role"],
                            "action": e["action"], "reason": e["reason"],
                            "detail": e["detail"]})
    # (SQLite rebuilds the table here: nothing may point at it yet.)
    with op.batch_alter_table("triage_requests") as batch:
        batch.drop_index("ix_triage_requests_task_id")
        batch.drop_constraint("fk_triage_requests_task_id", type_="foreignkey")
        batch.drop_column("task_id")
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
    for row in history:
        conn.execute(sa.insert(_request_events).values(**row))
    op.drop_index("ix_task_events_task_id", table_name="task_events")
    op.drop_table("task_events")
    for column in ("patient_id", "practice_code", "worklist_id", "owner_user", "status"):
        op.drop_index(f"ix_tasks_{column}", table_name="tasks")
    op.drop_table("tasks")
