"""Electronic Frailty Index (Clegg et al., Age Ageing 2016;45(3):353-360).

36 deficits: 35 found by an "ever coded" rule on codelists ``efi-<deficit_id>`` plus polypharmacy
(>= 5 distinct medications in 12 months). ``efi_score`` = deficits present / 36; the category
follows the paper's quartile cut-offs (fit <= 0.12 < mild <= 0.24 < moderate <= 0.36 < severe).
The deficit list, codelists and cut-offs are data: ``pcn/definitions/risk/efi.yaml``.

Categories are decided on integer counts (``100 * count <= cutoff_percent * 36``), never by
comparing floats, so a score that equals a cut-off can never fall on the wrong side by rounding.
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

CATEGORIES = ("fit", "mild", "moderate", "severe")
#: Column with the count of distinct medications in the 12 months before the index date.
MEDICATION_COUNT_COLUMN = "distinct_medications_12m"


class EfiDeficit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    rule: Literal["ever_coded", "distinct_medications"]
    codelist: str | None = None
    min_distinct_medications: int | None = Field(None, ge=1)
    window_months: int | None = Field(None, ge=1)

    @property
    def column(self) -> str:
        """Input column name for this deficit's flag (snake_case of the id)."""
        return self.id.replace("-", "_")

    @model_validator(mode="after")
    def _rule_fields(self) -> EfiDeficit:
        if self.rule == "ever_coded" and not self.codelist:
            raise ValueError(f"deficit {self.id}: an ever_coded deficit needs a codelist")
        if self.rule == "distinct_medications" and not (
                self.min_distinct_medications and self.window_months):
            raise ValueError(f"deficit {self.id}: needs min_distinct_medications and "
                             "window_months")
        return self


class EfiCutoffs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fit: float
    mild: float
    moderate: float


class EfiDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    why: str
    source: str
    default_min_age: int = Field(ge=0)
    denominator: int = Field(ge=1)
    category_cutoffs: EfiCutoffs
    authored_by: str
    checked_by: str
    date_reviewed: dt.date
    next_review: dt.date
    deficits: tuple[EfiDeficit, ...]

    @model_validator(mode="after")
    def _consistent(self) -> EfiDefinition:
        if len(self.deficits) != self.denominator:
            raise ValueError(f"{len(self.deficits)} deficits but denominator {self.denominator}")
        ids = [d.id for d in self.deficits]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate deficit ids")
        return self

    def cutoff_counts(self) -> tuple[int, int, int]:
        """Largest deficit count in fit, mild and moderate, by integer arithmetic."""
        def largest(cutoff: float) -> int:
            percent = round(cutoff * 100)  # cut-offs are whole percentages (0.12 -> 12)
            return (percent * self.denominator) // 100
        c = self.category_cutoffs
        return largest(c.fit), largest(c.mild), largest(c.moderate)


@cache
def efi_definition() -> EfiDefinition:
    """The shipped eFI definition (validated)."""
    text = (resources.files("pcn.definitions") / "risk" / "efi.yaml").read_text("utf-8")
    return EfiDefinition.model_validate(yaml.safe_load(text))


def efi_category(deficit_count: int) -> str:
    """fit / mild / moderate / severe for a number of deficits (0-36)."""
    definition = efi_definition()
    if not 0 <= deficit_count <= definition.denominator:
        raise ValueError(f"deficit count must be 0-{definition.denominator}, got {deficit_count}")
    fit, mild, moderate = definition.cutoff_counts()
    if deficit_count <= fit:
        return "fit"
    if deficit_count <= mild:
        return "mild"
    if deficit_count <= moderate:
        return "moderate"
    return "severe"


def _flag(values: pd.Series, column: str) -> np.ndarray:
    return flag_array(values, column=column, score="eFI")


def efi(flags: pd.DataFrame, *, min_age: int | None = None) -> pd.DataFrame:
    """eFI for each row (one patient per row) of ``flags``.

    ``flags`` has one 0/1 (or boolean, null = absent) column per coded deficit, named by
    :attr:`EfiDeficit.column` (e.g. ``atrial_fibrillation``), and for polypharmacy either a
    ``polypharmacy`` flag or the count ``distinct_medications_12m``. With an ``age`` column,
    patients younger than ``min_age`` (default: the definition's 65) get null results.

    Returns ``efi_deficit_count`` (Int64), ``efi_score`` (float, count / 36) and
    ``efi_category`` (fit / mild / moderate / severe), on ``flags``' index.
    """
    definition = efi_definition()
    count = np.zeros(len(flags), dtype=np.int64)
    missing = []
    for deficit in definition.deficits:
        if deficit.rule == "distinct_medications":
            if deficit.column in flags:
                count += _flag(flags[deficit.column], deficit.column)
            elif MEDICATION_COUNT_COLUMN in flags:
                meds = pd.to_numeric(flags[MEDICATION_COUNT_COLUMN].fillna(0), errors="raise")
                if (meds < 0).any():
                    raise ValueError(f"{MEDICATION_COUNT_COLUMN} must not be negative")
                threshold = deficit.min_distinct_medications or 0
                count += (meds.to_numpy() >= threshold).astype(np.int64)
            else:
                missing.append(f"{deficit.column} (or {MEDICATION_COUNT_COLUMN})")
        elif deficit.column in flags:
            count += _flag(flags[deficit.column], deficit.column)
        else:
            missing.append(deficit.column)
    if missing:
        raise KeyError(f"eFI inputs missing column(s): {', '.join(missing)}")

    fit, mild, moderate = definition.cutoff_counts()
    category = np.select([count <= fit, count <= mild, count <= moderate],
                         ["fit", "mild", "moderate"], "severe").astype(object)
    out = pd.DataFrame({
        "efi_deficit_count": pd.array(count, dtype="Int64"),
        "efi_score": count / definition.denominator,
        "efi_category": category,
    }, index=flags.index)
    if "age" in flags:
        threshold = definition.default_min_age if min_age is None else min_age
        age = pd.to_numeric(flags["age"])
        # null age counts as out of scope: it cannot be shown to be in scope
        too_young = (age.isna() | (age < threshold)).to_numpy(dtype=bool)
        out.loc[too_young, "efi_deficit_count"] = pd.NA
        out.loc[too_young, "efi_score"] = np.nan
        out.loc[too_young, "efi_category"] = None
    return out
