"""Care plan pages (issue 17): read, edit (a new version), and a print-friendly copy for the
patient. Thin edge over :mod:`pcn.care.plans`; works without JavaScript."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pcn.access.policy import Principal
from pcn.care import plans
from pcn.reporting.network import NetworkView
from pcn.store.database import Store
from pcn.tasks.service import TaskError
from pcn.tasks.vocabulary import OWNER_ROLE_TEXT, OWNER_ROLES
from pcn.web import guarded, task_support
from pcn.web.pages import parse_patient_id, render
from pcn.web.security import csrf_valid, page_principal
from pcn.web.task_pages import form_expired

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(page_principal)]
NEW_ACTION_ROWS = 3


def _view(request: Request) -> NetworkView:
    return request.app.state.view


def _store(request: Request) -> Store:
    return request.app.state.store


def _page(request: Request, principal: Principal, patient_id: str, *, template: str,
          route: str, status_code: int = 200, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None) -> Response:
    view = _view(request)
    number = parse_patient_id(patient_id)
    plan = plans.get(_store(request), principal, number if number is not None else -1,
                     practices_of=task_support.practices_of(view), route=route)
    assert number is not None
    return render(request, template, principal, patient_id=number, plan=plan,
                  status_code=status_code, errors=errors or {}, values=values or {},
                  owner_roles=OWNER_ROLES, owner_role_text=OWNER_ROLE_TEXT,
                  new_rows=range(NEW_ACTION_ROWS), can_edit=guarded.is_clinical(principal),
                  saved=request.query_params.get("saved", ""))


@router.get("/patients/{patient_id}/care-plan")
def care_plan(request: Request, principal: SignedIn, patient_id: str) -> Response:
    return _page(request, principal, patient_id, template="care_plan.html",
                 route="/patients/{id}/care-plan")


@router.get("/patients/{patient_id}/care-plan/edit")
def care_plan_edit(request: Request, principal: SignedIn, patient_id: str) -> Response:
    return _page(request, principal, patient_id, template="care_plan_edit.html",
                 route="/patients/{id}/care-plan/edit")


@router.get("/patients/{patient_id}/care-plan/print")
def care_plan_print(request: Request, principal: SignedIn, patient_id: str) -> Response:
    return _page(request, principal, patient_id, template="care_plan_print.html",
                 route="/patients/{id}/care-plan/print")


def _date(value: str, field: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise TaskError(field, "enter a date like 2027-03-31") from None


@router.post("/patients/{patient_id}/care-plan")
async def care_plan_save(request: Request, principal: SignedIn, patient_id: str) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items()}
    view = _view(request)
    store = _store(request)
    number = parse_patient_id(patient_id)
    if not csrf_valid(request, values.get("csrf_token", "")):
        return form_expired(request, principal, f"/patients/{number}/care-plan")
    try:
        current = plans.current_unaudited(store, number) if number is not None else None
        kept = [a for i, a in enumerate(current.actions if current else [])
                if values.get(f"keep-{i}", "yes") == "yes"]
        new = [plans.PlanAction(values.get(f"action-{i}", "").strip(),
                                values.get(f"owner-{i}", "").strip() or None,
                                _date(values.get(f"due-{i}", ""), f"due-{i}"))
               for i in range(NEW_ACTION_ROWS) if values.get(f"action-{i}", "").strip()]
        plans.save(store, principal, number if number is not None else -1, plans.PlanInput(
            what_matters=values.get("what_matters", ""),
            goals=values.get("goals", "").splitlines(), actions=[*kept, *new],
            coordinator=values.get("coordinator", ""),
            review_date=_date(values.get("review_date", ""), "review_date")),
            practices_of=task_support.practices_of(view), route="/patients/{id}/care-plan")
    except TaskError as problem:
        return _page(request, principal, patient_id, template="care_plan_edit.html",
                     route="/patients/{id}/care-plan/edit", status_code=422, values=values,
                     errors={problem.field: problem.problem[:1].upper() + problem.problem[1:]})
    return RedirectResponse(f"/patients/{number}/care-plan?saved=1", status_code=303)
