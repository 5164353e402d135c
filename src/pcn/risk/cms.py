"""Cambridge Multimorbidity Score, general outcome (Payne et al., CMAJ 2020;192(5):E107-E114).

CMS = sum of the published general-outcome weights (``data/cms_weights.csv``) of the 20
conditions a patient has. How each condition is found in a record (codelists, prescription
rules, time windows, and where pcn can only approximate it) is data:
``pcn/definitions/risk/cms.yaml``. The sum is taken in integer hundredths (the weights have two
decimals) so equal inputs always give exactly equal, exactly printable scores.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pcn.risk.flags import flag_array


class CodeRule(BaseModel):
    """A condition found from clinical codes: ever, within the last ``months`` (any code), or
    first recorded within the last ``months`` (a new diagnosis)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    codelists: tuple[str, ...] = Field(min_length=1)
    when: Literal["ever", "within", "first_within"]
    months: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _months(self) -> CodeRule:
        if (self.when == "ever") != (self.months is None):
            raise ValueError("months is needed with within/first_within and only then")
        return self


class MedicationRule(BaseModel):
    """At least ``min_issues`` issues from ``codelists`` in the last ``months``, unless a code of
    ``unless_coded`` was ever recorded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    codelists: tuple[str, ...] = Field(min_length=1)
    min_issues: int = Field(ge=1)
    months: int = Field(ge=1)
    unless_coded: tuple[str, ...] = ()


class CmsCondition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    original_rule: str
    pcn_rule: str
    codes: CodeRule | None = None
    medications: tuple[MedicationRule, ...] = ()
    combine: Literal["or", "and"] = "or"
    status: Literal["equivalent", "proxy", "not_available"]
    note: str = ""

    @property
    def column(self) -> str:
        """Input column name for this condition's flag."""
        return self.id.lower()

    def codelist_ids(self) -> list[str]:
        """Every codelist the rule reads."""
        ids = list(self.codes.codelists) if self.codes else []
        for rule in self.medications:
            ids += [*rule.codelists, *rule.unless_coded]
        return ids

    @model_validator(mode="after")
    def _rule_fields(self) -> CmsCondition:
        usable = self.codes is not None or bool(self.medications)
        if self.status == "not_available" and usable:
            raise ValueError(f"{self.id}: not_available but has a rule")
        if self.status != "not_available" and not usable:
            raise ValueError(f"{self.id}: needs a code or medication rule")
        if self.combine == "and" and not (self.codes and self.medications):
            raise ValueError(f"{self.id}: combine 'and' needs both a code and a medication rule")
        return self


class CmsDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    why: str
    source: str
    authored_by: str
    checked_by: str
    date_reviewed: dt.date
    next_review: dt.date
    conditions: tuple[CmsCondition, ...]


@cache
def cms_definition() -> CmsDefinition:
    """The shipped CMS condition rules (validated)."""
    text = (resources.files("pcn.definitions") / "risk" / "cms.yaml").read_text("utf-8")
    return CmsDefinition.model_validate(yaml.safe_load(text))


@cache
def cms_weights() -> pd.DataFrame:
    """Published weights, one row per condition (``condition_id``, ``weight_general``, ...)."""
    with resources.as_file(resources.files("pcn.risk") / "data" / "cms_weights.csv") as path:
        weights = pd.read_csv(path)
    ids = {c.id for c in cms_definition().conditions}
    if set(weights.condition_id) != ids or len(weights) != len(ids):
        raise ValueError("cms_weights.csv and cms.yaml disagree on the condition list")
    return weights


def _weight_hundredths() -> dict[str, int]:
    w = cms_weights()
    return {cid: round(float(v) * 100) for cid, v in zip(w.condition_id, w.weight_general,
                                                           strict=True)}


def cms(flags: pd.DataFrame) -> pd.DataFrame:
    """CMS for each row (one patient per row) of ``flags``.

    ``flags`` has one 0/1 (or boolean; null = absent) column per condition, named by the
    lower-case condition id (``alc``, ``anxdep``, ... see :func:`cms_definition`). Columns of
    ``not_available`` conditions may be omitted (scored 0). Returns ``cms_condition_count``
    (int) and ``cms_score`` (float) on ``flags``' index.
    """
    weights = _weight_hundredths()
    total = np.zeros(len(flags), dtype=np.int64)
    count = np.zeros(len(flags), dtype=np.int64)
    missing = []
    for condition in cms_definition().conditions:
        if condition.column not in flags:
            if condition.status != "not_available":
                missing.append(condition.column)
            continue
        present = flag_array(flags[condition.column], column=condition.column, score="CMS")
        total += present * weights[condition.id]
        count += present
    if missing:
        raise KeyError(f"CMS inputs missing column(s): {', '.join(missing)}")
    return pd.DataFrame({"cms_condition_count": count, "cms_score": total / 100.0},
                        index=flags.index)
