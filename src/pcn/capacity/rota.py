"""Who works when: weekly session patterns from the staff register, less exceptions.

The register is the record's ``staff`` table (role, employing practice or PCN, whole-time
equivalent). Each person works wte x 9 (rounded half up) half-day sessions a week (a 4 h 10 min
session; ADR 0140), laid on fixed half-days that come from their id, so the pattern is the same
every week and every run. Days off the pattern: bank holidays in England (the maintained
``holidays`` calendar), leave the twin lays in (about 6.5 weeks a year per person, whole weeks)
and exceptions the PCN records (leave, training, sickness) in the operational store.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pcn.capacity.definitions import CapacityDefinitions, load_definitions

#: Half-days of the working week: (weekday 0 = Monday, 0 morning / 1 afternoon).
HALF_DAYS = [(d, h) for d in range(5) for h in range(2)]
EXCEPTION_KINDS = ("annual_leave", "study_leave", "training", "sickness", "other")
PCN_WIDE = "PCN"


@dataclass(frozen=True)
class RotaException:
    """A stretch of days (inclusive) a person is away from their pattern."""

    clinician_id: str
    start_date: dt.date
    end_date: dt.date
    kind: str


def england_bank_holidays(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Bank holidays in England between two dates (inclusive), with their names."""
    import holidays

    years = range(start.year, end.year + 1)
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=years)
    return {d: str(name) for d, name in sorted(calendar.items()) if start <= d <= end}


def _stable_fraction(*parts: object) -> float:
    """A number in [0, 1) fixed by its inputs: the same every run and on every machine."""
    return zlib.crc32(":".join(str(p) for p in parts).encode()) / 2**32


def weekly_pattern(
    clinician_id: str, wte: float, definitions: CapacityDefinitions | None = None
) -> list[tuple[int, int]]:
    """The half-days a person works each week, as (weekday, 0 morning / 1 afternoon)."""
    d = definitions or load_definitions()
    # half up (not Python's round-half-even): 0.5 WTE x 9 = 4.5 -> 5 sessions
    n = int(min(len(HALF_DAYS), max(0, np.floor(wte * d.sessions_per_wte_week + 0.5))))
    rng = np.random.default_rng(zlib.crc32(clinician_id.encode()))
    order = rng.permutation(len(HALF_DAYS))
    return sorted(HALF_DAYS[i] for i in order[:n])


def twin_leave(
    staff: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    definitions: CapacityDefinitions | None = None,
) -> list[RotaException]:
    """Leave the twin lays into the rota: whole weeks, each ISO week off with a fixed chance."""
    d = definitions or load_definitions()
    p_week = d.twin_leave_weeks_per_year / 52.0
    monday = start - dt.timedelta(days=start.weekday())
    out: list[RotaException] = []
    while monday <= end:
        year, week, _ = monday.isocalendar()
        for cid in staff["clinician_id"]:
            if _stable_fraction(cid, year, week) < p_week:
                out.append(
                    RotaException(str(cid), monday, monday + dt.timedelta(days=4), "annual_leave")
                )
        monday += dt.timedelta(days=7)
    return out


def who_works(
    staff: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    exceptions: Iterable[RotaException] = (),
    definitions: CapacityDefinitions | None = None,
) -> pd.DataFrame:
    """One row per person per day in [start, end]: sessions worked and why not, if not.

    Columns: date, clinician_id, practice_code (``PCN`` for PCN-employed staff), role,
    sessions (0-2), planned_sessions (the pattern's), away (bank holiday / leave kind / "").
    """
    d = definitions or load_definitions()
    dates = pd.date_range(start, end, freq="D")
    if staff.empty or not len(dates):
        return pd.DataFrame(
            columns=[
                "date",
                "clinician_id",
                "practice_code",
                "role",
                "sessions",
                "planned_sessions",
                "away",
            ]
        )
    people = staff.reset_index(drop=True)
    weekday = dates.day_of_week.to_numpy()
    # sessions per weekday for each person: (people x 7)
    per_weekday = np.zeros((len(people), 7), dtype=np.int64)
    for i, (cid, wte) in enumerate(zip(people["clinician_id"], people["wte"], strict=True)):
        for day, _half in weekly_pattern(str(cid), float(wte), d):
            per_weekday[i, day] += 1
    planned = per_weekday[:, weekday]  # (people x days)
    day_values = dates.date
    away = np.full(planned.shape, "", dtype=object)
    # employment: before start or after end of contract nobody is planned
    day_ns = dates.to_numpy().astype("datetime64[D]")
    starts = pd.to_datetime(people["start_date"]).to_numpy().astype("datetime64[D]")
    ends = pd.to_datetime(people["end_date"]).to_numpy().astype("datetime64[D]")
    employed = (day_ns[None, :] >= starts[:, None]) & (
        np.isnat(ends)[:, None] | (day_ns[None, :] <= ends[:, None])
    )
    planned = np.where(employed, planned, 0)
    worked = planned.copy()
    index = {str(c): i for i, c in enumerate(people["clinician_id"])}
    for ex in exceptions:
        person = index.get(ex.clinician_id)
        if person is None:
            continue
        cols = (day_values >= ex.start_date) & (day_values <= ex.end_date)
        hit = cols & (planned[person] > 0)
        worked[person, hit] = 0
        away[person, hit] = ex.kind
    for holiday, name in england_bank_holidays(start, end).items():
        col = (holiday - start).days
        on = planned[:, col] > 0
        worked[on, col] = 0
        away[on, col] = f"bank holiday: {name}"
    n_people, n_days = planned.shape
    frame = pd.DataFrame(
        {
            "date": np.tile(day_values, n_people),
            "clinician_id": np.repeat(people["clinician_id"].astype(str).to_numpy(), n_days),
            "practice_code": np.repeat(people["practice_code"].fillna(PCN_WIDE).to_numpy(), n_days),
            "role": np.repeat(people["role"].to_numpy(), n_days),
            "sessions": worked.ravel(),
            "planned_sessions": planned.ravel(),
            "away": away.ravel(),
        }
    )
    return frame[frame["planned_sessions"] > 0].reset_index(drop=True)


def capacity_by_day(
    rota: pd.DataFrame,
    practice_weights: dict[str, float],
    definitions: CapacityDefinitions | None = None,
) -> pd.DataFrame:
    """Bookable minutes and slots per date x practice x role.

    PCN-employed staff serve every practice: their minutes are shared by ``practice_weights``
    (list sizes). Bookable minutes = sessions x session length x the role's patient-facing
    share; slots = bookable minutes / the role's slot length (admin books no slots).
    """
    d = definitions or load_definitions()
    cols = ["date", "practice_code", "role", "capacity_minutes", "capacity_slots", "staff"]
    if rota.empty:
        return pd.DataFrame(columns=cols)
    facing = rota["role"].map(lambda r: d.roles[r].patient_facing if r in d.roles else 0.0)
    minutes = rota["sessions"].to_numpy() * d.session_minutes * facing.to_numpy()
    work = rota.assign(capacity_minutes=minutes, staff=(rota["sessions"] > 0).astype(float))
    own = work[work["practice_code"] != PCN_WIDE]
    shared = work[work["practice_code"] == PCN_WIDE]
    parts = [own[["date", "practice_code", "role", "capacity_minutes", "staff"]]]
    total = sum(practice_weights.values())
    if len(shared) and total > 0:
        pooled = shared.groupby(["date", "role"], as_index=False)[
            ["capacity_minutes", "staff"]
        ].sum()
        for practice, weight in practice_weights.items():
            share = pooled.copy()
            share["practice_code"] = practice
            share["capacity_minutes"] *= weight / total
            share["staff"] *= weight / total
            parts.append(share)
    out = (
        pd.concat(parts, ignore_index=True)
        .groupby(["date", "practice_code", "role"], as_index=False)[["capacity_minutes", "staff"]]
        .sum()
    )
    slot = out["role"].map(lambda r: d.slot_minutes(r)).to_numpy()
    out["capacity_slots"] = np.where(
        slot > 0, np.floor(out["capacity_minutes"] / np.where(slot > 0, slot, 1)), 0
    ).astype(int)
    out["capacity_minutes"] = out["capacity_minutes"].round().astype(int)
    return out[cols]
