"""Demand against capacity per date x practice x role (the ``pcn capacity report`` table)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pcn.capacity.definitions import load_definitions
from pcn.capacity.demand import daily_demand
from pcn.capacity.forecast import (
    HORIZON_WEEKS,
    daily_forecast,
    forecast_weekly,
    weekday_profile,
    weekly_series,
)
from pcn.capacity.rota import RotaException, capacity_by_day, twin_leave, who_works
from pcn.record.store import Record

REPORT_COLUMNS = [
    "date",
    "practice_code",
    "role",
    "capacity_minutes",
    "booked_minutes",
    "demand_requests",
    "forecast_requests",
    "forecast_low",
    "forecast_high",
]
#: Weeks of history the forecast fits on (two years: enough for trend, cheap at ICS scale).
HISTORY_WEEKS = 104


@dataclass(frozen=True)
class CapacityInputs:
    """What every capacity view needs from a record, read once."""

    staff: pd.DataFrame
    practice_weights: dict[str, float]
    as_of: dt.date


def record_as_of(record: Record) -> dt.date:
    """The day the record describes: the twin's as_of, else the last appointment date."""
    text = record.manifest.source.get("as_of")
    if text:
        return dt.date.fromisoformat(str(text))
    import pyarrow.compute as pc

    table = record.read("appointments", columns=["start_at"])
    if not table.num_rows:
        return dt.date.today()
    value = pc.max(table["start_at"]).as_py()
    return value.date() if value is not None else dt.date.today()


def read_inputs(record: Record) -> CapacityInputs:
    staff = record.read("staff").to_pandas()
    practices = record.manifest.extra.get("practices") or {}
    weights = {
        code: float(v.get("n_registered") or v.get("list_size") or 0)
        for code, v in practices.items()
    }
    if not weights or sum(weights.values()) <= 0:
        counts = record.read("registrations", columns=["practice_code"]).to_pandas()
        weights = counts["practice_code"].value_counts().astype(float).to_dict()
    return CapacityInputs(staff, weights, record_as_of(record))


def rota_for(
    inputs: CapacityInputs,
    start: dt.date,
    end: dt.date,
    recorded: Iterable[RotaException] = (),
    twin: bool = True,
) -> pd.DataFrame:
    """Who works each day: the register's patterns less bank holidays, the twin's leave (when
    the record is a twin) and the exceptions the PCN recorded."""
    exceptions = list(recorded)
    if twin:
        exceptions += twin_leave(inputs.staff, start, end)
    return who_works(inputs.staff, start, end, exceptions)


def is_twin(record: Record) -> bool:
    return record.manifest.source.get("kind") == "synthetic_twin"


def capacity_report(
    record: Record,
    start: dt.date,
    end: dt.date,
    recorded: Iterable[RotaException] = (),
    inputs: CapacityInputs | None = None,
    excluded: frozenset[int] = frozenset(),
) -> pd.DataFrame:
    """One row per date x practice x bookable role in [start, end].

    Forecast columns are filled for dates in the 8 weeks after the last complete week of the
    record and left empty (not available) elsewhere; demand and booked minutes for dates after
    the record's day are not known yet and are empty too.
    """
    if end < start:
        raise ValueError("--to is before --from")
    d = load_definitions()
    inputs = inputs or read_inputs(record)
    rota = rota_for(inputs, start, end, recorded, twin=is_twin(record))
    capacity = capacity_by_day(rota, inputs.practice_weights)
    demand = daily_demand(record, start, min(end, inputs.as_of), excluded=excluded)
    history = daily_demand(
        record, inputs.as_of - dt.timedelta(weeks=HISTORY_WEEKS), inputs.as_of, excluded=excluded
    )
    matrix = weekly_series(history, inputs.as_of)
    weekly = forecast_weekly(matrix, HORIZON_WEEKS)
    daily_fc = (
        daily_forecast(weekly, weekday_profile(history))
        if len(weekly)
        else pd.DataFrame(columns=["date", "practice_code", "role", "forecast", "low", "high"])
    )

    bookable = sorted(r for r, v in d.roles.items() if v.slot_minutes > 0)
    roles = sorted(set(bookable) & (set(inputs.staff["role"]) | set(demand["role"])))
    practices = sorted(set(inputs.practice_weights) | set(demand["practice_code"]))
    dates = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    grid = pd.MultiIndex.from_product(
        [dates, practices, roles], names=["date", "practice_code", "role"]
    ).to_frame(index=False)
    out = grid.merge(
        capacity[["date", "practice_code", "role", "capacity_minutes"]],
        how="left",
        on=["date", "practice_code", "role"],
    )
    out = out.merge(
        demand[["date", "practice_code", "role", "booked_minutes", "demand_requests"]],
        how="left",
        on=["date", "practice_code", "role"],
    )
    out = out.merge(
        daily_fc.rename(
            columns={
                "forecast": "forecast_requests",
                "low": "forecast_low",
                "high": "forecast_high",
            }
        ),
        how="left",
        on=["date", "practice_code", "role"],
    )
    out["capacity_minutes"] = out["capacity_minutes"].fillna(0).astype(int)
    known = np.array([day <= inputs.as_of for day in out["date"]], dtype=bool)
    for col in ("booked_minutes", "demand_requests"):
        out[col] = out[col].where(~known, out[col].fillna(0)).astype("Int64")
    for col in ("forecast_requests", "forecast_low", "forecast_high"):
        out[col] = out[col].round(1)
    return out[REPORT_COLUMNS]
