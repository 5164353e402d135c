"""Home monitoring pages (issue 22, ADR 0154): the patient's readings page reached by a
one-time link (``/readings/<token>``, no account) and the clinicians' list (``/monitoring``).

The patient page shows only what the person needs: their own readings, their average, what it
means and what happens next; no name, NHS number or record detail. Every opening and every
reading sent is audited. Thin edge over :mod:`pcn.monitoring`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pcn.access.guard import disclose_in_scope
from pcn.access.policy import Action, PatientScope, Principal, Purpose
from pcn.monitoring import links
from pcn.monitoring.alerts import current_practices, raise_alerts
from pcn.monitoring.patient_view import explain
from pcn.monitoring.readings import load_bp_readings, parse_row, store_bp_readings
from pcn.monitoring.series import CATEGORY_TEXT, display_mean
from pcn.monitoring.summary import series_of
from pcn.store import audit
from pcn.store.database import Store
from pcn.web.pages import render
from pcn.web.security import csrf_valid, page_principal

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(page_principal)]
#: Who the audit trail names for a patient using a link (no account).
LINK_USER, LINK_ROLE = "patient-link", "patient"
FIELDS = ("taken-day", "taken-month", "taken-year", "time", "systolic", "diastolic", "pulse")
ANCHORS = {
    "taken_at": "#taken-day",
    "systolic": "#systolic",
    "diastolic": "#diastolic",
    "pulse": "#pulse",
    "form": "#systolic",
}


def _store(request: Request) -> Store:
    return request.app.state.store


def _audit(request: Request, action: str, patient_id: int, nonce: str) -> None:
    audit.record(
        _store(request),
        audit.Event(
            username=LINK_USER,
            role=LINK_ROLE,
            action=action,
            outcome="ok",
            patient_id=patient_id,
            purpose=Purpose.DIRECT_CARE.value,
            detail={"link": nonce, "route": "/readings"},
        ),
    )


def _patient_page(
    request: Request,
    claims: links.LinkClaims,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    sent: bool = False,
    status_code: int = 200,
) -> Response:
    record = request.app.state.view.record
    series = series_of(_store(request), record, [claims.patient_id])
    latest = series[-1] if series else None
    readings = list(reversed(load_bp_readings(_store(request), [claims.patient_id])))[:30]
    shown = [
        {
            "when": r.taken_at,
            "bp": f"{display_mean(r.systolic).removesuffix('.0')}/"
            f"{display_mean(r.diastolic).removesuffix('.0')}",
            "pulse": r.pulse,
        }
        for r in readings
    ]
    return render(
        request,
        "readings_form.html",
        None,
        status_code=status_code,
        values=values,
        errors=errors,
        anchors=ANCHORS,
        readings=shown,
        explanation=explain(latest),
        sent=sent,
        today=dt.date.today(),
    )


def _claims(request: Request, token: str) -> links.LinkClaims | Response:
    try:
        return links.read(request.app.state.settings, token)
    except links.LinkError as e:
        return render(request, "readings_link_invalid.html", None, status_code=404, message=str(e))


@router.get("/readings/{token}")
def readings_page(request: Request, token: str, sent: int = 0) -> Response:
    claims = _claims(request, token)
    if isinstance(claims, Response):
        return claims
    _audit(request, "monitoring_link_opened", claims.patient_id, claims.nonce)
    return _patient_page(request, claims, values={}, errors={}, sent=bool(sent))


def _parse(values: dict[str, str], patient_id: int) -> tuple[Any, dict[str, str]]:
    day, month, year = (values.get(f"taken-{p}", "") for p in ("day", "month", "year"))
    errors: dict[str, str] = {}
    taken = None
    try:
        date = dt.date(int(year), int(month), int(day))
        hours, minutes = values.get("time", "").replace(".", ":").split(":")
        taken = dt.datetime.combine(date, dt.time(int(hours), int(minutes)))
    except ValueError:
        errors["taken_at"] = (
            "Enter the date and time you took the reading, for example 4 12 2026 and 08:30"
        )
    if taken is not None and taken > dt.datetime.now() + dt.timedelta(minutes=10):
        errors["taken_at"] = "The date and time you took the reading must be in the past"
    if errors:
        return None, errors
    row = {
        "patient_id": str(patient_id),
        "taken_at": taken.isoformat() if taken else "",
        "systolic": values.get("systolic", ""),
        "diastolic": values.get("diastolic", ""),
        "pulse": values.get("pulse", ""),
    }
    try:
        return parse_row(row), {}
    except ValueError as e:
        field, _, problem = str(e).partition(": ")
        words = {
            "systolic": "top number (systolic)",
            "diastolic": "bottom number (diastolic)",
            "pulse": "pulse",
        }
        label = words.get(field, field)
        if problem == "missing":
            message = f"Enter the {label}"
        elif "not below the systolic" in problem:
            message = "The bottom number must be lower than the top number"
        else:
            message = f"Check the {label}: {problem}"
        return None, {field: message}


@router.post("/readings/{token}")
async def readings_submit(request: Request, token: str) -> Response:
    form = await request.form()
    names = {"taken-day": "taken[day]", "taken-month": "taken[month]", "taken-year": "taken[year]"}
    values = {k: str(form.get(names.get(k, k), "")).strip() for k in FIELDS}
    fresh = csrf_valid(request, str(form.get("csrf_token", "")))
    claims = _claims(request, token)
    if isinstance(claims, Response):
        if not fresh:
            claims.status_code = 400
        return claims
    if not fresh:
        return _patient_page(
            request,
            claims,
            values=values,
            status_code=400,
            errors={"form": "This form expired. Check your reading and send it again."},
        )
    reading, errors = _parse(values, claims.patient_id)
    if reading is None:
        return _patient_page(request, claims, values=values, errors=errors, status_code=422)

    def save() -> None:
        store, record = _store(request), request.app.state.view.record
        store_bp_readings(store, [reading], source="link", created_by=LINK_USER)
        raise_alerts(
            store,
            record,
            series_of(store, record, [claims.patient_id]),
            username=LINK_USER,
            role=LINK_ROLE,
        )

    try:
        await run_in_threadpool(save)
    except ValueError:
        return _patient_page(
            request,
            claims,
            values=values,
            status_code=409,
            errors={"taken_at": "You already sent a different reading for this date and time"},
        )
    _audit(request, "monitoring_reading_submitted", claims.patient_id, claims.nonce)
    return RedirectResponse(f"/readings/{token}?sent=1", status_code=303)


# ---- the clinicians' list ------------------------------------------------------------------
@router.get("/monitoring")
def monitoring_list(request: Request, principal: SignedIn) -> Response:
    store, record = _store(request), request.app.state.view.record
    series = series_of(store, record)
    practices = current_practices(record, [s.patient_id for s in series])

    def select(scope: PatientScope) -> tuple[list[dict[str, Any]], list[int]]:
        rows = [
            s
            for s in series
            if scope.allows(
                s.patient_id,
                frozenset({practices[s.patient_id]}) if s.patient_id in practices else frozenset(),
            )
        ]
        rows.sort(key=lambda s: (CATEGORY_ORDER.index(s.category), s.series_start))
        shown = [
            {
                "patient_id": s.patient_id,
                "practice": practices.get(s.patient_id, ""),
                "start": s.series_start,
                "end": s.series_end,
                "used": s.n_readings_used,
                "average": (
                    f"{display_mean(s.mean_systolic)}/{display_mean(s.mean_diastolic)} mmHg"
                    if s.mean_systolic is not None
                    else "Not available"
                ),
                "category": s.category,
                "category_text": CATEGORY_TEXT[s.category],
                "register": s.on_register,
            }
            for s in rows
        ]
        return shown, [s.patient_id for s in rows]

    rows = disclose_in_scope(
        store,
        principal,
        select,
        Purpose.DIRECT_CARE,
        Action.TRIAGE_WORK,
        detail={"route": "/monitoring"},
    )
    return render(request, "monitoring.html", principal, rows=rows)


#: Most urgent first on the clinicians' list.
CATEGORY_ORDER = (
    "severe",
    "stage2",
    "above_target",
    "stage1",
    "insufficient",
    "target_met",
    "normal",
)
