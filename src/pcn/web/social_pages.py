"""Social prescribing pages (issue 22, ADR 0152): ``/social`` (referrals waiting, my caseload,
caseloads and outcomes, the directory search), ``/social/refer`` and one referral's page with the
link worker's forms (take, contact, ONS4 at start and end, close). Thin edge over
:mod:`pcn.social`; every list of people is scoped and audited by the access guard."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pcn.access.guard import NotFound, disclose_in_scope
from pcn.access.policy import Action, PatientScope, Principal, Purpose
from pcn.social import referrals as sp
from pcn.social.directory import DirectoryError, Search, all_services, search
from pcn.social.report import caseloads, has_outcome, outcome_report
from pcn.social.vocabulary import definitions
from pcn.store.database import Store
from pcn.store.models import SocialReferral
from pcn.tasks.service import TaskConflict, TaskError
from pcn.web import task_support
from pcn.web.pages import render
from pcn.web.security import csrf_valid, page_principal

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(page_principal)]


def _store(request: Request) -> Store:
    return request.app.state.store


def _practices(request: Request) -> Any:
    return task_support.practices_of(request.app.state.view)


def _visible(
    request: Request, principal: Principal, rows: list[SocialReferral], route: str
) -> list[SocialReferral]:
    lookup = _practices(request)

    def select(scope: PatientScope) -> tuple[list[SocialReferral], list[int]]:
        shown = [r for r in rows if scope.allows(r.patient_id, lookup(r.patient_id))]
        return shown, [r.patient_id for r in shown]

    return disclose_in_scope(
        _store(request),
        principal,
        select,
        Purpose.DIRECT_CARE,
        Action.TRIAGE_WORK,
        detail={"route": route},
    )


def _directory(request: Request, need: str, postcode: str, age: str) -> tuple[list[Any], str]:
    services = all_services(_store(request))
    if not (need or postcode or age):
        return services, ""
    try:
        wanted = Search(
            need=need or None, postcode=postcode or None, age=int(age) if age.strip() else None
        )
        return search(services, wanted), ""
    except ValueError as e:
        return [], str(e) if isinstance(e, DirectoryError) else "Enter an age in years"


@router.get("/social")
def social_home(
    request: Request, principal: SignedIn, need: str = "", postcode: str = "", age: str = ""
) -> Response:
    rows = _visible(request, principal, sp.referrals(_store(request)), "/social")
    found, search_error = _directory(request, need.strip(), postcode.strip(), age.strip())
    labels = {i.key: i.label for i in definitions().ons4.items}
    network = outcome_report(rows, "network")[0] if rows else None
    return render(
        request,
        "social.html",
        principal,
        waiting=[r for r in rows if r.status == "open" and r.link_worker is None],
        mine=[r for r in rows if r.status == "open" and r.link_worker == principal.username],
        loads=caseloads(rows, dt.date.today()),
        network=network,
        by_worker=outcome_report(rows, "link_worker") if rows else [],
        labels=labels,
        needs=definitions().need_terms,
        services=found,
        search={"need": need, "postcode": postcode, "age": age},
        search_error=search_error,
    )


def _referral(request: Request, principal: Principal, raw_id: str) -> SocialReferral:
    """One referral the principal may see (one audit event, found or not)."""
    wanted = int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else 0
    rows = [r for r in sp.referrals(_store(request)) if r.id == wanted]
    shown = _visible(request, principal, rows, "/social/referrals/{id}")
    if not shown:
        raise NotFound()
    return shown[0]


@router.get("/social/referrals/{referral_id}")
def referral_page(
    request: Request, principal: SignedIn, referral_id: str, error: str = ""
) -> Response:
    row = _referral(request, principal, referral_id)
    services = all_services(_store(request))
    names = {s.id: s.name for s in services}
    matching = [s for s in services if set(s.needs) & set(row.needs)] or services
    return render(
        request,
        "social_referral.html",
        principal,
        r=row,
        error=error,
        ons4=definitions().ons4,
        needs=definitions().need_terms,
        service_names=names,
        matching=matching[:20],
        modes=sp.CONTACT_MODE_TEXT,
        route_text=sp.ROUTE_TEXT,
        has_outcome=has_outcome(row),
    )


@router.post("/social/referrals/{referral_id}/{action}")
async def referral_action(
    request: Request, principal: SignedIn, referral_id: str, action: str
) -> Response:
    form = await request.form()
    back = "/social/referrals/" + (referral_id if referral_id.isdigit() else "0")
    if not csrf_valid(request, str(form.get("csrf_token", ""))):
        return render(request, "form_expired.html", principal, back=back, status_code=400)
    row = _referral(request, principal, referral_id)
    store, lookup = _store(request), _practices(request)
    try:
        if action == "take":
            sp.take(store, principal, row.id, practices_of=lookup)
        elif action == "contact":
            sp.record_contact(
                store,
                principal,
                row.id,
                mode=str(form.get("mode", "")),
                note=str(form.get("note", "")),
                what_matters=str(form.get("what_matters", "")),
                services=tuple(str(v) for v in form.getlist("service")),
                practices_of=lookup,
            )
        elif action in ("ons4-start", "ons4-end"):
            answers = {k: form.get(k) for k in definitions().ons4_keys}
            sp.record_ons4(
                store,
                principal,
                row.id,
                when=action.removeprefix("ons4-"),
                answers=answers,
                practices_of=lookup,
            )
        elif action == "close":
            sp.close(
                store,
                principal,
                row.id,
                outcome_text=str(form.get("outcome_text", "")),
                practices_of=lookup,
            )
        else:
            raise NotFound()
    except (sp.ReferralError, TaskError, TaskConflict) as e:
        message = getattr(e, "message", str(e))
        from urllib.parse import quote

        return RedirectResponse(f"{back}?error={quote(message)}", status_code=303)
    return RedirectResponse(back, status_code=303)


@router.post("/social/refer")
async def refer(request: Request, principal: SignedIn) -> Response:
    """Refer a person: from a task (``task_id``), a worklist row or the triage route."""
    form = await request.form()
    if not csrf_valid(request, str(form.get("csrf_token", ""))):
        return render(request, "form_expired.html", principal, back="/social", status_code=400)
    raw_task = str(form.get("task_id", "")).strip()
    raw_patient = str(form.get("patient_id", "")).strip()
    try:
        made = sp.refer(
            _store(request),
            principal,
            patient_id=int(raw_patient),
            route=str(form.get("route", "manual")),
            reason=str(form.get("reason", "")),
            from_task_id=int(raw_task) if raw_task else None,
            needs=tuple(str(v) for v in form.getlist("need")),
            declined=str(form.get("declined", "")) == "yes",
            practices_of=_practices(request),
            today=task_support.work_date(request.app.state.view),
        )
    except (ValueError, TaskError, TaskConflict) as e:
        from urllib.parse import quote

        return RedirectResponse(f"/social?error={quote(str(e))}", status_code=303)
    target = f"/social/referrals/{made.referral_id}" if made.referral_id else "/social"
    return RedirectResponse(target, status_code=303)
