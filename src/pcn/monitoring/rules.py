"""The NG136 home blood-pressure rules and the other reading thresholds, read from the reviewed
YAML in ``pcn/definitions/monitoring`` (nothing clinical is hard-coded here)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Averaging(_Strict):
    cite: str
    discard_first_day: bool
    min_days_after_discard: int = Field(ge=1)
    max_gap_days: int = Field(ge=1)


class AtLeast(_Strict):
    systolic_at_least: int
    diastolic_at_least: int


class Severe(AtLeast):
    cite: str


class Diagnosis(_Strict):
    cite: str
    stage2: AtLeast
    stage1: AtLeast


class Below(_Strict):
    systolic_below: int
    diastolic_below: int


class Targets(_Strict):
    cite: str
    under_80: Below
    age_80_and_over: Below
    age_boundary: int


class HomeBpRules(_Strict):
    source: dict[str, Any]
    authored_by: str
    checked_by: str
    date_reviewed: str
    next_review: str
    averaging: Averaging
    severe: Severe
    diagnosis: Diagnosis
    targets: Targets

    def target_for(self, age: int | None) -> Below:
        """The treatment target at ``age`` (unknown age: the stricter under-80 target)."""
        if age is not None and age >= self.targets.age_boundary:
            return self.targets.age_80_and_over
        return self.targets.under_80


class WeightRule(_Strict):
    cite: str
    gain_kg_more_than: float
    within_days: int


class OximetryRule(_Strict):
    cite: str
    same_day_at_or_below: int
    urgent_at_or_below: int


class OtherRules(_Strict):
    authored_by: str
    checked_by: str
    date_reviewed: str
    next_review: str
    heart_failure_weight: WeightRule
    pulse_oximetry: OximetryRule


def _path(name: str) -> Path:
    with resources.as_file(resources.files("pcn.definitions") / "monitoring" / name) as p:
        return Path(p)


@cache
def home_bp_rules() -> HomeBpRules:
    return HomeBpRules.model_validate(yaml.safe_load(_path("ng136_home_bp.yaml").read_text()))


@cache
def other_rules() -> OtherRules:
    return OtherRules.model_validate(yaml.safe_load(_path("other_readings.yaml").read_text()))
