"""``/api/requests``: online consultation requests in, the triage queue and its actions (ADR 0080).

Thin edge over :mod:`pcn.triage.requests`: parse, call, render. ``POST /api/requests`` takes an
optional ``Idempotency-Key``; a retry with the same key and body gets the first answer back byte
for byte (``Idempotent-Replayed: true``), the same key with another body gets 409.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from pcn.api.routes import Caller
from pcn.record.codes import is_digits
from pcn.store.database import Store
from pcn.store.idempotency import IdempotencyConflict, request_hash
from pcn.triage import requests as desk
from pcn.triage.model import Route
from pcn.triage.requests import Idempotency, NewRequest
from pcn.web.triage_support import network_practices, patient_directory

router = APIRouter(prefix="/api/requests", tags=["triage requests"])
#: Largest request body accepted on the intake paths (a message is at most 5,000 characters);
#: enforced by :class:`pcn.web.security.BodySizeLimit` before the body is read.
MAX_BODY_BYTES = 64 * 1024
UrgencyName = Literal["emergency", "urgent", "routine", "self_care"]
AssignableRole = Literal[desk.ASSIGNABLE_ROLES]  # type: ignore[valid-type]


def _store(request: Request) -> Store:
    return request.app.state.store


class SubmittedOut(BaseModel):
    id: int
    status: str = Field(description="always 'new' on submission")
    urgency: UrgencyName
    route: Route
    red_flags: list[str] = Field(description="ids of the red-flag rules that fired")
    advice: str = Field(description="what to tell the patient now ('Call 999 now…' for a red "
                        "flag)")
    explanation: str = Field(description="the rules and evidence behind the decision")
    signpost: Literal["crisis", "safeguarding"] | None = Field(
        None, description="show crisis lines (999, NHS 111 mental health option, Samaritans "
        "116 123) or safeguarding help (999, press 55 if unable to speak; National Domestic "
        "Abuse Helpline 0808 2000 247) to the patient at once")
    confidently_classified: bool = Field(
        True, description="false when no known pattern explained the request safely: it went "
        "to a clinician today ('not confidently classified')")
    received_at: dt.datetime


# Responses use the domain's own dataclass (FastAPI validates and documents dataclasses): one
# definition of what a stored request looks like.
RequestOut = desk.RequestView


class QueueOut(BaseModel):
    total: int
    requests: list[RequestOut]


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=desk.MAX_OUTCOME)


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urgency: UrgencyName
    route: Route
    reason: str = Field(description=f"mandatory, at least {desk.MIN_REASON} characters",
                        max_length=desk.MAX_OUTCOME)


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str | None = Field(None, max_length=64, description="an active account's username")
    role: AssignableRole | None = None
    reason: str | None = Field(None, max_length=desk.MAX_OUTCOME)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(max_length=desk.MAX_OUTCOME, description="what was done")


def _out(view: desk.RequestView) -> RequestOut:
    return view


def _request_id(raw: str) -> int:
    # A non-number is "not found" like any other unknown id, through the same audited path.
    return int(raw) if is_digits(raw) and len(raw) < 10 else 0


@router.post("", status_code=201, response_model=SubmittedOut,
             responses={409: {"description": "Idempotency-Key reused with a different body"},
                        413: {"description": "body too large"},
                        422: {"description": "invalid field (field and why)"}})
def submit_request(request: Request, caller: Caller, body: NewRequest,
                   idempotency_key: Annotated[str | None, Header(
                       alias="Idempotency-Key", min_length=1, max_length=200,
                       description="Retry-safe submission: the same key and body return the "
                       "first answer and create nothing")] = None) -> Response:
    """Triage one online consultation request and queue it for the practice (201)."""
    key = None
    if idempotency_key is not None:
        canonical = body.model_dump_json().encode("utf-8")
        key = Idempotency(caller.username, idempotency_key,
                          request_hash("POST", "/api/requests", canonical))
    try:
        answer = desk.submit(_store(request), body, source="api", who=caller,
                             directory=patient_directory(request.app),
                             practices=network_practices(request.app), idempotency=key,
                             respond=_render, route="/api/requests")
    except IdempotencyConflict as conflict:
        raise HTTPException(status_code=409, detail=str(conflict)) from None
    if answer.replay is not None:
        return Response(answer.replay.body, status_code=answer.replay.status,
                        media_type="application/json",
                        headers={"Idempotent-Replayed": "true",
                                 "Location": f"/api/requests/{answer.id}"})
    return Response(_render(answer), status_code=201, media_type="application/json",
                    headers={"Location": f"/api/requests/{answer.id}"})


def _render(answer: desk.Submitted) -> str:
    return json.dumps(answer.response_body(), ensure_ascii=False, separators=(",", ":"))


@router.get("", response_model=QueueOut)
def get_queue(request: Request, caller: Caller,
              status: Annotated[list[Literal[desk.STATUSES]] | None,  # type: ignore[valid-type]
                                Query(description="default: every open status")] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 500) -> QueueOut:
    """The requests the caller may work: most urgent first, then longest waiting."""
    rows = desk.queue(_store(request), caller, statuses=status or desk.OPEN_STATUSES,
                      limit=limit, route="/api/requests")
    return QueueOut(total=len(rows), requests=[_out(r) for r in rows])


@router.get("/{request_id}", response_model=RequestOut)
def get_request(request: Request, caller: Caller, request_id: str) -> RequestOut:
    """One request with its history."""
    return _out(desk.get(_store(request), caller, _request_id(request_id),
                         route="/api/requests/{id}"))


@router.post("/{request_id}/accept", response_model=RequestOut)
def accept_request(request: Request, caller: Caller, request_id: str, body: AcceptIn) -> RequestOut:
    """Agree with the engine's urgency and route."""
    return _out(desk.accept(_store(request), caller, _request_id(request_id),
                            reason=body.reason, route="/api/requests/{id}/accept"))


@router.post("/{request_id}/override", response_model=RequestOut)
def override_request(request: Request, caller: Caller, request_id: str,
                     body: OverrideIn) -> RequestOut:
    """Change urgency and/or route, with a mandatory reason."""
    return _out(desk.override(_store(request), caller, _request_id(request_id),
                              urgency=body.urgency, route_to=body.route, reason=body.reason,
                              route="/api/requests/{id}/override"))


@router.post("/{request_id}/assign", response_model=RequestOut)
def assign_request(request: Request, caller: Caller, request_id: str, body: AssignIn) -> RequestOut:
    """Give the request to a person and/or a role."""
    return _out(desk.assign(_store(request), caller, _request_id(request_id), user=body.user,
                            role=body.role, reason=body.reason,
                            route="/api/requests/{id}/assign"))


@router.post("/{request_id}/close", response_model=RequestOut)
def close_request(request: Request, caller: Caller, request_id: str, body: CloseIn) -> RequestOut:
    """Close with the outcome (the decision must have been accepted or overridden)."""
    return _out(desk.close(_store(request), caller, _request_id(request_id),
                           outcome=body.outcome, route="/api/requests/{id}/close"))
