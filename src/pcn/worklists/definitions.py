"""Worklist definitions: YAML files in ``pcn/definitions/worklists/<id>.yaml`` (file name = id).

A worklist names its population (``eligible``), one or more ``criteria`` — each a reason a patient
needs action, written in the filter language of :mod:`pcn.measures.expressions` — and
``exclusions``. A patient appears when eligible, meeting at least one criterion and no exclusion;
the ``reasons`` column lists the criteria met, so a clinician sees *why* at a glance.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pcn.measures.expressions import Expression, parse


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: str
    reference: str | None = None
    url: str | None = None


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    when: str

    @field_validator("when")
    @classmethod
    def _parses(cls, v: str) -> str:
        parse(v)
        return v


class SortKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    column: str
    order: Literal["asc", "desc"] = "desc"


class WorklistDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    why: str
    service: str = Field(description="The team or DES service that acts on the list")
    source: list[Source] = Field(min_length=1)
    eligible: str = "true"
    criteria: list[Criterion] = Field(min_length=1)
    exclusions: list[Criterion] = Field(default_factory=list)
    fields: list[str] = Field(min_length=1, description="Columns a clinician needs to act")
    sort: list[SortKey] = Field(default_factory=list)
    clinical: bool = True
    satisfied_by: list[str] = Field(
        default_factory=list,
        description="Codelists whose codes, once recorded, take a patient off the list (the "
        "profile feature behind an exclusion reads them); a task on this list closed 'done' "
        "with such a code is followed through to the next run (ADR 0110)")
    authored_by: str
    checked_by: str | None
    date_reviewed: str | None
    next_review: str | None
    not_available: str | None = Field(
        default=None, min_length=10,
        description="Why the list cannot be built from any record pcn reads (a feature it needs "
        "has no shipped codelist); it is then not built and shown as not available")

    @field_validator("eligible")
    @classmethod
    def _eligible_parses(cls, v: str) -> str:
        parse(v)
        return v

    def expressions(self) -> list[Expression]:
        return [
            parse(self.eligible),
            *(parse(c.when) for c in self.criteria),
            *(parse(c.when) for c in self.exclusions),
        ]

    def rule_columns(self) -> set[str]:
        """Columns who is on the list depends on (eligible, criteria, exclusions); a missing
        display field only shows as not recorded."""
        cols: set[str] = set()
        for e in self.expressions():
            cols |= set(e.columns)
        return cols

    def columns(self) -> set[str]:
        cols: set[str] = set(self.fields) | {s.column for s in self.sort}
        for e in self.expressions():
            cols |= set(e.columns)
        return cols


class WorklistDefinitionError(ValueError):
    pass


def _dir() -> Path:
    with resources.as_file(resources.files("pcn.definitions") / "worklists") as p:
        return Path(p)


def load_worklist_file(path: Path) -> WorklistDefinition:
    try:
        raw = yaml.safe_load(path.read_text())
        defn = WorklistDefinition.model_validate(raw)
    except (ValidationError, yaml.YAMLError, ValueError) as e:
        raise WorklistDefinitionError(f"{path.name}: {e}") from None
    if defn.id != path.stem:
        raise WorklistDefinitionError(f"{path.name}: id {defn.id!r} must equal the file name")
    return defn


@cache
def load_worklists() -> dict[str, WorklistDefinition]:
    return {p.stem: load_worklist_file(p) for p in sorted(_dir().glob("*.yaml"))}
