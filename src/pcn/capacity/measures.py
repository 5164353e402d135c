"""Access measures from the online requests: answered within one working day, same-day urgent,
and requests received in online-consultation hours (GP contract 2025/26), per practice and month.

A request is *answered* when a clinician reviewed it (accepted or overrode triage's decision):
that is when the practice knows what it will do and can tell the patient. Working days are
Monday to Friday less bank holidays in England; a request received outside 08:00-18:30 or on a
non-working day starts its clock at 08:00 on the next working day. Funnel plots and monthly SPC
reuse :mod:`pcn.measures.funnel` and :mod:`pcn.measures.spc` (ADR 0124: SPC on independent
months). Counts pass the disclosure module where shown outside the clinical boundary.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pcn.capacity.definitions import CapacityDefinitions, load_definitions
from pcn.capacity.rota import england_bank_holidays

MEASURES = {
    "answered_within_working_day": "Requests answered within one working day",
    "urgent_answered_same_day": "Urgent requests answered the same working day",
    "received_in_core_hours": "Requests received 08:00 to 18:30 on working days",
}


def _working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    holidays = england_bank_holidays(start, end)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    return [d for d in days if d.weekday() < 5 and d not in holidays]


def clock_start(
    received: dt.datetime, working: list[dt.date], definitions: CapacityDefinitions | None = None
) -> dt.datetime:
    """When the working-day clock starts for a request received at ``received``."""
    d = definitions or load_definitions()
    opens, closes = d.online_hours
    day = received.date()
    if day in working and opens <= received.time() < closes:
        return received
    if day in working and received.time() < opens:
        return dt.datetime.combine(day, opens)
    later = [w for w in working if w > day]
    if not later:
        raise ValueError(f"no working day after {day:%d %B %Y} in the calendar given")
    return dt.datetime.combine(later[0], opens)


def deadline(
    start: dt.datetime,
    working: list[dt.date],
    working_days: int,
    definitions: CapacityDefinitions | None = None,
) -> dt.datetime:
    """The end of the working day ``working_days`` after the clock starts."""
    d = definitions or load_definitions()
    index = working.index(start.date())
    if index + working_days >= len(working):
        raise ValueError("calendar too short for the deadline")
    return dt.datetime.combine(working[index + working_days], d.online_hours[1])


def request_measures(
    requests: pd.DataFrame, now: dt.datetime, definitions: CapacityDefinitions | None = None
) -> pd.DataFrame:
    """Per request: month, practice and each measure's 0/1 (NaN where not yet decidable).

    ``requests``: practice_code, received_at, reviewed_at (None if not yet), urgency.
    A request not yet answered whose deadline has not passed is left out of the denominator.
    """
    d = definitions or load_definitions()
    cols = ["practice_code", "month", *MEASURES]
    if requests.empty:
        return pd.DataFrame(columns=cols)
    first = min(requests["received_at"]).date()
    working = _working_days(first, now.date() + dt.timedelta(days=40))
    rows = []
    for r in requests.itertuples():
        received = _timestamp(r.received_at)
        reviewed = None if pd.isna(r.reviewed_at) else _timestamp(r.reviewed_at)  # type: ignore[arg-type]
        start = clock_start(received, working, d)
        in_hours = float(
            received.date() in working and d.online_hours[0] <= received.time() < d.online_hours[1]
        )
        within = _within(
            start, reviewed, deadline(start, working, d.answer_within_working_days, d), now
        )
        same_day = np.nan
        if r.urgency == "urgent":
            same_day = _within(start, reviewed, deadline(start, working, 0, d), now)
        rows.append(
            {
                "practice_code": r.practice_code or "PCN",
                "month": received.strftime("%Y-%m"),
                "answered_within_working_day": within,
                "urgent_answered_same_day": same_day,
                "received_in_core_hours": in_hours,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _timestamp(value: object) -> dt.datetime:
    """A received/reviewed time as a plain datetime (pandas hands back Timestamps)."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value
    raise TypeError(f"{value!r} is not a date and time")


def _within(
    start: dt.datetime, reviewed: dt.datetime | None, due: dt.datetime, now: dt.datetime
) -> float:
    if reviewed is not None:
        return float(reviewed <= due)
    return 0.0 if now > due else np.nan


def by_practice(per_request: pd.DataFrame, measure: str) -> pd.DataFrame:
    """practice_code, numerator, denominator for one measure (decidable requests only)."""
    known = per_request[per_request[measure].notna()]
    grouped = known.groupby("practice_code")[measure].agg(["sum", "count"]).reset_index()
    return grouped.rename(columns={"sum": "numerator", "count": "denominator"}).astype(
        {"numerator": int, "denominator": int}
    )


def monthly(per_request: pd.DataFrame, measure: str) -> pd.DataFrame:
    """month, numerator, denominator, proportion for one measure (network)."""
    known = per_request[per_request[measure].notna()]
    grouped = known.groupby("month")[measure].agg(["sum", "count"]).reset_index()
    grouped = grouped.rename(columns={"sum": "numerator", "count": "denominator"})
    grouped["proportion"] = grouped["numerator"] / grouped["denominator"]
    return grouped


def read_requests(store: object, since: dt.datetime) -> pd.DataFrame:
    """Online requests received since ``since`` from the operational store."""
    from sqlalchemy import select

    from pcn.store.database import Store
    from pcn.store.models import TriageRequestRow

    assert isinstance(store, Store)
    with store.read() as session:
        rows = session.execute(
            select(
                TriageRequestRow.practice_code,
                TriageRequestRow.received_at,
                TriageRequestRow.reviewed_at,
                TriageRequestRow.urgency,
                TriageRequestRow.final_urgency,
            ).where(TriageRequestRow.received_at >= since)
        ).all()
    frame = pd.DataFrame(
        rows, columns=["practice_code", "received_at", "reviewed_at", "urgency", "final_urgency"]
    )
    frame["urgency"] = frame["final_urgency"].fillna(frame["urgency"])
    return frame.drop(columns="final_urgency")


def access_summary(per_request: pd.DataFrame, measure: str) -> tuple[pd.DataFrame, object]:
    """Per practice (with funnel position against the network) and the network's monthly XmR
    chart for one measure; the chart is None with fewer than two months."""
    from pcn.measures.funnel import funnel
    from pcn.measures.spc import xmr

    units = by_practice(per_request, measure)
    if units.empty or units["denominator"].sum() == 0:
        return units.assign(value=np.nan, position="no_data"), None
    points, _curve = funnel(units, kind="proportion")
    months = monthly(per_request, measure)
    chart = (
        xmr(months["proportion"], list(months["month"]), low_is_good=False)
        if len(months) >= 2
        else None
    )
    return points, chart
