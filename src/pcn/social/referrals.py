"""Social prescribing referrals and link-worker caseloads on the one work model (ADR 0152).

A referral is two pieces of work: the referrer's task closed ``done`` with SNOMED
871731000000106 (written into the record by the task write-back, ADR 0110), and a new caseload
task (source ``social_prescribing``) for the link workers' queue. The link worker's record of the
person (what matters, needs, contacts, services referred to, ONS4 wellbeing at start and end)
sits beside the caseload task in ``social_referrals``. A person who declines: the referrer's
task is closed ``declined`` with 871711000000103 and no caseload task is made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pcn.access.policy import Principal
from pcn.social.vocabulary import definitions
from pcn.store.database import Store, now_utc
from pcn.store.models import SocialReferral, Task
from pcn.tasks import service
from pcn.tasks.service import PracticesOf, TaskChange, TaskError

ROUTES = ("task", "worklist", "triage", "manual")
ROUTE_TEXT = {
    "task": "From a task",
    "worklist": "From a worklist",
    "triage": "From an online request",
    "manual": "Referred by staff",
}
CONTACT_MODES = ("phone", "face_to_face", "video", "text")
CONTACT_MODE_TEXT = {
    "phone": "Phone call",
    "face_to_face": "Face to face",
    "video": "Video call",
    "text": "Text message",
}
LINK_WORKER_QUEUE = "social_prescriber"
KIND = "social_prescribing"


class ReferralError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Referred:
    referral_id: int | None
    caseload_task_id: int | None
    referring_task_id: int


def _needs(needs: tuple[str, ...] | list[str]) -> list[str]:
    known = definitions().need_terms
    unknown = [n for n in needs if n not in known]
    if unknown:
        raise ReferralError("needs", f"{unknown[0]!r} is not a need this network records")
    return sorted(set(needs))


def refer(
    store: Store,
    who: Principal,
    *,
    patient_id: int,
    route: str,
    reason: str,
    practices_of: PracticesOf,
    from_task_id: int | None = None,
    needs: tuple[str, ...] = (),
    declined: bool = False,
    today: dt.date | None = None,
) -> Referred:
    """Refer a person to social prescribing (or record that they declined)."""
    if route not in ROUTES:
        raise ReferralError("route", f"{route!r} is not one of {', '.join(ROUTES)}")
    if not reason.strip():
        raise ReferralError("reason", "say why the person is being referred")
    chosen = _needs(needs)
    codes = definitions().codes
    if (
        from_task_id is not None
        and service.get_unaudited(store, from_task_id).source == "triage_request"
    ):
        # An online request's task closes only from the triage queue, after review (ADR
        # 0110): the referral is recorded on a task of its own and the request stays open.
        from_task_id = None
    if from_task_id is None:
        made = service.create(
            store,
            who,
            service.NewTask(
                patient_id=patient_id,
                kind="social_prescribing_referral",
                reason=reason,
                source="social_prescribing",
                priority="routine",
            ),
            practices_of=practices_of,
            worklists={},
        )
        from_task_id = made.id
    code = codes.declined if declined else codes.referred
    service.update(
        store,
        who,
        from_task_id,
        TaskChange(
            status="declined" if declined else "done", outcome_code=code.code, outcome_text=reason
        ),
        practices_of=practices_of,
        today=today,
    )
    if declined:
        return Referred(None, None, from_task_id)
    caseload = service.create(
        store,
        who,
        service.NewTask(
            patient_id=patient_id,
            kind=KIND,
            reason=f"Social prescribing: {reason}",
            source="social_prescribing",
            source_ref=f"referral-from-task:{from_task_id}",
            priority="routine",
            owner=LINK_WORKER_QUEUE,
        ),
        practices_of=practices_of,
        worklists={},
    )
    with store.session() as session:
        task = session.get(Task, caseload.id)
        row = SocialReferral(
            task_id=caseload.id,
            patient_id=patient_id,
            practice_code=task.practice_code if task else None,
            referred_by=who.username,
            referred_at=now_utc(),
            route=route,
            link_worker=None,
            first_contact_at=None,
            what_matters=None,
            needs=chosen,
            services=[],
            contacts=[],
            ons4_start=None,
            ons4_end=None,
            status="open",
            closed_at=None,
        )
        session.add(row)
        session.flush()
        referral_id = row.id
    return Referred(referral_id, caseload.id, from_task_id)


def _row(session: Any, referral_id: int) -> SocialReferral:
    row = session.get(SocialReferral, referral_id)
    if row is None:
        raise ReferralError("referral", f"there is no referral {referral_id}")
    return row


def _authorise(
    store: Store, who: Principal, referral_id: int, practices_of: PracticesOf, op: str
) -> SocialReferral:
    with store.read() as session:
        row = _row(session, referral_id)
    service.authorise_task(
        store, who, row.task_id, op=op, practices_of=practices_of, route="social"
    )
    return row


def take(store: Store, who: Principal, referral_id: int, *, practices_of: PracticesOf) -> None:
    """The link worker takes the person onto their caseload (the task becomes theirs)."""
    row = _authorise(store, who, referral_id, practices_of, "update")
    if row.status != "open":
        raise ReferralError("referral", "this referral is closed")
    service.update(
        store,
        who,
        row.task_id,
        TaskChange(status="in_progress", owner=who.username),
        practices_of=practices_of,
    )
    with store.session() as session:
        _row(session, referral_id).link_worker = who.username


def record_contact(
    store: Store,
    who: Principal,
    referral_id: int,
    *,
    mode: str,
    note: str = "",
    what_matters: str | None = None,
    needs: tuple[str, ...] | None = None,
    services: tuple[str, ...] = (),
    practices_of: PracticesOf,
    at: dt.datetime | None = None,
) -> None:
    """A conversation with the person: the first one sets the waiting time."""
    if mode not in CONTACT_MODES:
        raise ReferralError("mode", f"{mode!r} is not one of {', '.join(CONTACT_MODES)}")
    _authorise(store, who, referral_id, practices_of, "update")
    when = at or now_utc()
    with store.session() as session:
        row = _row(session, referral_id)
        if row.status != "open":
            raise ReferralError("referral", "this referral is closed")
        row.contacts = [
            *row.contacts,
            {"at": when.isoformat(), "mode": mode, "note": note.strip(), "by": who.username},
        ]
        if row.first_contact_at is None or when < row.first_contact_at:
            row.first_contact_at = when
        if what_matters is not None and what_matters.strip():
            row.what_matters = what_matters.strip()
        if needs is not None:
            row.needs = _needs(needs)
        if services:
            row.services = sorted({*row.services, *services})


def parse_ons4(answers: dict[str, Any]) -> dict[str, int]:
    """The four answers, each a whole number 0-10 (every item required; never summed)."""
    scale = definitions().ons4.scale
    out: dict[str, int] = {}
    for item in definitions().ons4.items:
        raw = answers.get(item.key)
        if raw is None or str(raw).strip() == "":
            raise ReferralError(item.key, f"choose a score for '{item.question}'")
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ReferralError(item.key, f"{raw!r} is not a whole number") from None
        if not scale.minimum <= value <= scale.maximum:
            raise ReferralError(
                item.key, f"{value} is not between {scale.minimum} and {scale.maximum}"
            )
        out[item.key] = value
    return out


def record_ons4(
    store: Store,
    who: Principal,
    referral_id: int,
    *,
    when: str,
    answers: dict[str, Any],
    practices_of: PracticesOf,
) -> None:
    """ONS4 at the ``start`` or the ``end`` of support."""
    if when not in ("start", "end"):
        raise ReferralError("when", "ONS4 is recorded at the start or the end")
    scores = parse_ons4(answers)
    _authorise(store, who, referral_id, practices_of, "update")
    with store.session() as session:
        row = _row(session, referral_id)
        stamped = {**scores, "recorded_at": now_utc().isoformat(), "by": who.username}
        if when == "start":
            row.ons4_start = stamped
        else:
            row.ons4_end = stamped


def close(
    store: Store,
    who: Principal,
    referral_id: int,
    *,
    outcome_text: str,
    practices_of: PracticesOf,
    status: str = "done",
) -> None:
    """End support: the caseload task is closed (its history keeps who and when)."""
    row = _authorise(store, who, referral_id, practices_of, "update")
    if row.status != "open":
        raise ReferralError("referral", "this referral is already closed")
    if not outcome_text.strip():
        raise ReferralError("outcome_text", "say how support ended")
    try:
        service.update(
            store,
            who,
            row.task_id,
            TaskChange(status=status, outcome_text=outcome_text),
            practices_of=practices_of,
        )
    except TaskError as e:
        raise ReferralError("status", str(e)) from None
    with store.session() as session:
        held = _row(session, referral_id)
        held.status = "closed"
        held.closed_at = now_utc()


def referrals(
    store: Store, *, link_worker: str | None = None, status: str | None = None
) -> list[SocialReferral]:
    query = select(SocialReferral).order_by(SocialReferral.referred_at, SocialReferral.id)
    if link_worker is not None:
        query = query.where(SocialReferral.link_worker == link_worker)
    if status is not None:
        query = query.where(SocialReferral.status == status)
    with store.read() as session:
        return list(session.scalars(query))
