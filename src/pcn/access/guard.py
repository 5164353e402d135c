"""Applying the policy to a request against the store: fresh facts, one decision, one audit event.

Every route of the web app and the API calls :func:`authorise` (or :func:`require`,
:func:`search_scope`, :func:`claim_break_glass`). Each call re-reads the account, the agreements and
the break-glass grants, so disabling a user, changing a role or revoking an agreement or token takes
effect on the very next request, and writes exactly one audit event, allowed or denied.

A denial raises :class:`NotFound`: routes answer it exactly as they answer a patient who does not
exist (HTTP 404, same body), so a refusal never confirms that a patient exists (ADR 0051).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pcn.access.policy import (
    AccessContext,
    Action,
    BreakGlassGrant,
    Decision,
    PatientScope,
    Principal,
    Purpose,
    Request,
    Role,
    decide,
    scope_patients,
)
from pcn.store import audit
from pcn.store.accounts import get_account
from pcn.store.database import Store
from pcn.store.sharing import create_grant, load_context, record_review

T = TypeVar("T")


class NotFound(LookupError):
    """What every denial looks like from outside: the thing asked for is "not found"."""

    def __init__(self) -> None:
        super().__init__("not found")


@dataclass(frozen=True)
class _Evaluation:
    principal: Principal
    context: AccessContext
    decision: Decision
    known: bool


def current_principal(store: Store, username: str) -> Principal | None:
    """The account as stored now (role, practice, active), or None for an unknown name."""
    account = get_account(store, username)
    return account.principal() if account else None


def _evaluate(store: Store, who: Principal | str, request_fields: Mapping[str, Any],
              at: dt.datetime | None) -> _Evaluation:
    username = who if isinstance(who, str) else who.username
    principal = current_principal(store, username)
    known = principal is not None
    if principal is None:  # decided like a disabled account: denied, whatever it asks
        principal = Principal(username[:64], Role.ANALYST, None, active=False)
    context = load_context(store, principal.username, at)
    decision = decide(Request(principal=principal, **request_fields), context)
    return _Evaluation(principal, context, decision, known)


def _audit(store: Store, ev: _Evaluation, action: Action, purpose: Purpose,
           patient_id: int | None, detail: Mapping[str, Any] | None) -> None:
    audit.record(store, audit.Event(
        username=ev.principal.username,
        role=ev.principal.role.value if ev.known else "unknown",
        practice_code=ev.principal.practice_code,
        patient_id=patient_id, action=action.value,
        outcome="allowed" if ev.decision.allowed else "denied",
        purpose=purpose.value,
        detail={"reason": ev.decision.reason, "basis": ev.decision.basis, **(detail or {})},
        occurred_at=ev.context.at,
    ))


def could_work(store: Store, username: str, practices: frozenset[str]) -> bool:
    """Would the policy let this account work a triage request sent to ``practices`` (its
    practice, or ``NETWORK``)? An unknown or disabled account never could. Nothing is audited:
    the caller's own action is (e.g. assigning the request to this account)."""
    ev = _evaluate(store, username, {"action": Action.TRIAGE_WORK, "purpose":
                                     Purpose.DIRECT_CARE, "patient_practices": practices,
                                     "triage_request": True}, None)
    return ev.known and ev.decision.allowed


def authorise(store: Store, who: Principal | str, action: Action, *,
              purpose: Purpose = Purpose.DIRECT_CARE, patient_id: int | None = None,
              patient_practices: frozenset[str] = frozenset(),
              detail: Mapping[str, Any] | None = None, at: dt.datetime | None = None,
              triage_request: bool = False) -> Decision:
    """Decide one request and audit it (exactly one event). Does not raise on denial.

    ``triage_request``: the request is about one online consultation request (ADR 0080)."""
    ev = _evaluate(store, who, {"action": action, "purpose": purpose, "patient_id": patient_id,
                                "patient_practices": frozenset(patient_practices),
                                "triage_request": triage_request}, at)
    _audit(store, ev, action, purpose, patient_id, detail)
    return ev.decision


def require(store: Store, who: Principal | str, action: Action, **kwargs: Any) -> Decision:
    """:func:`authorise`, raising :class:`NotFound` on denial."""
    decision = authorise(store, who, action, **kwargs)
    if not decision.allowed:
        raise NotFound()
    return decision


def search_scope(store: Store, who: Principal | str, purpose: Purpose = Purpose.DIRECT_CARE,
                 action: Action = Action.SEARCH_PATIENTS,
                 detail: Mapping[str, Any] | None = None,
                 at: dt.datetime | None = None) -> PatientScope:
    """Audit a search/list/export and return the scope its query must be filtered by.

    An empty scope (nothing allowed) is returned rather than raised: a list is then simply empty.
    """
    ev = _evaluate(store, who, {"action": action, "purpose": purpose}, at)
    scope = scope_patients(ev.principal, purpose, ev.context, action) if ev.decision.allowed \
        else PatientScope()
    _audit(store, ev, action, purpose, None,
           {"practices": sorted(scope.practice_codes), **(detail or {})})
    return scope


def disclose_in_scope(store: Store, who: Principal | str,
                      select: Callable[[PatientScope], tuple[T, Iterable[int]]],
                      purpose: Purpose = Purpose.DIRECT_CARE,
                      action: Action = Action.SEARCH_PATIENTS,
                      detail: Mapping[str, Any] | None = None,
                      at: dt.datetime | None = None) -> T:
    """A search, list or export that shows patients: decide, take the scope, let ``select``
    build what will be shown (and say which patients it shows), then write the one audit event,
    naming every patient disclosed (``patient_id`` when one, ``detail.patient_ids`` always), so
    "who viewed my record" finds list views too (issue 16). When ``select`` raises (nothing is
    shown) the event is written all the same, naming nobody."""
    ev = _evaluate(store, who, {"action": action, "purpose": purpose}, at)
    scope = scope_patients(ev.principal, purpose, ev.context, action) if ev.decision.allowed \
        else PatientScope()
    base = {"practices": sorted(scope.practice_codes), **(detail or {})}
    try:
        result, shown = select(scope)
    except BaseException:
        _audit(store, ev, action, purpose, None, base)
        raise
    ids = sorted({int(p) for p in shown})
    _audit(store, ev, action, purpose, ids[0] if len(ids) == 1 else None,
           {**base, "patient_ids": ids} if ids else base)
    return result


def claim_break_glass(store: Store, who: Principal | str, patient_id: int,
                      patient_practices: frozenset[str], reason: str,
                      at: dt.datetime | None = None) -> BreakGlassGrant:
    """Emergency access to one patient: needs a reason, lasts a shift, flagged for review."""
    ev = _evaluate(store, who, {"action": Action.BREAK_GLASS, "purpose": Purpose.DIRECT_CARE,
                                "patient_id": patient_id,
                                "patient_practices": frozenset(patient_practices),
                                "reason": reason}, at)
    if not ev.decision.allowed:
        _audit(store, ev, Action.BREAK_GLASS, Purpose.DIRECT_CARE, patient_id,
               {"claimed_reason": reason.strip()})
        raise NotFound()
    grant = create_grant(store, ev.principal.username, patient_id, reason, at=ev.context.at)
    _audit(store, ev, Action.BREAK_GLASS, Purpose.DIRECT_CARE, patient_id,
           {"claimed_reason": reason.strip(), "grant_id": grant.grant_id,
            "expires_at": grant.expires_at.isoformat(), "flagged_for_review": True})
    return grant


def review_break_glass(store: Store, who: Principal | str, grant_id: int, outcome: str,
                       note: str = "") -> None:
    """Record a privacy review of a break-glass grant (reviewers: see ``review_break_glass``)."""
    require(store, who, Action.REVIEW_BREAK_GLASS, detail={"grant_id": grant_id,
                                                            "review_outcome": outcome})
    record_review(store, grant_id, who if isinstance(who, str) else who.username, outcome, note)


class MalformedSignIn(ValueError):
    """A sign-in whose name or password no account could have (a NUL or other control
    character, or far too long): refused as bad input (HTTP 400) after its audit event."""


#: Longest password accepted at sign-in (Argon2 hashes any length; this bounds the work).
MAX_PASSWORD_CHARS = 1024


def printable(text: str, limit: int = 64) -> str:
    """``text`` safe to store and show: control characters (NUL included) as ``\\xNN``."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)[:limit]


def sign_in(store: Store, username: str, password: str) -> Principal | None:
    """Check a password and audit the attempt (``sign_in``, ``ok`` or ``failed``, one event).

    A failure's event never says whether the name exists or which check failed. A name or
    password with control characters (PostgreSQL cannot even compare a NUL) is audited as a
    failed sign-in and raises :class:`MalformedSignIn` without touching the accounts table.
    """
    from pcn.store.accounts import authenticate

    name = username.strip().lower()
    if (not name.isprintable() or len(name) > 64 or not password.isprintable()
            or len(password) > MAX_PASSWORD_CHARS):
        _audit_sign_in(store, None, printable(name) or "unknown", "password",
                       problem="malformed")
        raise MalformedSignIn("the username or password contains characters no account has")
    principal = authenticate(store, username, password)
    _audit_sign_in(store, principal, name[:64], "password")
    return principal


def refused_sign_in(store: Store, username: str, problem: str) -> None:
    """Audit a sign-in refused before any check (e.g. a bad CSRF token): ``failed``, one event."""
    _audit_sign_in(store, None, printable(username.strip().lower()) or "unknown", "password",
                   problem=problem)


def sign_in_token(store: Store, token: str) -> Principal | None:
    """Check an API bearer token and audit the attempt; the token itself is never recorded."""
    from pcn.store.accounts import authenticate_token

    principal = authenticate_token(store, token)
    parts = token.strip().split("_", 2)
    selector = parts[1][:32] if len(parts) == 3 else ""
    _audit_sign_in(store, principal, "", "token", selector)
    return principal


def _audit_sign_in(store: Store, principal: Principal | None, username: str, method: str,
                   selector: str = "", problem: str = "") -> None:
    detail: dict[str, Any] = {"method": method}
    if selector:
        detail["token_selector"] = printable(selector, 32)
    if problem:
        detail["problem"] = problem
    audit.record(store, audit.Event(
        username=principal.username if principal else (username or "unknown"),
        role=principal.role.value if principal else "unknown",
        practice_code=principal.practice_code if principal else None,
        action="sign_in", outcome="ok" if principal else "failed", detail=detail))
