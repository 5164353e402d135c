"""Triage definitions are data: concepts (what words mean), rules (what a set of concepts
means for urgency and route) and the Pharmacy First pathways. Each is YAML validated here with
``extra="forbid"`` so a typo in a definition file fails loudly instead of silently not firing.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pcn.triage.model import Route, Urgency

DEFINITIONS_PACKAGE = "pcn.definitions"
DEFINITIONS_DIR = "triage"


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publisher: str  # e.g. NICE, NHS.UK, NICE CKS, NHS England
    title: str
    reference: str  # guideline number or page address

    def short(self) -> str:
        return f"{self.publisher} {self.reference}"


class Governance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    authored_by: str
    checked_by: str | None = None
    date_reviewed: dt.date
    next_review: dt.date


class Concept(BaseModel):
    """A clinical idea and the ways patients write it (regular expressions on normalised text)."""

    model_config = ConfigDict(extra="forbid")

    terms: list[str] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _compiles(cls, terms: list[str]) -> list[str]:
        for term in terms:
            try:
                re.compile(term)
            except re.error as e:
                raise ValueError(f"term {term!r} is not a valid regular expression: {e}") from e
        return terms


class ConceptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concepts: dict[str, Concept]


class Rule(BaseModel):
    """If any one group of concepts (all of the group) is asserted, the rule fires."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    kind: Literal["red_flag", "urgent_flag", "navigation"]
    urgency: Urgency
    route: Route | None = None
    when: list[list[str]] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)
    age_min: float | None = None
    age_max: float | None = None  # exclusive upper bound, in years
    sex: Literal["F", "M"] | None = None
    #: navigation rules break ties by priority (higher wins)
    priority: int = 0
    advice: str = ""
    why: str
    source: Source

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if self.urgency is Urgency.emergency and self.route not in (None, Route.emergency_services):
            raise ValueError(f"{self.id}: an emergency rule must route to emergency_services")
        if self.kind == "red_flag" and self.urgency is not Urgency.emergency:
            raise ValueError(f"{self.id}: a red_flag rule must be urgency emergency")
        if self.kind == "urgent_flag" and self.urgency is not Urgency.urgent:
            raise ValueError(f"{self.id}: an urgent_flag rule must be urgency urgent")
        if self.kind == "navigation" and self.route is None:
            raise ValueError(f"{self.id}: a navigation rule must name a route")
        return self


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    governance: Governance
    rules: list[Rule]


class Exclusion(BaseModel):
    """A reason a patient cannot use a Pharmacy First pathway, and where they go instead."""

    model_config = ConfigDict(extra="forbid")

    id: str
    when: list[list[str]] = Field(default_factory=list)
    age_min: float | None = None
    age_max: float | None = None
    sex: Literal["F", "M"] | None = None
    context: Literal["pregnant", "immunosuppressed"] | None = None
    reason: str
    route: Route
    urgency: Urgency


class Pathway(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    when: list[list[str]] = Field(min_length=1)
    age_min: float
    age_max: float | None = None  # exclusive
    sex: Literal["F", "M"] | None = None
    urgency: Urgency
    #: where a patient goes when the gateway (age/sex) is not met
    outside_gateway_route: Route
    outside_gateway_urgency: Urgency
    exclusions: list[Exclusion] = Field(default_factory=list)
    source: Source


class PathwayFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    governance: Governance
    pathways: list[Pathway]


class Definitions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concepts: dict[str, Concept]
    rules: list[Rule]
    pathways: list[Pathway]

    @model_validator(mode="after")
    def _references(self) -> Definitions:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id}")
            seen.add(rule.id)
        groups: list[tuple[str, list[str]]] = []
        for rule in self.rules:
            groups += [(rule.id, g) for g in rule.when] + [(rule.id, rule.unless)]
        for path in self.pathways:
            groups += [(path.id, g) for g in path.when]
            groups += [(f"{path.id}.{e.id}", g) for e in path.exclusions for g in e.when]
        for owner, group in groups:
            for name in group:
                if name not in self.concepts and name not in COMPUTED_CONCEPTS:
                    raise ValueError(f"{owner} refers to unknown concept {name!r}")
        return self


#: Concepts set from numbers and the request rather than from words.
COMPUTED_CONCEPTS = frozenset(
    {
        "temperature_38",
        "temperature_39",
        "temperature_40",
        "about_child",
        "about_older",
        "known_pregnant",
        "known_housebound",
    }
)


def _load_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def definitions_dir() -> Path:
    return Path(str(resources.files(DEFINITIONS_PACKAGE) / DEFINITIONS_DIR))


class DefinitionError(ValueError):
    """A triage definition file is malformed; the message names the file."""


def load_definitions(directory: Path | None = None) -> Definitions:
    """Read and validate every triage definition file in ``directory``."""
    directory = directory or definitions_dir()
    concepts: dict[str, Concept] = {}
    rules: list[Rule] = []
    pathways: list[Pathway] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            raw = _load_yaml(path)
            if not isinstance(raw, dict):
                raise ValueError("expected a mapping at the top level")
            if "concepts" in raw:
                for name, concept in ConceptFile.model_validate(raw).concepts.items():
                    if name in concepts:
                        raise ValueError(f"concept {name!r} is defined twice")
                    concepts[name] = concept
            elif "pathways" in raw:
                pathways += PathwayFile.model_validate(raw).pathways
            else:
                rules += RuleFile.model_validate(raw).rules
        except (ValueError, yaml.YAMLError) as e:
            raise DefinitionError(f"{path.name}: {e}") from e
    try:
        return Definitions(concepts=concepts, rules=rules, pathways=pathways)
    except ValueError as e:
        raise DefinitionError(str(e)) from e


@lru_cache(maxsize=1)
def default_definitions() -> Definitions:
    return load_definitions()
