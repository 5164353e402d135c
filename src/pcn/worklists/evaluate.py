"""Evaluate worklist definitions on the patient profile, with Core20PLUS5 overlays."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pcn.measures.expressions import evaluate, joined_labels, parse
from pcn.refdata import codelist_codes
from pcn.worklists.definitions import WorklistDefinition, load_worklists

#: Columns every worklist carries so it can be filtered by practice and inequality overlay.
OVERLAY_COLUMNS = ("practice_code", "core20", "plus_groups")


def _mask(text: str, profile: pd.DataFrame, as_of: dt.date) -> pd.Series:
    return evaluate(parse(text), profile, as_of=as_of, codelist_codes=codelist_codes)


def build_worklist(defn: WorklistDefinition, profile: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Rows of ``profile`` on the worklist, with ``reasons`` and the definition's fields."""
    eligible = _mask(defn.eligible, profile, as_of)
    met = pd.DataFrame(
        {c.id: _mask(c.when, profile, as_of) & eligible for c in defn.criteria}, index=profile.index
    )
    excluded = pd.Series(False, index=profile.index)
    for x in defn.exclusions:
        excluded |= _mask(x.when, profile, as_of)
    on_list = met.any(axis=1) & ~excluded
    rows = profile.loc[on_list]
    hits = met.loc[on_list].to_numpy(dtype=bool)
    reasons = joined_labels(hits, [c.label for c in defn.criteria], sep="; ")
    cols = [
        "patient_id",
        *[c for c in OVERLAY_COLUMNS if c in profile.columns],
        *[f for f in defn.fields if f not in ("patient_id", *OVERLAY_COLUMNS)],
    ]
    out = rows[cols].copy()
    out.insert(1, "reasons", reasons)
    out.insert(2, "reason_count", hits.sum(axis=1) if len(hits) else 0)
    if defn.sort:
        out = out.sort_values(
            [s.column for s in defn.sort] + ["patient_id"],
            ascending=[s.order == "asc" for s in defn.sort] + [True],
            na_position="last",
            kind="mergesort",
        )
    else:
        out = out.sort_values("patient_id", kind="mergesort")
    return out.reset_index(drop=True)


def build_worklists(
    profile: pd.DataFrame, as_of: dt.date, definitions: dict[str, WorklistDefinition] | None = None
) -> dict[str, pd.DataFrame]:
    defs = definitions if definitions is not None else load_worklists()
    return {wid: build_worklist(d, profile, as_of) for wid, d in defs.items()
            if not worklist_gaps(d, profile)}


def worklist_gaps(definition: WorklistDefinition, profile: pd.DataFrame) -> str:
    """Why ``definition`` cannot be built on ``profile`` ("" when it can): it declares itself
    not available, or needs a feature pcn cannot derive or the record does not hold. Such a
    list is never built: without the feature it would name everyone eligible."""
    from pcn.measures import availability

    if definition.not_available:
        return definition.not_available
    gaps = availability.gaps_for(definition.rule_columns(), profile)
    return availability.describe(gaps)
