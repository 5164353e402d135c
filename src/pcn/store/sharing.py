"""Sharing agreements and break-glass grants as stored, and the access context built from them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from pcn.access.policy import (
    NETWORK,
    AccessContext,
    Agreement,
    BreakGlassGrant,
    DataScope,
    Purpose,
)
from pcn.store.accounts import PRACTICE_PATTERN, AccountError, _user
from pcn.store.database import Store, now_utc
from pcn.store.models import BreakGlassGrant as GrantRow
from pcn.store.models import SharingAgreement, User

#: How long a break-glass grant lasts: one working shift.
BREAK_GLASS_HOURS = 8
REVIEW_OUTCOMES = ("appropriate", "inappropriate")


class SharingError(ValueError):
    """Bad agreement or grant input (names the field and why)."""


def _org_code(value: str, field: str, allow_network: bool) -> str:
    code = value.strip()
    if allow_network and code.lower() == NETWORK:
        return NETWORK
    code = code.upper()
    if not PRACTICE_PATTERN.match(code):
        raise SharingError(f"{field}: {value!r} is not an ODS practice code"
                           + (f" or {NETWORK!r}" if allow_network else ""))
    return code


def add_agreement(store: Store, *, from_practices: list[str], to_orgs: list[str],
                  data_scope: str, purpose: str, valid_from: dt.date,
                  valid_to: dt.date | None = None, reference: str = "",
                  created_by: str = "system") -> Agreement:
    """Record an agreement letting ``to_orgs`` staff see patients of ``from_practices``."""
    if not from_practices or not to_orgs:
        raise SharingError("an agreement needs at least one practice on each side")
    sources = sorted({_org_code(c, "from", False) for c in from_practices})
    targets = sorted({_org_code(c, "to", True) for c in to_orgs})
    if data_scope not in {s.value for s in DataScope}:
        raise SharingError(f"data scope {data_scope!r} is not one of "
                           f"{', '.join(s.value for s in DataScope)}")
    if purpose not in {p.value for p in Purpose}:
        raise SharingError(f"purpose {purpose!r} is not one of "
                           f"{', '.join(p.value for p in Purpose)}")
    if valid_to is not None and valid_to < valid_from:
        raise SharingError(f"valid_to {valid_to} is before valid_from {valid_from}")
    with store.session() as session:
        row = SharingAgreement(reference=reference.strip(), from_practices=sources, to_orgs=targets,
                               data_scope=data_scope, purpose=purpose, valid_from=valid_from,
                               valid_to=valid_to, created_by=created_by, created_at=now_utc())
        session.add(row)
        session.flush()
        return _agreement(row)


def _agreement(row: SharingAgreement) -> Agreement:
    return Agreement(row.id, frozenset(row.from_practices), frozenset(row.to_orgs),
                     DataScope(row.data_scope), Purpose(row.purpose), row.valid_from, row.valid_to,
                     row.revoked_at)


def revoke_agreement(store: Store, agreement_id: int, revoked_by: str) -> None:
    """End an agreement now; the next request is decided without it."""
    with store.session() as session:
        row = session.get(SharingAgreement, agreement_id)
        if row is None:
            raise SharingError(f"no sharing agreement {agreement_id}")
        if row.revoked_at is None:
            row.revoked_at = now_utc()
            row.revoked_by = revoked_by


def list_agreements(store: Store, include_revoked: bool = True) -> list[tuple[Agreement, str]]:
    """Each agreement with its reference."""
    with store.read() as session:
        query = select(SharingAgreement).order_by(SharingAgreement.id)
        if not include_revoked:
            query = query.where(SharingAgreement.revoked_at.is_(None))
        return [(_agreement(r), r.reference) for r in session.scalars(query)]


def create_grant(store: Store, username: str, patient_id: int, reason: str,
                 at: dt.datetime | None = None) -> BreakGlassGrant:
    """Store a break-glass grant (the caller has already had it allowed by the policy)."""
    granted_at = at or now_utc()
    with store.session() as session:
        user = _user(session, username)
        row = GrantRow(user_id=user.id, patient_id=patient_id, reason=reason.strip(),
                       granted_at=granted_at,
                       expires_at=granted_at + dt.timedelta(hours=BREAK_GLASS_HOURS))
        session.add(row)
        session.flush()
        return BreakGlassGrant(row.id, user.username, patient_id, row.granted_at, row.expires_at)


@dataclass(frozen=True)
class GrantForReview:
    grant_id: int
    username: str
    patient_id: int
    reason: str
    granted_at: dt.datetime
    reviewed_by: str | None
    review_outcome: str | None


def grants_to_review(store: Store, include_reviewed: bool = False) -> list[GrantForReview]:
    """Break-glass grants flagged for review (all unreviewed ones, oldest first)."""
    with store.read() as session:
        query = (select(GrantRow, User.username).join(User, User.id == GrantRow.user_id)
                 .order_by(GrantRow.granted_at, GrantRow.id))
        if not include_reviewed:
            query = query.where(GrantRow.reviewed_at.is_(None))
        return [GrantForReview(g.id, name, g.patient_id, g.reason, g.granted_at, g.reviewed_by,
                               g.review_outcome) for g, name in session.execute(query)]


def record_review(store: Store, grant_id: int, reviewer: str, outcome: str, note: str = "") -> None:
    if outcome not in REVIEW_OUTCOMES:
        raise SharingError(f"review outcome must be one of {REVIEW_OUTCOMES}")
    with store.session() as session:
        row = session.get(GrantRow, grant_id)
        if row is None:
            raise SharingError(f"no break-glass grant {grant_id}")
        grantee = session.get(User, row.user_id)
        if grantee is not None and grantee.username == reviewer:
            raise SharingError("a break-glass grant is reviewed by someone else")
        if row.reviewed_at is not None:
            raise SharingError(f"grant {grant_id} was already reviewed by {row.reviewed_by}")
        row.reviewed_by, row.reviewed_at = reviewer, now_utc()
        row.review_outcome, row.review_note = outcome, note.strip()
        if outcome == "inappropriate":
            row.revoked_at = row.revoked_at or row.reviewed_at


def load_context(store: Store, username: str, at: dt.datetime | None = None) -> AccessContext:
    """The access context for one request: every agreement, and this user's live grants."""
    at = at or now_utc()
    with store.read() as session:
        agreements = tuple(_agreement(r) for r in session.scalars(
            select(SharingAgreement).where(or_(SharingAgreement.revoked_at.is_(None),
                                               SharingAgreement.revoked_at > at))))
        rows = session.execute(
            select(GrantRow, User.username).join(User, User.id == GrantRow.user_id)
            .where(User.username == username, GrantRow.expires_at > at))
        grants = tuple(BreakGlassGrant(g.id, name, g.patient_id, g.granted_at, g.expires_at,
                                       g.revoked_at) for g, name in rows)
    return AccessContext(at=at, agreements=agreements, grants=grants)


__all__ = ["AccountError", "SharingError", "add_agreement", "create_grant", "grants_to_review",
           "list_agreements", "load_context", "record_review", "revoke_agreement"]
