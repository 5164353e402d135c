"""The reviewed capacity conventions (src/pcn/definitions/capacity/capacity.yaml)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class RoleCapacity:
    role: str
    slot_minutes: int
    patient_facing: float
    clinical: bool


@dataclass(frozen=True)
class BookingBucket:
    label: str
    min_days: int
    max_days: int | None


@dataclass(frozen=True)
class CapacityDefinitions:
    hours_per_wte_week: float
    session_minutes: int
    sessions_per_wte_week: int
    roles: dict[str, RoleCapacity]
    twin_leave_weeks_per_year: float
    online_hours: tuple[dt.time, dt.time]
    answer_within_working_days: int
    routine_within_days: int
    routine_within_days_target: float
    booking_buckets: tuple[BookingBucket, ...]
    target_wait_minutes: float
    target_share_within: float

    def slot_minutes(self, role: str) -> int:
        found = self.roles.get(role)
        return found.slot_minutes if found else 0

    def bucket_of(self, days: int) -> str:
        for b in self.booking_buckets:
            if days >= b.min_days and (b.max_days is None or days <= b.max_days):
                return b.label
        return "Unknown/Data Quality"


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


@lru_cache(maxsize=1)
def load_definitions() -> CapacityDefinitions:
    path = resources.files("pcn.definitions") / "capacity" / "capacity.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    work, access, queue = raw["working_time"], raw["access"], raw["queueing"]
    if (
        abs(
            work["session_minutes"] * work["sessions_per_wte_week"] / 60
            - work["hours_per_wte_week"]
        )
        > 1e-6
    ):
        raise ValueError("capacity.yaml: sessions x session length must equal a WTE week")
    roles = {
        name: RoleCapacity(
            name, int(v["slot_minutes"]), float(v["patient_facing"]), bool(v["clinical"])
        )
        for name, v in raw["roles"].items()
    }
    return CapacityDefinitions(
        hours_per_wte_week=float(work["hours_per_wte_week"]),
        session_minutes=int(work["session_minutes"]),
        sessions_per_wte_week=int(work["sessions_per_wte_week"]),
        roles=roles,
        twin_leave_weeks_per_year=float(raw["twin_leave_weeks_per_year"]),
        online_hours=(
            _time(access["online_consultation_hours"][0]),
            _time(access["online_consultation_hours"][1]),
        ),
        answer_within_working_days=int(access["answer_within_working_days"]),
        routine_within_days=int(access["routine_within_days"]),
        routine_within_days_target=float(access["routine_within_days_target"]),
        booking_buckets=tuple(
            BookingBucket(b["label"], int(b["min_days"]), b["max_days"])
            for b in raw["gpad_booking_buckets"]
        ),
        target_wait_minutes=float(queue["target_wait_minutes"]),
        target_share_within=float(queue["target_share_within"]),
    )
