"""Outcome reports and caseloads (ADR 0152).

Per link worker, service and need: referrals, closed referrals, closed referrals with an
outcome recorded (ONS4 at both start and end) and that share; and the median change of each
ONS4 item on its own (never summed; for anxiety a fall is an improvement). A share or median
with nothing to count is ``None``, shown as "Not available".
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pcn.social.vocabulary import definitions
from pcn.store.models import SocialReferral


def has_outcome(r: SocialReferral) -> bool:
    return r.ons4_start is not None and r.ons4_end is not None


@dataclass(frozen=True)
class OutcomeRow:
    group: str
    referrals: int
    closed: int
    closed_with_outcome: int
    #: closed_with_outcome / closed; None when nothing is closed
    share_with_outcome: float | None
    #: ONS4 item key → median of (end - start) among referrals with both
    median_change: dict[str, float | None]


def _row(group: str, rows: Sequence[SocialReferral]) -> OutcomeRow:
    closed = [r for r in rows if r.status == "closed"]
    with_outcome = [r for r in closed if has_outcome(r)]
    changes: dict[str, float | None] = {}
    both = [r for r in rows if has_outcome(r)]
    for key in definitions().ons4_keys:
        deltas = [
            int(r.ons4_end[key]) - int(r.ons4_start[key])  # type: ignore[index]
            for r in both
        ]
        changes[key] = float(statistics.median(deltas)) if deltas else None
    return OutcomeRow(
        group=group,
        referrals=len(rows),
        closed=len(closed),
        closed_with_outcome=len(with_outcome),
        share_with_outcome=len(with_outcome) / len(closed) if closed else None,
        median_change=changes,
    )


def _grouped(
    rows: Iterable[SocialReferral], keys: Callable[[SocialReferral], Iterable[str]]
) -> list[OutcomeRow]:
    groups: dict[str, list[SocialReferral]] = {}
    for r in rows:
        for k in keys(r):
            groups.setdefault(k, []).append(r)
    return [_row(k, v) for k, v in sorted(groups.items())]


def outcome_report(
    rows: Sequence[SocialReferral], by: str, service_names: dict[str, str] | None = None
) -> list[OutcomeRow]:
    """``by``: ``link_worker``, ``service``, ``need`` or ``network`` (one row for all)."""
    names = service_names or {}
    terms = definitions().need_terms
    if by == "network":
        return [_row("All referrals", list(rows))]
    if by == "link_worker":
        return _grouped(rows, lambda r: [r.link_worker or "Not yet taken"])
    if by == "service":
        return _grouped(rows, lambda r: [names.get(s, s) for s in r.services] or ["No service yet"])
    if by == "need":
        return _grouped(rows, lambda r: [terms.get(n, n) for n in r.needs] or ["No need recorded"])
    raise ValueError(f"{by!r}: report by link_worker, service, need or network")


@dataclass(frozen=True)
class CaseloadRow:
    link_worker: str
    open: int
    referred_last_12_months: int
    waiting_first_contact: int
    #: median days from referral to first contact, among those contacted; None if none
    median_wait_days: float | None


def caseloads(rows: Sequence[SocialReferral], today: dt.date) -> list[CaseloadRow]:
    year_ago = today - dt.timedelta(days=365)
    groups: dict[str, list[SocialReferral]] = {}
    for r in rows:
        groups.setdefault(r.link_worker or "Not yet taken", []).append(r)
    out = []
    for worker, items in sorted(groups.items()):
        waits = [
            (r.first_contact_at - r.referred_at).total_seconds() / 86400
            for r in items
            if r.first_contact_at is not None
        ]
        out.append(
            CaseloadRow(
                link_worker=worker,
                open=sum(r.status == "open" for r in items),
                referred_last_12_months=sum(r.referred_at.date() > year_ago for r in items),
                waiting_first_contact=sum(
                    r.status == "open" and r.first_contact_at is None for r in items
                ),
                median_wait_days=round(statistics.median(waits), 1) if waits else None,
            )
        )
    return out
