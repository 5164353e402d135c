"""The reviewed social prescribing data: codes, needs and the ONS4 questions
(``pcn/definitions/social/social_prescribing.yaml``)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Code(_Strict):
    code: str
    term: str


class Codes(_Strict):
    referred: Code
    declined: Code
    source: str


class Term(_Strict):
    code: str
    term: str


class Needs(_Strict):
    source: str
    terms: tuple[Term, ...]


class Scale(_Strict):
    minimum: int
    maximum: int
    low_label: str
    high_label: str


class Ons4Item(_Strict):
    key: str
    label: str
    question: str
    higher_is_better: bool


class Ons4(_Strict):
    source: str
    scale: Scale
    items: tuple[Ons4Item, ...]


class SocialDefinitions(_Strict):
    authored_by: str
    checked_by: str
    date_reviewed: str
    next_review: str
    codes: Codes
    needs: Needs
    ons4: Ons4

    @property
    def need_terms(self) -> dict[str, str]:
        return {t.code: t.term for t in self.needs.terms}

    @property
    def ons4_keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.ons4.items)


@cache
def definitions() -> SocialDefinitions:
    with resources.as_file(
        resources.files("pcn.definitions") / "social" / "social_prescribing.yaml"
    ) as p:
        return SocialDefinitions.model_validate(yaml.safe_load(Path(p).read_text()))
