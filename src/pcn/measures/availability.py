"""Which patient-profile features a definition needs, and whether the record has them.

A definition (indicator, worklist, CMS/eFI rule, segment, inequality) that needs a feature the
record cannot provide must say *not available*; it must never show 0%, a funnel of zeros or a
worklist of everyone eligible. Two kinds of gap:

- **unsupported**: pcn cannot derive the feature at all: no codelist ships for it
  (:data:`UNSUPPORTED_FEATURES`), or a codelist it reads is missing or empty. Every record lacks
  it. ``pcn definitions check`` fails when a definition needs such a feature without declaring
  itself ``not_available`` (with the reason), so a silent gap cannot be shipped.
- **not recorded**: the feature can be derived, but the record holds no value of it for any
  registered patient (the source system does not capture it, or the extract left it out).
  Decided per record from the computed profile, by :func:`record_gaps`; ``pcn definitions check
  --record DIR`` lists them and fails.

Only features that come from coded data are checked for "not recorded"
(:func:`recorded_features`): demographics and scores always exist, and a zero count of events is
a real zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import pandas as pd

#: Features pcn cannot derive from any shipped codelist: column → why.
UNSUPPORTED_FEATURES: dict[str, str] = {
    "latest_ld_health_check_date": (
        "no codelist for the learning disability annual health check (HLTHCHK_COD) ships with "
        "pcn, so a health check cannot be told from its absence"
    ),
}


@dataclass(frozen=True)
class Gap:
    """A feature a definition needs and the record lacks."""

    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.column}: {self.reason}"


@cache
def feature_codelists() -> dict[str, tuple[str, ...]]:
    """Profile columns derived from codelists → the codelists they read."""
    from pcn.risk.features import (
        DATE_TAGS,
        HBA1C,
        LATEST_VALUES,
        MEDICATION_TAGS,
        P,
    )

    out: dict[str, tuple[str, ...]] = {}
    for column, (lists, _extra) in DATE_TAGS.items():
        if lists:
            out[column] = tuple(lists)
    for column, (lists, _months) in MEDICATION_TAGS.items():
        out[column] = tuple(lists)
    for column, (codelist_id, date_column) in LATEST_VALUES.items():
        out[column] = (codelist_id,)
        out[date_column] = (codelist_id,)
    out["latest_hba1c_date"] = (HBA1C,)
    out["smoking_status"] = (P + "lsmok_cod", P + "exsmok_cod")
    out["smoking_status_date"] = out["smoking_status"]
    out["latest_sbp"] = ("opensafely-systolic-blood-pressure-qof",)
    out["latest_sbp_date"] = out["latest_sbp"]
    out["latest_smi_health_check_date"] = tuple(
        dict.fromkeys(
            cl
            for part in ("latest_cholesterol_date", "latest_hba1c_date", "latest_alcohol_date",
                         "smoking_status", "latest_sbp")
            for cl in out[part]
        )
    )
    return out


def recorded_features() -> frozenset[str]:
    """Columns whose total absence from a record means the record does not capture them."""
    return frozenset(
        {
            *(c for c in feature_codelists() if c.endswith("_date") or c == "smoking_status"),
            "latest_bmi_date",
            *UNSUPPORTED_FEATURES,
        }
    )


def unsupported(columns: Iterable[str]) -> list[Gap]:
    """Features among ``columns`` that pcn cannot derive (no codelist, or an empty one)."""
    from pcn.refdata import codelist, codelist_ids

    known = set(codelist_ids())
    gaps: list[Gap] = []
    lists = feature_codelists()
    for column in sorted(set(columns)):
        if column in UNSUPPORTED_FEATURES:
            gaps.append(Gap(column, UNSUPPORTED_FEATURES[column]))
            continue
        for cl in lists.get(column, ()):
            if cl not in known:
                gaps.append(Gap(column, f"its codelist {cl} is not installed"))
                break
            if not codelist(cl).codes:
                gaps.append(Gap(column, f"its codelist {cl} holds no codes"))
                break
    return gaps


def record_gaps(profile: pd.DataFrame, columns: Iterable[str]) -> list[Gap]:
    """Coded features among ``columns`` that ``profile`` (one row per patient) lacks entirely:
    the column is absent, or null for every patient."""
    wanted = sorted(set(columns) & recorded_features())
    gaps: list[Gap] = []
    for column in wanted:
        if column in UNSUPPORTED_FEATURES:
            continue  # reported by unsupported()
        if column not in profile.columns:
            gaps.append(Gap(column, "the analytics outputs do not hold it"))
        elif len(profile) and not profile[column].notna().any():
            gaps.append(Gap(column, "not recorded for any patient in this record"))
    return gaps


def gaps_for(columns: Iterable[str], profile: pd.DataFrame | None = None) -> list[Gap]:
    """Every gap among ``columns``: unsupported, then (given a profile) not recorded."""
    cols = list(columns)
    out = unsupported(cols)
    if profile is not None:
        out += record_gaps(profile, cols)
    return out


def describe(gaps: Iterable[Gap], labels: Mapping[str, str] | None = None) -> str:
    """One sentence for people: what is missing and why."""
    parts = []
    for g in gaps:
        name = (labels or {}).get(g.column) or g.column.replace("_", " ")
        parts.append(f"{name} ({g.reason})")
    return "needs " + "; ".join(parts) if parts else ""


# ---- every kind of definition ---------------------------------------------------------------
EXPRESSION_KEYS = frozenset({"when", "where", "eligible", "core20"})


def _expression_columns(node: object) -> set[str]:
    """Columns referred to by every filter expression anywhere in a YAML tree."""
    from pcn.measures.expressions import parse

    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in EXPRESSION_KEYS and isinstance(value, str):
                found |= parse(value).columns
            else:
                found |= _expression_columns(value)
    elif isinstance(node, list):
        for item in node:
            found |= _expression_columns(item)
    return found


@dataclass(frozen=True)
class DefinitionStatus:
    """One definition's availability: ``problems`` fail the check, ``declared`` is its own
    not-available statement (shown, not failed)."""

    kind: str
    id: str
    problems: tuple[str, ...] = ()
    declared: str = ""


def check_definitions(profile: pd.DataFrame | None = None) -> list[DefinitionStatus]:
    """Availability of every shipped definition: indicators, worklists, segments, inequalities,
    CMS and eFI. A definition that needs an underivable feature must declare ``not_available``
    (and one that declares it must really lack something); with ``profile`` (a record's computed
    patient profile) features the record does not hold are problems too."""
    from importlib import resources

    import yaml

    from pcn.measures.indicators import load_indicators
    from pcn.refdata import codelist, codelist_ids
    from pcn.risk.cms import cms_definition
    from pcn.worklists import load_worklists

    out: list[DefinitionStatus] = []

    def judge(kind: str, ident: str, columns: Iterable[str], declared: str | None) -> None:
        cols = list(columns)
        static = unsupported(cols)
        problems: list[str] = []
        if static and not declared:
            problems += [f"needs {g} but does not declare not_available" for g in static]
        if declared and not static:
            problems.append("declares not_available but every feature it needs can be derived")
        if profile is not None and not declared:
            problems += [f"needs {g}" for g in record_gaps(profile, cols)]
        out.append(DefinitionStatus(kind, ident, tuple(problems), declared or ""))

    for ident, ind in load_indicators().items():
        judge("indicator", ident, ind.columns(), ind.not_available)
    for ident, wl in load_worklists().items():
        judge("worklist", ident, wl.rule_columns(), wl.not_available)
    root = resources.files("pcn.definitions")
    for folder in ("segments", "inequalities"):
        for entry in sorted(root.joinpath(folder).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                tree = yaml.safe_load(entry.read_text("utf-8"))
                judge(folder.rstrip("s"), entry.name.removesuffix(".yaml"),
                      _expression_columns(tree), None)
    known = set(codelist_ids())
    for condition in cms_definition().conditions:
        problems = [f"codelist {cl} is not installed" if cl not in known
                    else f"codelist {cl} holds no codes"
                    for cl in condition.codelist_ids()
                    if cl not in known or not codelist(cl).codes]
        declared = condition.note if condition.status == "not_available" else ""
        out.append(DefinitionStatus("cms condition", condition.id, tuple(problems), declared))
    from pcn.risk.features import efi_deficit_codelists

    for deficit, cl in efi_deficit_codelists().items():
        problems = [] if codelist(cl).codes else [f"codelist {cl} holds no codes"]
        out.append(DefinitionStatus("efi deficit", deficit, tuple(problems)))
    return out
