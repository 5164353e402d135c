"""Pages for online consultation: the public request form (``/request``) and the staff triage
queue (``/triage``). Thin edge over :mod:`pcn.triage.requests` (ADR 0080).

The form needs no sign-in; it is CSRF-protected, size-limited (:class:`BodySizeLimit`) and carries
a one-time ``submission_id`` used as its idempotency key, so a double click or a refresh never
queues the request twice. Patient text is stored as typed and only ever rendered through Jinja's
autoescaping.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from pcn.access.policy import ROLE_ACTIONS, Action, Principal
from pcn.record.codes import is_digits
from pcn.store.database import Store
from pcn.store.idempotency import IdempotencyConflict, request_hash
from pcn.triage import requests as desk
from pcn.triage.model import Route
from pcn.triage.requests import Idempotency, NewRequest, RequestError, StateConflict
from pcn.web.limits import AnonymousSubmissions
from pcn.web.pages import render
from pcn.web.security import csrf_valid, page_principal
from pcn.web.triage_support import network_practices, patient_directory, practice_choices

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(page_principal)]

URGENCY_TEXT = {"emergency": "Emergency", "urgent": "Urgent (today)", "routine": "Routine",
                "self_care": "Self-care"}
ROUTE_TEXT = {
    "emergency_services": "Emergency services (999 or A&E)", "gp": "GP",
    "anp": "Advanced nurse practitioner", "practice_nurse": "Practice nurse",
    "clinical_pharmacist": "Clinical pharmacist", "fcp_physio": "First contact physiotherapist",
    "mental_health_practitioner": "Mental health practitioner",
    "social_prescriber": "Social prescribing link worker", "care_coordinator": "Care coordinator",
    "paramedic": "Paramedic", "pharmacy_first": "Pharmacy First (community pharmacist)",
    "community_pharmacy": "Community pharmacy", "dentist": "Dentist",
    "optometrist": "Optometrist", "self_care": "Self-care", "admin": "Practice team (admin)",
}
STATUS_TEXT = {"new": "New", "accepted": "Accepted", "overridden": "Overridden",
               "assigned": "Assigned", "closed": "Closed"}
#: What happens next, in plain English, by route (emergencies have their own page section).
NEXT_STEPS = {
    "urgent": "A clinician will look at your request today and contact you. If you have not "
              "heard from us by 6:30pm, call the practice or NHS 111.",
    "routine": "A member of our team will look at your request and contact you within 2 "
               "working days.",
    "self_care": "You do not need an appointment. Follow the advice below.",
}
FORM_FIELDS = ("name", "dob-day", "dob-month", "dob-year", "sex", "practice_code",
               "nhs_number", "text")


def _store(request: Request) -> Store:
    return request.app.state.store


def _can_triage(principal: Principal) -> bool:
    return Action.TRIAGE_WORK in ROLE_ACTIONS.get(principal.role, frozenset())


# ---- the public form -----------------------------------------------------------------------
def _form_page(request: Request, *, values: dict[str, str], errors: dict[str, str],
               status_code: int = 200) -> Response:
    return render(request, "request_form.html", None, status_code=status_code, values=values,
                  errors=errors, practices=practice_choices(request.app),
                  submission_id=values.get("submission_id") or secrets.token_urlsafe(18),
                  max_text=desk.MAX_TEXT)


@router.get("/request")
def request_form(request: Request) -> Response:
    return _form_page(request, values={}, errors={})


def _age_on(born: dt.date, today: dt.date) -> float:
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 1:
        return float(years)
    return round((today - born).days / 365.25, 2)


def _parse_form(values: dict[str, str]) -> tuple[NewRequest | None, dict[str, str]]:
    """The form as a :class:`NewRequest`, or the problems by field id (plain English)."""
    errors: dict[str, str] = {}
    if not values.get("name"):
        errors["name"] = "Enter the full name of the person the request is about"
    born = None
    parts = [values.get(f"dob-{p}", "") for p in ("day", "month", "year")]
    if not all(parts):
        errors["dob"] = "Enter their date of birth, for example 27 3 1987"
    else:
        try:
            born = dt.date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            errors["dob"] = "Date of birth must be a real date, for example 27 3 1987"
        else:
            if born > dt.date.today() or born.year < 1890:
                errors["dob"] = "Date of birth must be in the past"
    if values.get("sex") not in ("F", "M"):
        errors["sex"] = "Select female or male"
    if not values.get("practice_code"):
        errors["practice_code"] = "Select the GP practice they are registered with"
    text = values.get("text", "")
    if not text.strip():
        errors["text"] = "Tell us what you need help with"
    elif len(text) > desk.MAX_TEXT:
        errors["text"] = f"Your message must be {desk.MAX_TEXT:,} characters or fewer"
    if errors:
        return None, errors
    assert born is not None
    try:
        new = NewRequest(age=_age_on(born, dt.date.today()), sex=values["sex"], text=text,
                         practice_code=values["practice_code"],
                         nhs_number=values.get("nhs_number") or None, name=values["name"],
                         date_of_birth=born, patient_id=None)
    except ValidationError as invalid:
        for problem in invalid.errors():
            where = str(problem["loc"][0]) if problem["loc"] else "text"
            errors[{"date_of_birth": "dob", "age": "dob"}.get(where, where)] = (
                "Enter a valid NHS number (10 digits), or leave it blank"
                if where == "nhs_number" else str(problem["msg"]))
        return None, errors
    return new, errors


@router.post("/request")
async def request_submit(request: Request) -> Response:
    limit: AnonymousSubmissions = request.app.state.anonymous_submissions
    wait = limit.admit(request.client.host if request.client else "")
    if wait:
        response = _form_page(request, values={}, status_code=429, errors={
            "form": "You have sent several requests in the last hour. Please wait before "
                    "sending another. If you need help now, call the practice or NHS 111, or "
                    "999 in an emergency."})
        response.headers["Retry-After"] = str(wait)
        return response
    form = await request.form()
    # The NHS.UK date input names its boxes dob[day], dob[month], dob[year].
    names = {"dob-day": "dob[day]", "dob-month": "dob[month]", "dob-year": "dob[year]"}
    values = {k: str(form.get(names.get(k, k), "")) for k in (*FORM_FIELDS, "submission_id")}
    values = {k: v if k == "text" else v.strip() for k, v in values.items()}
    if not csrf_valid(request, str(form.get("csrf_token", ""))):
        return _form_page(request, values=values, status_code=400,
                          errors={"form": "This form expired. Check your answers and send it "
                                          "again."})
    new, errors = _parse_form(values)
    if new is None:
        return _form_page(request, values=values, errors=errors, status_code=422)
    key = None
    if values.get("submission_id"):
        key = Idempotency(desk.PUBLIC_USER, "form:" + values["submission_id"][:100],
                          request_hash("POST", "/request", new.model_dump_json().encode()))
    from starlette.concurrency import run_in_threadpool

    try:
        answer = await run_in_threadpool(
            desk.submit, _store(request), new, source="web_form",
            directory=patient_directory(request.app), practices=network_practices(request.app),
            idempotency=key, route="/request")
    except RequestError as bad:
        return _form_page(request, values=values, errors={bad.field: bad.problem},
                          status_code=422)
    except IdempotencyConflict:
        values["submission_id"] = ""
        return _form_page(request, values=values, status_code=409, errors={
            "form": "This form was already sent with different answers. Check your answers "
                    "and send it again."})
    return render(request, "request_done.html", None, answer=answer,
                  next_steps=NEXT_STEPS.get(answer.urgency, ""),
                  practice=dict(practice_choices(request.app)).get(new.practice_code or "", ""))


# ---- the staff queue -----------------------------------------------------------------------
def _common(principal: Principal) -> dict[str, Any]:
    return {"urgency_text": URGENCY_TEXT, "route_text": ROUTE_TEXT, "status_text": STATUS_TEXT}


@router.get("/triage")
def triage_queue(request: Request, principal: SignedIn, show: str = "open") -> Response:
    statuses = desk.STATUSES if show == "all" else desk.OPEN_STATUSES
    rows = desk.queue(_store(request), principal, statuses=statuses, route="/triage")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return render(request, "triage_queue.html", principal, rows=rows, now=now, show=show,
                  waited=_waited, **_common(principal))


def _waited(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


def _request_id(raw: str) -> int:
    return int(raw) if is_digits(raw) and len(raw) < 10 else 0


def _detail_page(request: Request, principal: Principal, view: desk.RequestView, *,
                 errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                 status_code: int = 200, done: str = "") -> Response:
    return render(request, "triage_request.html", principal, status_code=status_code, r=view,
                  errors=errors or {}, values=values or {}, done=done,
                  practice_names=request.app.state.view.practice_names,
                  urgencies=desk.URGENCY_ORDER, routes=[r.value for r in Route],
                  roles=desk.ASSIGNABLE_ROLES, waited=_waited(view.waiting()),
                  **_common(principal))


@router.get("/triage/{request_id}")
def triage_request(request: Request, principal: SignedIn, request_id: str,
                   done: str = "") -> Response:
    view = desk.get(_store(request), principal, _request_id(request_id), route="/triage/{id}")
    return _detail_page(request, principal, view,
                        done=done if done in ("accept", "override", "assign", "close") else "")


@router.post("/triage/{request_id}/{action}")
def triage_action(request: Request, principal: SignedIn, request_id: str, action: str,
                  csrf_token: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                  urgency: Annotated[str, Form()] = "", route_to: Annotated[str, Form()] = "",
                  user: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "",
                  outcome: Annotated[str, Form()] = "") -> Response:
    number = _request_id(request_id)
    store = _store(request)
    values = {"reason": reason, "urgency": urgency, "route_to": route_to, "user": user,
              "role": role, "outcome": outcome, "action": action}
    if action not in ("accept", "override", "assign", "close"):
        desk.get(store, principal, 0, route="/triage/{id}/{action}")  # audited, always 404
    if not csrf_valid(request, csrf_token):
        view = desk.get(store, principal, number, route="/triage/{id}")
        return _detail_page(request, principal, view, status_code=400, values=values,
                            errors={"form": "This form expired. Please try again."})
    route = f"/triage/{{id}}/{action}"
    try:
        if action == "accept":
            desk.accept(store, principal, number, reason=reason, route=route)
        elif action == "override":
            desk.override(store, principal, number, urgency=urgency, route_to=route_to,
                          reason=reason, route=route)
        elif action == "assign":
            desk.assign(store, principal, number, user=user, role=role, reason=reason,
                        route=route)
        else:
            desk.close(store, principal, number, outcome=outcome, route=route)
    except (RequestError, StateConflict) as problem:
        # Bad input is mostly refused before the access check: re-read through it (one audited
        # view). A state conflict or a refused assignee came after the action was authorised
        # and audited: no second event.
        checked = isinstance(problem, StateConflict) or problem.authorised
        view = desk.get_unaudited(store, number) if checked \
            else desk.get(store, principal, number, route="/triage/{id}")
        field = problem.field if isinstance(problem, RequestError) else "form"
        message = problem.problem if isinstance(problem, RequestError) else str(problem)
        return _detail_page(request, principal, view, values=values,
                            status_code=422 if isinstance(problem, RequestError) else 409,
                            errors={f"{action}-{field}": message[:1].upper() + message[1:]})
    return RedirectResponse(f"/triage/{number}?done={action}", status_code=303)
