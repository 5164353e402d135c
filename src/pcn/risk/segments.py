"""Population segmentation (Bridges to Health) and Core20PLUS5 inequality flags.

Both are definitions (``pcn/definitions/segments`` and ``pcn/definitions/inequalities``) evaluated
on the patient profile with the filter language of :mod:`pcn.measures.expressions`.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pcn.measures.expressions import evaluate, joined_labels, parse
from pcn.refdata import codelist_codes


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    when: str
    why: str | None = None

    @field_validator("when")
    @classmethod
    def _parses(cls, v: str) -> str:
        parse(v)
        return v


class SegmentationDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    segments: list[Rule] = Field(min_length=2)
    authored_by: str
    checked_by: str | None
    date_reviewed: str | None
    next_review: str | None

    @field_validator("segments")
    @classmethod
    def _last_catches_all(cls, v: list[Rule]) -> list[Rule]:
        if v[-1].when.strip() != "true":
            raise ValueError(
                "the last segment must be the catch-all (when: 'true') so every "
                "patient is in exactly one segment"
            )
        return v


class InequalitiesDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    title: str
    source: str
    core20: str
    plus_groups: list[Rule]
    adult_areas: list[Rule]
    children_areas: list[Rule]
    authored_by: str
    checked_by: str | None
    date_reviewed: str | None
    next_review: str | None


def _load(folder: str, name: str) -> dict:
    text = (resources.files("pcn.definitions") / folder / name).read_text()
    return yaml.safe_load(text)


@cache
def segmentation() -> SegmentationDefinition:
    return SegmentationDefinition.model_validate(_load("segments", "bridges_to_health.yaml"))


@cache
def inequalities() -> InequalitiesDefinition:
    return InequalitiesDefinition.model_validate(_load("inequalities", "core20plus5.yaml"))


def _mask(text: str, profile: pd.DataFrame, as_of: dt.date) -> np.ndarray:
    return evaluate(parse(text), profile, as_of=as_of, codelist_codes=codelist_codes).to_numpy(
        dtype=bool
    )


def assign_segments(
    profile: pd.DataFrame, as_of: dt.date, definition: SegmentationDefinition | None = None
) -> pd.Series:
    """The segment id of every patient: the first rule, in priority order, that matches."""
    d = definition or segmentation()
    out = np.full(len(profile), None, dtype=object)
    unset = np.ones(len(profile), dtype=bool)
    for rule in d.segments:
        hit = unset & _mask(rule.when, profile, as_of)
        out[hit] = rule.id
        unset &= ~hit
    return pd.Series(out, index=profile.index, name="segment")


def inequality_flags(
    profile: pd.DataFrame, as_of: dt.date, definition: InequalitiesDefinition | None = None
) -> pd.DataFrame:
    """``core20``, ``plus_groups`` (';'-joined ids), ``c5_<area>`` (adults 18+) and
    ``cyp5_<area>`` (under 18) flags for every patient."""
    d = definition or inequalities()
    out = pd.DataFrame(index=profile.index)
    out["core20"] = _mask(d.core20, profile, as_of)
    groups = {g.id: _mask(g.when, profile, as_of) for g in d.plus_groups}
    matrix = (
        np.column_stack([np.asarray(m, dtype=bool) for m in groups.values()])
        if groups
        else np.zeros((len(profile), 0), dtype=bool)
    )
    out["plus_groups"] = joined_labels(matrix, list(groups))
    adult = profile["age"].to_numpy() >= 18
    for a in d.adult_areas:
        out[f"c5_{a.id}"] = adult & _mask(a.when, profile, as_of)
    for a in d.children_areas:
        out[f"cyp5_{a.id}"] = ~adult & _mask(a.when, profile, as_of)
    return out


def imd_gradients(
    profile: pd.DataFrame, outcomes: dict[str, tuple[str, str]], as_of: dt.date
) -> pd.DataFrame:
    """Per practice (and PCN), each outcome's rate by IMD quintile and its slope per quintile.

    ``outcomes`` maps an outcome id to (denominator filter, numerator filter). The slope is the
    least-squares change in the rate (percentage points) from one quintile to the next, weighted
    by denominators; negative means worse outcomes in more deprived areas for "higher is better"
    outcomes.
    """
    quintile = (profile["imd_decile"] + 1) // 2
    rows = []
    groups = [("PCN", profile.index)] + [
        (code, idx) for code, idx in profile.groupby("practice_code").groups.items()
    ]
    for oid, (den_text, num_text) in outcomes.items():
        den = _mask(den_text, profile, as_of)
        num = den & _mask(num_text, profile, as_of)
        for unit, idx in groups:
            sel = profile.index.isin(idx)
            q = quintile[sel]
            d = pd.Series(den[sel]).groupby(q.to_numpy()).sum()
            n = pd.Series(num[sel]).groupby(q.to_numpy()).sum()
            rates = n / d.replace(0, np.nan) * 100
            ok = rates.notna() & (d > 0)
            slope = float("nan")
            if ok.sum() >= 2:
                x = rates.index[ok].to_numpy(dtype=float)
                y = rates[ok].to_numpy()
                w = d[ok].to_numpy(dtype=float)
                slope = float(np.polyfit(x, y, 1, w=np.sqrt(w))[0])
            for qi in range(1, 6):
                rows.append(
                    {
                        "outcome": oid,
                        "unit": unit,
                        "imd_quintile": qi,
                        "denominator": int(d.get(qi, 0)),
                        "numerator": int(n.get(qi, 0)),
                        "rate": float(rates.get(qi, np.nan)),
                        "slope_per_quintile": slope,
                    }
                )
    return pd.DataFrame(rows)
