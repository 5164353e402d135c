"""``/api/tasks``: the one work model for scripts and integrations (issue 17, ADR 0110).

Thin edge over :mod:`pcn.tasks.service`: parse, call, render. Same scoping, audit and errors as
``/api/patients``: a task the caller may not work is 404 like one that does not exist; bad input
is 422 naming the field; a change that does not fit the task's state is 409.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pcn.api.routes import Caller
from pcn.record.codes import is_digits
from pcn.reporting.network import NetworkView
from pcn.store.database import Store
from pcn.store.idempotency import IdempotencyConflict, request_hash
from pcn.tasks import service
from pcn.tasks.vocabulary import PRIORITIES, SOURCES, STATUSES
from pcn.web import task_support

router = APIRouter(prefix="/api/tasks", tags=["tasks"])
StatusName = Literal[STATUSES]  # type: ignore[valid-type]
PriorityName = Literal[PRIORITIES]  # type: ignore[valid-type]
SourceName = Literal[SOURCES]  # type: ignore[valid-type]


def _store(request: Request) -> Store:
    return request.app.state.store


def _view(request: Request) -> NetworkView:
    return request.app.state.view


class TaskIn(BaseModel):
    """A task about one patient: from a worklist, or a kind and a reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    patient_id: int = Field(ge=0, le=2**63 - 1)
    worklist: str | None = Field(None, max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
                                 description="a worklist id, e.g. smr_candidates")
    kind: str | None = Field(None, max_length=service.MAX_KIND,
                             description="what the work is, when not from a worklist")
    reason: str | None = Field(None, max_length=service.MAX_TEXT)
    owner: str | None = Field(None, max_length=64,
                              description="a username, or a role queue such as "
                              "clinical_pharmacist")
    due: dt.date | None = None
    priority: PriorityName | None = None

    @model_validator(mode="after")
    def _worklist_or_kind(self) -> TaskIn:
        if self.worklist is None and (not self.kind or not self.reason):
            raise ValueError("give a worklist, or a kind and a reason")
        return self


class TaskPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: StatusName | None = None
    outcome_code: str | None = Field(None, max_length=20, pattern=r"^[0-9]+$",
                                     description="SNOMED CT code of what was done (see "
                                     "docs/reference/tasks.md)")
    outcome_date: dt.date | None = Field(None, description="the day the work was done "
                                         "(default: today)")
    outcome_text: str | None = Field(None, max_length=service.MAX_TEXT)
    notes: str | None = Field(None, max_length=service.MAX_TEXT)
    owner: str | None = Field(None, max_length=64)
    priority: PriorityName | None = None
    due: dt.date | None = None
    contact_attempt: bool = Field(False, description="an unsuccessful attempt to contact the "
                                  "patient")


class TaskHistoryOut(BaseModel):
    occurred_at: dt.datetime
    username: str
    role: str
    action: str
    reason: str | None
    detail: dict[str, Any]


class TaskOut(BaseModel):
    id: int
    patient_id: int | None
    practice_code: str | None
    source: str
    worklist_id: str | None
    source_ref: str | None
    kind: str
    reason: str
    priority: str
    due_date: dt.date | None
    owner_user: str | None
    owner_role: str | None
    status: str
    attempts: int
    outcome_code: str | None
    outcome_term: str | None
    outcome_date: dt.date | None
    outcome_text: str | None
    notes: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    history: list[TaskHistoryOut] = Field(default_factory=list)


class TasksOut(BaseModel):
    total: int
    tasks: list[TaskOut]


class CreatedOut(BaseModel):
    id: int


def _out(task: service.TaskView) -> TaskOut:
    return TaskOut.model_validate(task.body())


def _task_id(raw: str) -> int:
    # A non-number is "not found" like any other unknown id, through the same audited path.
    return int(raw) if is_digits(raw) and len(raw) < 10 else 0


@router.post("", status_code=201, response_model=CreatedOut,
             responses={409: {"description": "an open task on this worklist already, or "
                              "Idempotency-Key reused with a different body"},
                        422: {"description": "invalid field (field and why)"}})
def create_task(request: Request, caller: Caller, body: TaskIn,
                idempotency_key: Annotated[str | None, Header(
                    alias="Idempotency-Key", min_length=1, max_length=200,
                    description="Retry-safe: the same key and body return the first answer "
                    "and create nothing")] = None) -> Response:
    """Create a task about one patient (201 with its id)."""
    view = _view(request)
    key = None
    if idempotency_key is not None:
        key = service.Idempotency(caller.username, idempotency_key, request_hash(
            "POST", "/api/tasks", body.model_dump_json().encode("utf-8")))
    try:
        created = service.create(
            _store(request), caller,
            service.NewTask(patient_id=body.patient_id, kind=body.kind, reason=body.reason,
                            worklist_id=body.worklist, owner=body.owner, due_date=body.due,
                            priority=body.priority),
            practices_of=task_support.practices_of(view),
            worklists=task_support.worklist_titles(view), idempotency=key,
            respond=lambda i: json.dumps({"id": i}), route="/api/tasks")
    except IdempotencyConflict as conflict:
        raise HTTPException(status_code=409, detail=str(conflict)) from None
    headers = {"Location": f"/api/tasks/{created.id}"}
    if created.replay is not None:
        return Response(created.replay.body, status_code=created.replay.status,
                        media_type="application/json",
                        headers={**headers, "Idempotent-Replayed": "true"})
    return Response(json.dumps({"id": created.id}), status_code=201,
                    media_type="application/json", headers=headers)


@router.get("", response_model=TasksOut)
def list_tasks(request: Request, caller: Caller,
               status: Annotated[list[StatusName] | None, Query()] = None,
               worklist: Annotated[str | None, Query(max_length=64)] = None,
               owner: Annotated[str | None, Query(max_length=64,
                                                  description="a username, a role queue, "
                                                  "or 'me'")] = None,
               patient_id: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
               source: Annotated[SourceName | None, Query()] = None,
               limit: Annotated[int, Query(ge=1, le=5000)] = 1000) -> TasksOut:
    """The tasks the caller may work: open first, most urgent, then oldest."""
    rows = service.list_tasks(
        _store(request), caller,
        service.TaskFilter(status=tuple(status or ()), worklist_id=worklist, owner=owner,
                           patient_id=patient_id, source=source),
        limit=limit, route="/api/tasks")
    return TasksOut(total=len(rows), tasks=[_out(r) for r in rows])


@router.get("/{task_id}", response_model=TaskOut)
def get_task(request: Request, caller: Caller, task_id: str) -> TaskOut:
    """One task with its history."""
    return _out(service.get(_store(request), caller, _task_id(task_id),
                            practices_of=task_support.practices_of(_view(request)),
                            route="/api/tasks/{id}"))


@router.patch("/{task_id}", response_model=TaskOut,
              responses={409: {"description": "the task is closed, or the status cannot "
                               "follow its current one"},
                         422: {"description": "invalid field (field and why)"}})
def patch_task(request: Request, caller: Caller, task_id: str, body: TaskPatch) -> TaskOut:
    """Work a task: status, contact attempt, coded outcome, notes, owner, priority, due date."""
    view = _view(request)
    return _out(service.update(
        _store(request), caller, _task_id(task_id),
        service.TaskChange(status=body.status, outcome_code=body.outcome_code,
                           outcome_date=body.outcome_date, outcome_text=body.outcome_text,
                           notes=body.notes, owner=body.owner, priority=body.priority,
                           due_date=body.due, contact_attempt=body.contact_attempt),
        practices_of=task_support.practices_of(view), today=task_support.work_date(view),
        satisfied_by=task_support.satisfied_by, route="/api/tasks/{id}"))
