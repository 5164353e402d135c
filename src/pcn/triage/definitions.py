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


#: Publishers of UK clinical guidance a triage rule may cite (a typo fails loading).
PUBLISHERS = frozenset({
    "NICE", "NICE CKS", "NHS.UK", "NHS England", "RCOG", "RCPCH", "RCP", "RCEM", "RCOphth",
    "UKHSA", "Resuscitation Council UK", "BTS/SIGN", "BTS/SIGN/NICE", "JBDS", "MHRA",
    "Royal College of Physicians", "SIGN", "UK Kidney Association",
    "European Society of Endocrinology",
})


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publisher: str  # one of PUBLISHERS
    title: str
    reference: str  # guideline number or page address

    @field_validator("publisher")
    @classmethod
    def _known_publisher(cls, value: str) -> str:
        if value not in PUBLISHERS:
            raise ValueError(f"publisher {value!r} is not one of {', '.join(sorted(PUBLISHERS))}")
        return value

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
    #: A sign of possible danger: when asserted it stops a message from being sent to a
    #: non-clinical or routine destination unless the benign pattern that matched explains it.
    #: ``None`` (the default): a warning if any red or urgent flag uses it. ``False``: a context
    #: that only matters with something else (pregnant, diabetes, sudden onset).
    warning: bool | None = None
    #: A standing condition or treatment (known AAA, diabetes, on apixaban, chemotherapy): a
    #: mention in the past history still counts for a rule ("hx of AAA, sudden back pain").
    background: bool = False
    #: Matched against the whole message, across clause breaks, and never negated: for
    #: descriptions of a course ("numb for 10 minutes but it is back to normal now").
    whole_message: bool = False
    #: How bad or how sudden rather than what ("severe", "really painful", "suddenly"): never
    #: counted as one of several separate signs of danger (ADR 0021).
    intensity: bool = False
    #: Said as a wish or a condition ("better off if I wasn't here", "easier if I didn't wake
    #: up"): the grammar of the thought itself, so a hypothetical clause still asserts it.
    conditional: bool = False

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


#: What the patient is shown at once, besides the advice, for a safety pathway.
Signpost = Literal["crisis", "safeguarding"]
#: Categories of the fail-safe gate's lexicon (``lexicon/*.csv``). ``care`` is what is done,
#: not what is wrong: a specialty, procedure, test or vaccine ("cardiology", "colonoscopy").
LexiconCategory = Literal["body", "symptom", "function", "mental", "injury", "condition",
                          "substance", "danger", "medicine", "care"]


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
    #: navigation: concepts this benign pattern accounts for besides those in ``when`` (e.g. a
    #: cold explains a cough and a runny nose); anything else concerning makes it unsure
    explains: list[str] = Field(default_factory=list)
    #: navigation: lexicon categories of words this pattern accounts for (e.g. "medicine" for
    #: a repeat prescription naming its medicines)
    explains_categories: list[LexiconCategory] = Field(default_factory=list)
    #: navigation: single words typical of this pattern that no concept names ("clicking" for a
    #: sore knee, "stinging" for cystitis)
    explains_words: list[str] = Field(default_factory=list)
    #: crisis lines or safeguarding help shown to the patient at once
    signpost: Signpost | None = None
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
        if (self.explains or self.explains_categories or self.explains_words) and (
            self.kind != "navigation"
        ):
            raise ValueError(f"{self.id}: only a navigation rule explains concepts")
        return self


class RuleFile(BaseModel):
    """Rules, optionally with the concepts they introduce (a body-system file)."""

    model_config = ConfigDict(extra="forbid")

    governance: Governance
    concepts: dict[str, Concept] = Field(default_factory=dict)
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
    #: concepts the pathway accounts for besides those in ``when`` (see ``Rule.explains``)
    explains: list[str] = Field(default_factory=list)
    explains_categories: list[LexiconCategory] = Field(default_factory=list)
    explains_words: list[str] = Field(default_factory=list)
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
            groups.append((rule.id, rule.explains))
        for path in self.pathways:
            groups += [(path.id, g) for g in path.when] + [(path.id, path.explains)]
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
        "bp_180_120",
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


#: Files in the triage definitions folder with a model of their own (not concepts or rules).
OTHER_FILES = frozenset({"physiology.yaml", "lexicon.yaml"})


def definition_files(directory: Path | None = None) -> list[Path]:
    """Every triage definition file, body-system files in sub-folders included, in a fixed
    order (so ``engine_version`` and rule order do not depend on the file system)."""
    directory = directory or definitions_dir()
    return sorted(directory.rglob("*.yaml"), key=lambda p: p.relative_to(directory).as_posix())


class DefinitionError(ValueError):
    """A triage definition file is malformed; the message names the file."""


def load_definitions(directory: Path | None = None) -> Definitions:
    """Read and validate every triage definition file in ``directory``."""
    directory = directory or definitions_dir()
    concepts: dict[str, Concept] = {}
    rules: list[Rule] = []
    pathways: list[Pathway] = []
    for path in definition_files(directory):
        if path.name in OTHER_FILES:
            continue
        name = path.relative_to(directory).as_posix()
        try:
            raw = _load_yaml(path)
            if not isinstance(raw, dict):
                raise ValueError("expected a mapping at the top level")
            found: dict[str, Concept] = {}
            if "pathways" in raw:
                pathways += PathwayFile.model_validate(raw).pathways
            elif "rules" in raw:
                rule_file = RuleFile.model_validate(raw)
                rules += rule_file.rules
                found = rule_file.concepts
            else:
                found = ConceptFile.model_validate(raw).concepts
            for concept_name, concept in found.items():
                if concept_name in concepts:
                    raise ValueError(f"concept {concept_name!r} is defined twice")
                concepts[concept_name] = concept
        except (ValueError, yaml.YAMLError) as e:
            raise DefinitionError(f"{name}: {e}") from e
    try:
        return Definitions(concepts=concepts, rules=rules, pathways=pathways)
    except ValueError as e:
        raise DefinitionError(str(e)) from e


@lru_cache(maxsize=1)
def default_definitions() -> Definitions:
    return load_definitions()
