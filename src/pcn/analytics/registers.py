"""Register definitions: YAML files in ``pcn/definitions/registers``, validated by ``Register``.

A register says who has a condition on an index date: a diagnosis code (from one or more
codelists) on or before the date, not ended by a later "resolved" code, optionally restricted by
age, sex, a date the diagnosis must be on or after, a look-back window, a numeric observation
(e.g. BMI >= 30) and other registers it excludes (e.g. NDH excludes diabetes). The fields mirror
the QOF business rules each file cites.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pcn.refdata import UnknownCodelist, codelist


class DefinitionError(ValueError):
    """A definition file is malformed or refers to something that does not exist."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a definition comes from."""

    document: str = Field(description="Title and version, e.g. 'QOF business rules v49.0'.")
    publisher: str = Field(description="Who publishes it, e.g. 'NHS England'.")
    year: str = Field(description="Financial year the rules apply to, e.g. '2024-25'.")
    rule: str = Field(description="The register or indicator the definition follows.")
    url: str = Field("", description="Where to read the source.")
    deviations: str = Field("", description="How and why this definition differs from it.")


class ValueCriterion(_Strict):
    """Qualify by the latest numeric observation from a codelist within a look-back window."""

    codelist: str = Field(description="Codelist id of the observation (e.g. BMI).")
    min_value: float | None = Field(None, description="Latest value must be >= this.")
    max_value: float | None = Field(None, description="Latest value must be <= this.")
    lookback_months: int = Field(12, ge=1, le=1200, description="Window before the index date.")

    @model_validator(mode="after")
    def _bounded(self) -> ValueCriterion:
        if self.min_value is None and self.max_value is None:
            raise ValueError("a value criterion needs min_value or max_value")
        return self


class Register(_Strict):
    """A clinical register (who has a condition on an index date)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="Stable id; the file name.")
    title: str
    description: str = Field(description="Who is on it, and why it matters.")
    codelists: list[str] = Field(min_length=1, description="Diagnosis codelist ids (any of).")
    resolved_codelists: list[str] = Field(
        default_factory=list,
        description="Codes that end the register when dated on or after the latest diagnosis "
        "(QOF: select if the resolved date is null or before the latest diagnosis).",
    )
    diagnosed_from: dt.date | None = Field(
        None, description="Only diagnoses on or after this date count (e.g. depression since "
        "1 April 2006)."
    )
    lookback_months: int | None = Field(
        None, ge=1, le=1200, description="Only diagnoses within this many months count."
    )
    value_criterion: ValueCriterion | None = Field(
        None, description="Alternatively qualify by a recent observation (e.g. BMI >= 30)."
    )
    excluding_registers: list[str] = Field(
        default_factory=list, description="Patients on any of these registers are left off."
    )
    min_age: int | None = Field(None, ge=0, le=120, description="Minimum age on the index date.")
    max_age: int | None = Field(None, ge=0, le=120, description="Maximum age on the index date.")
    sex: Literal["F", "M"] | None = Field(None, description="Restrict to one sex.")
    long_term_condition: bool = Field(
        True, description="Counts towards ltc_count (the number of long-term conditions)."
    )
    source: Source
    authored_by: str
    checked_by: str
    date_reviewed: dt.date
    next_review: dt.date

    @field_validator("codelists", "resolved_codelists")
    @classmethod
    def _known_codelists(cls, ids: list[str]) -> list[str]:
        for cid in ids:
            try:
                codelist(cid)
            except UnknownCodelist as e:
                raise ValueError(str(e).strip("'\"")) from None
        return ids

    @model_validator(mode="after")
    def _consistent(self) -> Register:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age is greater than max_age")
        if self.next_review <= self.date_reviewed:
            raise ValueError("next_review must be after date_reviewed")
        if self.id in self.excluding_registers:
            raise ValueError("a register cannot exclude itself")
        if self.value_criterion is not None:
            try:
                codelist(self.value_criterion.codelist)
            except UnknownCodelist as e:
                raise ValueError(str(e).strip("'\"")) from None
        return self

    def codes(self) -> frozenset[str]:
        return frozenset().union(*(codelist(c).codes for c in self.codelists))

    def resolved_codes(self) -> frozenset[str]:
        return frozenset().union(*(codelist(c).codes for c in self.resolved_codelists))


def registers_dir() -> Path:
    with resources.as_file(resources.files("pcn.definitions") / "registers") as p:
        return Path(p)


def load_register(path: Path) -> Register:
    """Load and validate one register file, naming the file and field on error."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DefinitionError(f"{path.name}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path.name}: expected a mapping of fields")
    try:
        reg = Register.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(x) for x in err['loc']) or '(file)'}: {err['msg']}"
            for err in e.errors()
        )
        raise DefinitionError(f"{path.name}: {problems}") from None
    if reg.id != path.stem:
        raise DefinitionError(f"{path.name}: id {reg.id!r} must equal the file name")
    return reg


def load_registers(directory: Path | None = None) -> list[Register]:
    """Every register, in dependency order (a register after those it excludes)."""
    directory = directory or registers_dir()
    regs = {r.id: r for r in (load_register(p) for p in sorted(directory.glob("*.yaml")))}
    for r in regs.values():
        for other in r.excluding_registers:
            if other not in regs:
                raise DefinitionError(f"{r.id}.yaml: excluding_registers names unknown {other!r}")
    ordered: list[Register] = []
    seen: set[str] = set()

    def visit(r: Register, stack: tuple[str, ...]) -> None:
        if r.id in seen:
            return
        if r.id in stack:
            raise DefinitionError(f"{r.id}.yaml: circular excluding_registers {' -> '.join(stack)}")
        for other in r.excluding_registers:
            visit(regs[other], (*stack, r.id))
        seen.add(r.id)
        ordered.append(r)

    for r in regs.values():
        visit(r, ())
    return ordered


@cache
def default_registers() -> tuple[Register, ...]:
    return tuple(load_registers())


def register_json_schema() -> str:
    return json.dumps(Register.model_json_schema(), indent=2, sort_keys=True) + "\n"
