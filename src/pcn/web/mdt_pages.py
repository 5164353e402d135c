"""MDT meeting pages (issue 17): plan a meeting from worklists, open its patient list, record
each discussion with the actions agreed. Thin edge over :mod:`pcn.care.mdt`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pcn.access.guard import NotFound, authorise
from pcn.access.policy import Action, Principal, Purpose
from pcn.care import mdt, plans
from pcn.record.codes import is_digits
from pcn.reporting.network import NetworkView
from pcn.store.database import Store
from pcn.tasks.service import Candidate, TaskError
from pcn.tasks.vocabulary import OWNER_ROLE_TEXT, OWNER_ROLES
from pcn.web import task_support
from pcn.web.pages import render
from pcn.web.security import csrf_valid, page_principal
from pcn.web.task_pages import can_work, form_expired

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(page_principal)]


def _view(request: Request) -> NetworkView:
    return request.app.state.view


def _store(request: Request) -> Store:
    return request.app.state.store


def _candidates(view: NetworkView, worklist_id: str) -> list[Candidate]:
    frame: pd.DataFrame = view.worklist(worklist_id)
    reasons = frame["reasons"] if "reasons" in frame.columns else [""] * len(frame)
    return [Candidate(int(p), str(c), str(r)) for p, c, r in
            zip(frame["patient_id"], frame["practice_code"], reasons, strict=True)]


def _require_worker(request: Request, principal: Principal, route: str) -> None:
    """The meetings list names no patient; it is still decided and audited (one event)."""
    decision = authorise(_store(request), principal, Action.TRIAGE_WORK,
                         purpose=Purpose.DIRECT_CARE, detail={"route": route})
    if not decision.allowed or not can_work(principal):
        raise NotFound()


@router.get("/mdt")
def mdt_list(request: Request, principal: SignedIn) -> Response:
    _require_worker(request, principal, "/mdt")
    view = _view(request)
    return render(request, "mdt_list.html", principal, meetings=mdt.meetings(_store(request)),
                  worklists=[{"id": w, "title": view.worklist_title(w),
                              "checked": w in mdt.DEFAULT_WORKLISTS}
                             for w in view.worklist_ids()],
                  error=request.query_params.get("error", ""))


@router.post("/mdt")
async def mdt_create(request: Request, principal: SignedIn) -> Response:
    form = await request.form()
    if not csrf_valid(request, str(form.get("csrf_token", ""))):
        return form_expired(request, principal, "/mdt")
    view = _view(request)
    chosen = [str(w) for w in form.getlist("worklist") if str(w) in view.worklist_ids()]
    try:
        held_on = dt.date.fromisoformat(str(form.get("held_on", "")).strip())
    except ValueError:
        return RedirectResponse("/mdt?error=date", status_code=303)
    try:
        meeting_id = mdt.create(_store(request), principal,
                                title=str(form.get("title", "")), held_on=held_on,
                                worklists=chosen,
                                candidates={w: _candidates(view, w) for w in chosen},
                                route="/mdt")
    except TaskError as problem:
        return RedirectResponse(f"/mdt?error={problem.field}", status_code=303)
    return RedirectResponse(f"/mdt/{meeting_id}", status_code=303)


def _number(raw: str) -> int:
    return int(raw) if is_digits(raw) and len(raw) < 10 else 0


@router.get("/mdt/{meeting_id}")
def mdt_meeting(request: Request, principal: SignedIn, meeting_id: str) -> Response:
    view = _view(request)
    meeting = mdt.get(_store(request), principal, _number(meeting_id), route="/mdt/{id}")
    return render(request, "mdt_meeting.html", principal, meeting=meeting,
                  titles={w: view.worklist_title(w) for w in view.worklist_ids()},
                  practice_names=view.practice_names, owner_roles=OWNER_ROLES,
                  owner_role_text=OWNER_ROLE_TEXT,
                  saved=request.query_params.get("saved", ""),
                  error=request.query_params.get("error", ""))


@router.post("/mdt/{meeting_id}/patients/{patient_id}")
async def mdt_discuss(request: Request, principal: SignedIn, meeting_id: str,
                      patient_id: str) -> Response:
    form = await request.form()
    number = _number(meeting_id)
    pid = int(patient_id) if is_digits(patient_id) and len(patient_id) < 19 else -1
    back = f"/mdt/{number}"
    if not csrf_valid(request, str(form.get("csrf_token", ""))):
        return form_expired(request, principal, back)
    actions = [plans.PlanAction(str(form.get(f"action-{i}", "")).strip(),
                                str(form.get(f"owner-{i}", "")).strip() or None)
               for i in range(2) if str(form.get(f"action-{i}", "")).strip()]
    try:
        mdt.record_discussion(_store(request), principal, number, pid,
                              discussion=str(form.get("discussion", "")), actions=actions,
                              practices_of=task_support.practices_of(_view(request)),
                              route="/mdt/{id}/patients/{pid}")
    except TaskError as problem:
        return RedirectResponse(f"{back}?error={problem.field}#patient-{pid}", status_code=303)
    return RedirectResponse(f"{back}?saved={pid}#patient-{pid}", status_code=303)
