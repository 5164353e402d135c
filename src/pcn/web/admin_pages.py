"""Administration in the web app (issue 17): users and roles, token revocation, sharing
agreements, and the audit viewer ("who viewed this patient").

Each page is decided by the access policy (``manage_users``, ``manage_agreements``,
``view_audit``) through :func:`pcn.access.guard.authorise` — one audit event, allowed or denied —
and a role without the permission gets a real 403 page: these pages hold no patient data, so
saying "not allowed" reveals nothing (ADR 0051 keeps 404 for patient data). Every change is
audited as its own event naming what changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from pcn.access.guard import authorise
from pcn.access.policy import ROLE_ACTIONS, Action, DataScope, Principal, Purpose, Role
from pcn.record.codes import is_digits
from pcn.store import accounts, audit, sharing
from pcn.store.database import Store
from pcn.web.pages import ROLE_NAMES, render
from pcn.web.security import csrf_valid, page_principal
from pcn.web.task_pages import form_expired

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(page_principal)]
ADMIN_ACTIONS = (Action.MANAGE_USERS, Action.MANAGE_AGREEMENTS, Action.VIEW_AUDIT)


class Forbidden(Exception):
    """A role without the permission asked for an administration page (HTTP 403)."""


def _store(request: Request) -> Store:
    return request.app.state.store


def may(principal: Principal, action: Action) -> bool:
    return action in ROLE_ACTIONS.get(principal.role, frozenset())


def is_admin(principal: Principal) -> bool:
    return any(may(principal, a) for a in ADMIN_ACTIONS)


def _check(request: Request, principal: Principal, action: Action, route: str,
           **detail: Any) -> None:
    decision = authorise(_store(request), principal, action, purpose=Purpose.PLANNING,
                         detail={"route": route, **detail})
    if not decision.allowed:
        raise Forbidden()


def _event(request: Request, principal: Principal, action: str,
           detail: dict[str, Any]) -> None:
    audit.record(_store(request), audit.Event(
        username=principal.username, role=principal.role.value,
        practice_code=principal.practice_code, action=action, outcome="ok",
        detail=detail))


@router.get("/admin")
def admin_home(request: Request, principal: SignedIn) -> Response:
    first = next((a for a in ADMIN_ACTIONS if may(principal, a)), Action.MANAGE_USERS)
    _check(request, principal, first, "/admin")
    return render(request, "admin.html", principal,
                  can_users=may(principal, Action.MANAGE_USERS),
                  can_agreements=may(principal, Action.MANAGE_AGREEMENTS),
                  can_audit=may(principal, Action.VIEW_AUDIT))


# ---- users ----------------------------------------------------------------------------------
@router.get("/admin/users")
def users(request: Request, principal: SignedIn) -> Response:
    _check(request, principal, Action.MANAGE_USERS, "/admin/users")
    return render(request, "admin_users.html", principal,
                  users=accounts.list_users(_store(request)), roles=[r.value for r in Role],
                  role_names=ROLE_NAMES, done=request.query_params.get("done", ""),
                  error=request.query_params.get("error", ""),
                  password=request.query_params.get("password", ""))


@router.post("/admin/users")
async def users_change(request: Request, principal: SignedIn) -> Response:
    _check(request, principal, Action.MANAGE_USERS, "/admin/users", op="change")
    form = {k: str(v) for k, v in (await request.form()).items()}
    if not csrf_valid(request, form.get("csrf_token", "")):
        return form_expired(request, principal, "/admin/users")
    op, username = form.get("op", ""), form.get("username", "").strip().lower()
    store = _store(request)
    try:
        if op == "create":
            _, password = accounts.create_user(store, username, form.get("role", ""),
                                               practice_code=form.get("practice_code") or None,
                                               display_name=form.get("display_name", ""))
            _event(request, principal, "create_user", {"user": username,
                                                      "role": form.get("role", "")})
            # The generated password is shown once, on this answer only (not in a URL).
            return render(request, "admin_users.html", principal,
                          users=accounts.list_users(store), roles=[r.value for r in Role],
                          role_names=ROLE_NAMES, done="created", error="",
                          password=password or "", created=username)
        if op == "role":
            accounts.set_role(store, username, form.get("role", ""),
                              form.get("practice_code") or None)
            _event(request, principal, "set_role", {"user": username,
                                                   "role": form.get("role", "")})
        elif op == "disable":
            if username == principal.username:
                raise accounts.AccountError("you cannot disable your own account")
            accounts.disable_user(store, username)
            _event(request, principal, "disable_user", {"user": username})
        elif op == "revoke":
            n = accounts.revoke_tokens(store, username)
            _event(request, principal, "revoke_tokens", {"user": username, "tokens": n})
        else:
            raise accounts.AccountError("choose what to change")
    except (accounts.AccountError, ValueError) as problem:
        from urllib.parse import urlencode

        return RedirectResponse("/admin/users?" + urlencode({"error": str(problem)}),
                                status_code=303)
    return RedirectResponse(f"/admin/users?done={op}", status_code=303)


# ---- sharing agreements ---------------------------------------------------------------------
@router.get("/admin/agreements")
def agreements(request: Request, principal: SignedIn) -> Response:
    _check(request, principal, Action.MANAGE_AGREEMENTS, "/admin/agreements")
    return render(request, "admin_agreements.html", principal,
                  agreements=sharing.list_agreements(_store(request)),
                  scopes=[s.value for s in DataScope], purposes=[p.value for p in Purpose],
                  done=request.query_params.get("done", ""),
                  error=request.query_params.get("error", ""), today=dt.date.today())


@router.post("/admin/agreements")
async def agreements_change(request: Request, principal: SignedIn) -> Response:
    _check(request, principal, Action.MANAGE_AGREEMENTS, "/admin/agreements", op="change")
    form = {k: str(v) for k, v in (await request.form()).items()}
    from urllib.parse import urlencode

    if not csrf_valid(request, form.get("csrf_token", "")):
        return form_expired(request, principal, "/admin/agreements")
    store = _store(request)
    try:
        if form.get("op") == "add":
            made = sharing.add_agreement(
                store, from_practices=form.get("from_practices", "").replace(",", " ").split(),
                to_orgs=form.get("to_orgs", "").replace(",", " ").split(),
                data_scope=form.get("data_scope", ""), purpose=form.get("purpose", ""),
                valid_from=dt.date.fromisoformat(form.get("valid_from", "").strip()),
                reference=form.get("reference", ""), created_by=principal.username)
            _event(request, principal, "add_agreement", {"agreement_id": made.agreement_id})
        elif form.get("op") == "revoke" and is_digits(form.get("agreement_id", "")):
            number = int(form["agreement_id"])
            sharing.revoke_agreement(store, number, principal.username)
            _event(request, principal, "revoke_agreement", {"agreement_id": number})
        else:
            raise sharing.SharingError("choose what to change")
    except (sharing.SharingError, ValueError) as problem:
        return RedirectResponse("/admin/agreements?" + urlencode({"error": str(problem)}),
                                status_code=303)
    return RedirectResponse(f"/admin/agreements?done={form.get('op')}", status_code=303)


# ---- audit viewer ---------------------------------------------------------------------------
@router.get("/admin/audit")
def audit_viewer(request: Request, principal: SignedIn, patient_id: str = "") -> Response:
    number = int(patient_id) if is_digits(patient_id) and len(patient_id) < 19 else None
    _check(request, principal, Action.VIEW_AUDIT, "/admin/audit",
           **({"about_patient": number} if number is not None else {}))
    store = _store(request)
    rows = audit.who_viewed(store, number) if number is not None else []
    report = audit.verify(store) if request.query_params.get("verify") else None
    return render(request, "admin_audit.html", principal, patient_id=patient_id, number=number,
                  rows=rows, report=report, role_names=ROLE_NAMES)
