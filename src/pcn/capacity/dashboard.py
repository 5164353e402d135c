"""What the access dashboard shows: today, this week, the trend, the forecast and staffing.

Built from the same :func:`pcn.capacity.report.capacity_report` table as the CLI, so the page
and the CSV never disagree. "Today" is the record's date (the twin's as_of).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pcn.capacity.definitions import load_definitions
from pcn.capacity.queueing import servers_needed
from pcn.capacity.report import CapacityInputs, capacity_report, is_twin, read_inputs, rota_for
from pcn.capacity.rota import RotaException
from pcn.record.store import Record
from pcn.record.vocab import ROLES

TREND_WEEKS = 12
#: Core hours a day (08:00-18:30) over which same-day demand arrives, for Erlang C.
CORE_HOURS_PER_DAY = 10.5
WORKING_DAYS_PER_WEEK = 5


@dataclass(frozen=True)
class AccessDashboard:
    today: dt.date
    week_start: dt.date
    #: per practice x role for today: capacity, booked and free (negative = over) minutes
    today_rows: pd.DataFrame
    #: per practice x role for this week (Monday to today)
    week_rows: pd.DataFrame
    #: per week (network): demand and capacity minutes, last 12 weeks
    trend: pd.DataFrame
    #: per week x role (network): forecast with interval, next 8 weeks
    forecast: pd.DataFrame
    #: per role: Erlang C staffing for next week's forecast demand
    staffing: pd.DataFrame
    #: the Erlang C assumptions, in words, shown beside the staffing figures
    assumptions: list[str]


def role_title(role: str) -> str:
    return str(ROLES.get(role, {}).get("title", role.replace("_", " ").capitalize()))


def _position(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["free_minutes"] = out["capacity_minutes"] - out["booked_minutes"]
    out["position"] = np.where(
        out["free_minutes"] < 0,
        "over",
        np.where(out["capacity_minutes"] == 0, "nobody working", "free"),
    )
    out["role_title"] = out["role"].map(role_title)
    return out


def build_dashboard(
    record: Record,
    practice: str | None = None,
    recorded: list[RotaException] | None = None,
    excluded: frozenset[int] = frozenset(),
    inputs: CapacityInputs | None = None,
) -> AccessDashboard:
    """The dashboard for the whole network, or for one practice when ``practice`` is given."""
    d = load_definitions()
    inputs = inputs or read_inputs(record)
    today = inputs.as_of
    week_start = today - dt.timedelta(days=today.weekday())
    start = week_start - dt.timedelta(weeks=TREND_WEEKS)
    end = week_start + dt.timedelta(weeks=9) - dt.timedelta(days=1)
    table = capacity_report(record, start, end, recorded or [], inputs=inputs, excluded=excluded)
    if practice is not None:
        table = table[table["practice_code"] == practice]
    known = table[table["date"] <= today].copy()
    known["booked_minutes"] = known["booked_minutes"].astype(float)
    known["demand_requests"] = known["demand_requests"].astype(float)
    keys = ["practice_code", "role"]
    sums = ["capacity_minutes", "booked_minutes", "demand_requests"]
    today_rows = _position(known[known["date"] == today][keys + sums])
    this_week = known[known["date"] >= week_start].groupby(keys, as_index=False)[sums].sum()
    week_rows = _position(this_week)

    dates = pd.to_datetime(known["date"])
    known["week"] = (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.date
    trend = known[known["week"] < week_start].groupby("week", as_index=False)[sums].sum()

    ahead = table[table["forecast_requests"].notna()].copy()
    dates = pd.to_datetime(ahead["date"])
    ahead["week"] = (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.date
    forecast = ahead.groupby(["week", "role"], as_index=False)[
        ["forecast_requests", "forecast_low", "forecast_high"]
    ].sum()
    forecast["role_title"] = forecast["role"].map(role_title)

    staffing_rows = []
    next_week = forecast[forecast["week"] == (min(forecast["week"]) if len(forecast) else None)]
    for row in next_week.itertuples():
        role = str(row.role)
        slot = d.slot_minutes(role)
        facing = d.roles[role].patient_facing if role in d.roles else 0.0
        if slot <= 0 or facing <= 0:
            continue
        per_hour = float(str(row.forecast_requests)) / (WORKING_DAYS_PER_WEEK * CORE_HOURS_PER_DAY)
        if per_hour <= 0:
            continue
        need = servers_needed(per_hour, slot, d.target_wait_minutes, d.target_share_within)
        wte = (
            need.servers
            * CORE_HOURS_PER_DAY
            * WORKING_DAYS_PER_WEEK
            / (d.hours_per_wte_week * facing)
        )
        staffing_rows.append(
            {
                "role": role,
                "role_title": role_title(role),
                "requests_per_hour": per_hour,
                "slot_minutes": slot,
                "clinicians_at_once": need.servers,
                "wte_needed": wte,
                "share_within_target": need.share_within_target,
                "mean_wait_minutes": need.mean_wait_minutes,
            }
        )
    staffing = pd.DataFrame(
        staffing_rows,
        columns=[
            "role",
            "role_title",
            "requests_per_hour",
            "slot_minutes",
            "clinicians_at_once",
            "wte_needed",
            "share_within_target",
            "mean_wait_minutes",
        ],
    )
    assumptions = [
        f"Requests arrive at random at a steady rate through the core day "
        f"({CORE_HOURS_PER_DAY:g} hours, 08:00 to 18:30, {WORKING_DAYS_PER_WEEK} days a week), "
        "at next week's forecast demand.",
        "Each role works one queue across the network; each appointment takes the role's slot "
        "length on average (exponentially distributed), and nobody gives up waiting.",
        f"Target: {d.target_share_within:.0%} of requests start within "
        f"{d.target_wait_minutes:g} minutes (a planning assumption to review).",
        "Whole-time equivalents: clinicians needed at once x core hours, divided by "
        f"{d.hours_per_wte_week:g} hours a week and the share of time the role spends with "
        "patients.",
    ]
    return AccessDashboard(
        today, week_start, today_rows, week_rows, trend, forecast, staffing, assumptions
    )


def rota_week(
    record: Record,
    start: dt.date,
    practice: str | None = None,
    recorded: list[RotaException] | None = None,
    inputs: CapacityInputs | None = None,
) -> pd.DataFrame:
    """Who works each weekday of the week from ``start`` (a Monday): one row per person, a
    column per weekday with the sessions or why they are away."""
    inputs = inputs or read_inputs(record)
    days = [start + dt.timedelta(days=i) for i in range(5)]
    rota = rota_for(inputs, days[0], days[-1], recorded or [], twin=is_twin(record))
    if practice is not None:
        rota = rota[rota["practice_code"].isin([practice, "PCN"])]
    wte_of = dict(
        zip(
            inputs.staff["clinician_id"].astype(str), inputs.staff["wte"].astype(float), strict=True
        )
    )
    rows = []
    for (cid, practice_code, role), person in rota.groupby(
        ["clinician_id", "practice_code", "role"]
    ):
        cells = {}
        for day in days:
            on = person[person["date"] == day]
            if on.empty:
                cells[day] = "Not rostered"
            elif int(on["sessions"].iloc[0]) > 0:
                n = int(on["sessions"].iloc[0])
                cells[day] = "Morning and afternoon" if n == 2 else "One session"
            else:
                why = str(on["away"].iloc[0])
                cells[day] = (
                    why.replace("bank holiday:", "Bank holiday:")
                    if why.startswith("bank holiday")
                    else "Away: " + why.replace("_", " ")
                )
        wte = wte_of.get(str(cid), float("nan"))
        rows.append(
            {
                "clinician_id": cid,
                "practice_code": practice_code,
                "role": role,
                "role_title": role_title(str(role)),
                "wte": wte,
                **{d.isoformat(): cells[d] for d in days},
            }
        )
    return (
        pd.DataFrame(rows).sort_values(["practice_code", "role", "clinician_id"])
        if rows
        else pd.DataFrame(rows)
    )
