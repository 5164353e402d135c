"""The access policy: one pure function decides every request for data or for an admin action.

Deny by default. A request is allowed only when *all* of these hold:

1. the user account is active;
2. the user's role grants the action (``ROLE_ACTIONS``);
3. for a patient-level action (``PATIENT_ACTIONS``), the purpose is a direct-care purpose and
   there is a *legitimate relationship* with the patient on the request date, one of:
   - the patient is registered at the user's own practice;
   - a live sharing agreement from the patient's practice to the user's organisation covers the
     purpose and the action (its data scope);
   - a live break-glass grant for this user and patient (``view_patient`` only, direct care only).

Everything else (aggregates, managing users or agreements, reviewing break-glass) needs 1 and 2.
The same rule, read practice by practice, gives :func:`scope_patients`, the filter applied to every
identifiable query, so a list can never show a patient that the per-patient check would refuse.

Denials are reported to the caller as "not found" (ADR 0051); the ``reason`` is for the audit trail
only. The policy reads nothing itself: the caller passes a fresh :class:`AccessContext` loaded from
the store on every request, which is what makes a revocation effective on the very next request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    CLINICAL_DIRECTOR = "clinical_director"
    PCN_MANAGER = "pcn_manager"
    PRACTICE_CLINICIAN = "practice_clinician"
    CARE_COORDINATOR = "care_coordinator"
    ANALYST = "analyst"
    ADMIN = "admin"
    #: A system that submits online consultation requests on patients' behalf (ADR 0080).
    INTEGRATION = "integration"


class Action(StrEnum):
    VIEW_PATIENT = "view_patient"
    SEARCH_PATIENTS = "search_patients"
    TRIAGE_WORK = "triage_work"
    EXPORT_IDENTIFIABLE = "export_identifiable"
    BREAK_GLASS = "break_glass"
    VIEW_AGGREGATES = "view_aggregates"
    EXPORT_AGGREGATES = "export_aggregates"
    MANAGE_USERS = "manage_users"
    MANAGE_AGREEMENTS = "manage_agreements"
    REVIEW_BREAK_GLASS = "review_break_glass"
    VIEW_AUDIT = "view_audit"
    #: Send in one online consultation request (it is triaged and queued; nothing is read).
    SUBMIT_TRIAGE_REQUEST = "submit_triage_request"


class Purpose(StrEnum):
    #: Care of an individual patient (GMC/Caldicott "direct care").
    DIRECT_CARE = "direct_care"
    #: Case finding and proactive care of a cohort by its care team (PHM for direct care).
    POPULATION_HEALTH = "population_health"
    #: Planning, evaluation and research: aggregates only; opt-outs apply.
    PLANNING = "planning"


class DataScope(StrEnum):
    #: See and work with patients: view, search/worklists, triage.
    VIEW = "view"
    #: Everything in ``view`` plus identifiable exports (CSV of a worklist, bulk extracts).
    VIEW_AND_EXPORT = "view_and_export"


#: Organisation code of staff employed by the PCN itself rather than by a member practice.
NETWORK = "network"

A = Action
ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.CLINICAL_DIRECTOR: frozenset({
        A.VIEW_PATIENT, A.SEARCH_PATIENTS, A.TRIAGE_WORK, A.EXPORT_IDENTIFIABLE, A.BREAK_GLASS,
        A.VIEW_AGGREGATES, A.EXPORT_AGGREGATES, A.MANAGE_AGREEMENTS, A.REVIEW_BREAK_GLASS,
        A.VIEW_AUDIT, A.SUBMIT_TRIAGE_REQUEST,
    }),
    Role.PCN_MANAGER: frozenset({
        A.VIEW_AGGREGATES, A.EXPORT_AGGREGATES, A.MANAGE_USERS, A.MANAGE_AGREEMENTS, A.VIEW_AUDIT,
    }),
    Role.PRACTICE_CLINICIAN: frozenset({
        A.VIEW_PATIENT, A.SEARCH_PATIENTS, A.TRIAGE_WORK, A.EXPORT_IDENTIFIABLE, A.BREAK_GLASS,
        A.VIEW_AGGREGATES, A.SUBMIT_TRIAGE_REQUEST,
    }),
    Role.CARE_COORDINATOR: frozenset({
        A.VIEW_PATIENT, A.SEARCH_PATIENTS, A.TRIAGE_WORK, A.VIEW_AGGREGATES,
        A.SUBMIT_TRIAGE_REQUEST,
    }),
    Role.ANALYST: frozenset({A.VIEW_AGGREGATES, A.EXPORT_AGGREGATES}),
    Role.ADMIN: frozenset({
        A.MANAGE_USERS, A.MANAGE_AGREEMENTS, A.REVIEW_BREAK_GLASS, A.VIEW_AUDIT,
    }),
    Role.INTEGRATION: frozenset({A.SUBMIT_TRIAGE_REQUEST}),
}

#: Actions about identifiable patients: they need a legitimate relationship.
PATIENT_ACTIONS = frozenset({
    A.VIEW_PATIENT, A.SEARCH_PATIENTS, A.TRIAGE_WORK, A.EXPORT_IDENTIFIABLE, A.BREAK_GLASS,
})
#: Purposes for which identifiable data may be used at all.
IDENTIFIABLE_PURPOSES = frozenset({Purpose.DIRECT_CARE, Purpose.POPULATION_HEALTH})
#: Which patient actions each agreement data scope covers (break-glass is never by agreement).
SCOPE_ACTIONS: dict[DataScope, frozenset[Action]] = {
    DataScope.VIEW: frozenset({A.VIEW_PATIENT, A.SEARCH_PATIENTS, A.TRIAGE_WORK}),
    DataScope.VIEW_AND_EXPORT: frozenset({
        A.VIEW_PATIENT, A.SEARCH_PATIENTS, A.TRIAGE_WORK, A.EXPORT_IDENTIFIABLE,
    }),
}
#: Roles whose holders are practice staff and therefore must name their practice.
PRACTICE_ROLES = frozenset({Role.PRACTICE_CLINICIAN})


@dataclass(frozen=True)
class Principal:
    """Who is asking, as read from the store for this request."""

    username: str
    role: Role
    practice_code: str | None
    active: bool = True

    @property
    def organisation(self) -> str:
        return self.practice_code or NETWORK


@dataclass(frozen=True)
class Agreement:
    """A data-sharing agreement: patients of ``from_practices`` may be seen by ``to_orgs`` staff."""

    agreement_id: int
    from_practices: frozenset[str]
    to_orgs: frozenset[str]
    data_scope: DataScope
    purpose: Purpose
    valid_from: dt.date
    valid_to: dt.date | None = None
    revoked_at: dt.datetime | None = None

    def live_on(self, at: dt.datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= at:
            return False
        day = at.date()
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class BreakGlassGrant:
    grant_id: int
    username: str
    patient_id: int
    granted_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None

    def live_on(self, at: dt.datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= at:
            return False
        return self.granted_at <= at < self.expires_at


@dataclass(frozen=True)
class AccessContext:
    """Everything the policy needs besides the request, loaded fresh for each request."""

    at: dt.datetime
    agreements: tuple[Agreement, ...] = ()
    grants: tuple[BreakGlassGrant, ...] = ()


@dataclass(frozen=True)
class Request:
    principal: Principal
    action: Action
    purpose: Purpose = Purpose.DIRECT_CARE
    patient_id: int | None = None
    #: Practices the patient is registered at on the request date (empty: not registered anywhere).
    patient_practices: frozenset[str] = field(default_factory=frozenset)
    #: Break-glass claims only: the reason the user gave.
    reason: str = ""
    #: ``triage_work`` on one online consultation request: ``patient_practices`` holds the
    #: practice it was sent to (``NETWORK`` when unallocated), ``patient_id`` its matched patient
    #: if any. Decided practice by practice like a patient (ADR 0080).
    triage_request: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    #: Why, for the audit trail only: never shown to the user (a denial looks like "not found").
    reason: str
    #: What made it lawful: ``role``, ``own_practice``, ``agreement:<id>`` or ``break_glass:<id>``.
    basis: str = ""


#: Shortest break-glass reason accepted; a reason must say something a reviewer can check.
MIN_BREAK_GLASS_REASON = 10


#: Actions that may name no patient: they return many rows, limited by ``scope_patients``.
#: (``triage_work`` without a patient is the triage queue.)
LIST_ACTIONS = frozenset({Action.SEARCH_PATIENTS, Action.EXPORT_IDENTIFIABLE, Action.TRIAGE_WORK})


def decide(request: Request, context: AccessContext) -> Decision:
    """Allow or deny one request. The only place an access decision is made."""
    p = request.principal
    if not p.active:
        return Decision(False, "account disabled")
    if request.action not in ROLE_ACTIONS.get(p.role, frozenset()):
        return Decision(False, f"role {p.role} may not {request.action}")
    if request.action not in PATIENT_ACTIONS:
        return Decision(True, "allowed by role", "role")
    if request.purpose not in IDENTIFIABLE_PURPOSES:
        return Decision(False, f"purpose {request.purpose} does not allow identifiable data")

    if request.action == Action.BREAK_GLASS:
        if request.purpose != Purpose.DIRECT_CARE:
            return Decision(False, "break-glass is for direct care only")
        if len(request.reason.strip()) < MIN_BREAK_GLASS_REASON:
            return Decision(False, "break-glass needs a reason")
        if request.patient_id is None or not request.patient_practices:
            return Decision(False, "no such patient")
        return Decision(True, "break-glass claimed", "break_glass")

    if request.action == Action.TRIAGE_WORK and request.triage_request:
        if not request.patient_practices:
            return Decision(False, "no such triage request")
        for practice in sorted(request.patient_practices):
            basis = _practice_basis(p, practice, request.action, request.purpose, context)
            if basis:
                return Decision(True, "legitimate relationship", basis)
        return Decision(False, "no legitimate relationship")

    if request.action not in LIST_ACTIONS and request.patient_id is None:
        return Decision(False, "no patient named")
    if request.patient_id is None:
        # A search or a list export: allowed when the user can see (or export) some practice at
        # all; the rows are then limited by scope_patients for that action.
        scope = scope_patients(p, request.purpose, context, request.action)
        if scope.is_empty:
            return Decision(False, "no practice in scope")
        return Decision(True, "search within scope", "scope")

    for practice in sorted(request.patient_practices):
        basis = _practice_basis(p, practice, request.action, request.purpose, context)
        if basis:
            return Decision(True, "legitimate relationship", basis)
    if request.action == Action.VIEW_PATIENT and request.purpose == Purpose.DIRECT_CARE:
        for grant in context.grants:
            if (grant.username == p.username and grant.patient_id == request.patient_id
                    and request.patient_practices and grant.live_on(context.at)):
                return Decision(True, "break-glass grant", f"break_glass:{grant.grant_id}")
    if not request.patient_practices:
        return Decision(False, "no such patient")
    return Decision(False, "no legitimate relationship")


def _practice_basis(p: Principal, practice: str, action: Action, purpose: Purpose,
                    context: AccessContext) -> str:
    """Why ``p`` may do ``action`` on patients of ``practice``, or "" when nothing allows it.

    ``practice`` is ``NETWORK`` only for an unallocated triage request: the PCN's own staff
    (organisation ``NETWORK``) may work those (``triage_work`` only)."""
    if p.practice_code is not None and p.practice_code == practice:
        return "own_practice"
    if action == Action.TRIAGE_WORK and practice == NETWORK and p.organisation == NETWORK:
        return "own_practice"
    for a in context.agreements:
        if practice in a.from_practices and _agreement_covers(p, a, action, purpose, context.at):
            return f"agreement:{a.agreement_id}"
    return ""


@dataclass(frozen=True)
class PatientScope:
    """Which patients an identifiable query may return: whole practices plus single patients.

    Apply it to every identifiable query: :meth:`ibis_filter` for Ibis tables (e.g.
    ``patient_profile``), :meth:`sql_filter` for hand-written DuckDB SQL, :meth:`allows` in Python.
    The table must carry the patient's *current* ``practice_code`` and ``patient_id``.
    """

    practice_codes: frozenset[str] = frozenset()
    patient_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not self.practice_codes and not self.patient_ids

    def allows(self, patient_id: int, practice_codes: frozenset[str] | set[str]) -> bool:
        return bool(self.practice_codes & set(practice_codes)) or (
            bool(practice_codes) and patient_id in self.patient_ids)

    def ibis_filter(self, table: Any, practice_column: str = "practice_code",
                    patient_column: str = "patient_id") -> Any:
        """A boolean Ibis expression for ``table.filter(...)``; false for everybody when empty."""
        import ibis

        predicate = ibis.literal(False)
        if self.practice_codes:
            predicate = predicate | table[practice_column].isin(sorted(self.practice_codes))
        if self.patient_ids:
            predicate = predicate | table[patient_column].isin(sorted(self.patient_ids))
        return predicate

    def sql_filter(self, practice_column: str = "practice_code",
                   patient_column: str = "patient_id") -> tuple[str, list[object]]:
        """A SQL predicate with ``?`` placeholders and its parameters (DuckDB/SQLite style)."""
        parts: list[str] = []
        params: list[object] = []
        if self.practice_codes:
            codes = sorted(self.practice_codes)
            parts.append(f"{practice_column} IN ({', '.join('?' * len(codes))})")
            params.extend(codes)
        if self.patient_ids:
            ids = sorted(self.patient_ids)
            parts.append(f"{patient_column} IN ({', '.join('?' * len(ids))})")
            params.extend(ids)
        return ("(" + " OR ".join(parts) + ")" if parts else "FALSE"), params


def scope_patients(principal: Principal, purpose: Purpose, context: AccessContext,
                   action: Action = Action.SEARCH_PATIENTS) -> PatientScope:
    """The patients ``principal`` may see for ``purpose``: the filter for every identifiable query.

    Built from the same per-practice rule as :func:`decide`, so for any patient registered at
    practice X, ``scope.allows(patient, {X})`` equals ``decide(...).allowed`` for ``action``.
    Break-glass grants add single patients for ``view_patient`` in direct care only.
    """
    if not principal.active or action not in ROLE_ACTIONS.get(principal.role, frozenset()):
        return PatientScope()
    if action not in PATIENT_ACTIONS or action == Action.BREAK_GLASS:
        return PatientScope()
    if purpose not in IDENTIFIABLE_PURPOSES:
        return PatientScope()
    practices: set[str] = set()
    if principal.practice_code is not None:
        practices.add(principal.practice_code)
    if action == Action.TRIAGE_WORK:  # network staff work the unallocated requests (NETWORK)
        practices.add(principal.organisation)
    for a in context.agreements:
        if _agreement_covers(principal, a, action, purpose, context.at):
            practices.update(a.from_practices)
    patient_ids: set[int] = set()
    if action == Action.VIEW_PATIENT and purpose == Purpose.DIRECT_CARE:
        patient_ids = {g.patient_id for g in context.grants
                       if g.username == principal.username and g.live_on(context.at)}
    return PatientScope(frozenset(practices), frozenset(patient_ids))


def _agreement_covers(p: Principal, a: Agreement, action: Action, purpose: Purpose,
                      at: dt.datetime) -> bool:
    """Does agreement ``a`` let ``p``'s organisation do ``action`` for ``purpose`` at ``at``?"""
    return (p.organisation in a.to_orgs and a.purpose == purpose
            and action in SCOPE_ACTIONS[a.data_scope] and a.live_on(at))
