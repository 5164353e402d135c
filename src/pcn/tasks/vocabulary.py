"""The words of the work model: statuses and how they move, priorities, owners, coded outcomes.

Outcome codes are data (``pcn/definitions/tasks/outcomes.yaml``): real SNOMED CT concepts, each
naming the statuses it may close a task with.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

#: Every status a task can have, in the order a person meets them.
STATUSES = ("open", "in_progress", "done", "declined", "not_appropriate", "unable_to_contact")
OPEN_STATUSES = ("open", "in_progress")
CLOSED_STATUSES = ("done", "declined", "not_appropriate", "unable_to_contact")
#: Where a status may go next (a closed task stays closed).
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"in_progress", *CLOSED_STATUSES}),
    "in_progress": frozenset({"open", *CLOSED_STATUSES}),
    **{s: frozenset() for s in CLOSED_STATUSES},
}
STATUS_TEXT = {"open": "Open", "in_progress": "In progress", "done": "Done",
               "declined": "Declined", "not_appropriate": "Not appropriate",
               "unable_to_contact": "Unable to contact"}
PRIORITIES = ("urgent", "high", "routine", "low")
PRIORITY_TEXT = {"urgent": "Urgent", "high": "High", "routine": "Routine", "low": "Low"}
SOURCES = ("worklist", "triage_request", "care_plan", "mdt", "manual", "monitoring",
           "social_prescribing")
SOURCE_TEXT = {"worklist": "Worklist", "triage_request": "Online request",
               "care_plan": "Care plan", "mdt": "MDT meeting", "manual": "Added by staff",
               "monitoring": "Home monitoring", "social_prescribing": "Social prescribing"}
#: Role queues a task can be given to (within the task's practice, or the PCN's own queue).
OWNER_ROLES = ("gp", "anp", "practice_nurse", "clinical_pharmacist", "fcp_physio",
               "mental_health_practitioner", "social_prescriber", "care_coordinator",
               "paramedic", "admin")
OWNER_ROLE_TEXT = {"gp": "GP", "anp": "Advanced nurse practitioner",
                   "practice_nurse": "Practice nurse", "clinical_pharmacist": "Clinical pharmacist",
                   "fcp_physio": "First contact physiotherapist",
                   "mental_health_practitioner": "Mental health practitioner",
                   "social_prescriber": "Social prescribing link worker",
                   "care_coordinator": "Care coordinator", "paramedic": "Paramedic",
                   "admin": "Administrative team"}
#: Task priority from an online request's (final) urgency.
PRIORITY_OF_URGENCY = {"emergency": "urgent", "urgent": "high", "routine": "routine",
                       "self_care": "low"}


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[1-9][0-9]{5,17}$")
    term: str
    closes: tuple[str, ...] = Field(min_length=1)
    codelist: str | None = None
    source: str


class _OutcomeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[Outcome]


def _path() -> Path:
    with resources.as_file(resources.files("pcn.definitions") / "tasks" / "outcomes.yaml") as p:
        return Path(p)


@cache
def outcomes() -> dict[str, Outcome]:
    """Outcome code → its definition."""
    parsed = _OutcomeFile.model_validate(yaml.safe_load(_path().read_text()))
    for o in parsed.outcomes:
        bad = [s for s in o.closes if s not in CLOSED_STATUSES]
        if bad:
            raise ValueError(f"outcome {o.code}: closes {bad} are not closing statuses")
    return {o.code: o for o in parsed.outcomes}
