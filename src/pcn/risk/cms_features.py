"""The inputs of the Cambridge Multimorbidity Score, read from ``definitions/risk/cms.yaml``.

Each of the 20 conditions (Payne et al., CMAJ 2020) is found by its own rule: codes ever, codes
within a window, a first code within a window (a new diagnosis), and/or a number of prescription
issues within a window, optionally unless another code was ever recorded. This provider asks the
engine, in the profile's one pass, for exactly what the rules need:

- ``cms_<id>_code``: latest date of the condition's codes (rules ``ever`` and ``within``);
- ``cms_<id>_first``: earliest date of its codes (rule ``first_within``);
- ``cms_<id>_med<k>``: issues of medication rule ``k``'s codelists within its window;
- ``cms_<id>_unless<k>``: latest date of medication rule ``k``'s ``unless_coded`` codes.

:func:`condition_flags` turns them into one 0/1 column per condition as of the index date, and
:func:`pcn.risk.cms.cms` weights them. Nothing here knows any condition by name: a rule changed
in ``cms.yaml`` changes the score.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from pcn.analytics import primitives as p
from pcn.analytics.plan import ColumnValues, ProfileData, ProfilePlan
from pcn.analytics.profile import Finish, ProfileProvider, RunContext, code_set
from pcn.risk.cms import CmsCondition, cms_definition


def _code_column(c: CmsCondition) -> str:
    assert c.codes is not None
    return f"cms_{c.column}_{'first' if c.codes.when == 'first_within' else 'code'}"


def _columns(ctx: RunContext) -> dict[str, pa.DataType]:
    return input_columns()


def input_columns() -> dict[str, pa.DataType]:
    """The ``cms_*`` profile columns the rules read, with their types."""
    cols: dict[str, pa.DataType] = {}
    for c in cms_definition().conditions:
        if c.codes is not None:
            cols[_code_column(c)] = pa.date32()
        for k, rule in enumerate(c.medications):
            cols[f"cms_{c.column}_med{k}"] = pa.int64()
            if rule.unless_coded:
                cols[f"cms_{c.column}_unless{k}"] = pa.date32()
    return cols


def _plan(ctx: RunContext, plan: ProfilePlan) -> Finish:
    # everything in the profile's shared passes (ADR 0012): code dates in the one pass over the
    # events, issue counts in the one pass over the medications
    dates = {}
    counts = {}
    for c in cms_definition().conditions:
        if c.codes is not None:
            codes = code_set(*c.codes.codelists)
            first = c.codes.when == "first_within"
            dates[_code_column(c)] = plan.first_date(codes) if first else plan.latest_date(codes)
        for k, rule in enumerate(c.medications):
            counts[f"cms_{c.column}_med{k}"] = plan.issued(
                code_set(*rule.codelists), start=p.window_start(ctx.index_date, rule.months))
            if rule.unless_coded:
                dates[f"cms_{c.column}_unless{k}"] = plan.latest_date(
                    code_set(*rule.unless_coded))

    def finish(data: ProfileData) -> dict[str, ColumnValues]:
        cols: dict[str, ColumnValues] = {name: data.date(tag) for name, tag in dates.items()}
        cols.update({name: data.issue_count(tag) for name, tag in counts.items()})
        return cols

    return finish


CMS_FEATURES = ProfileProvider("cms_features", _columns, _plan)


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values)


def condition_flags(df: pd.DataFrame, index_date: dt.date) -> pd.DataFrame:
    """One 0/1 column per CMS condition (named by :attr:`CmsCondition.column`) as of
    ``index_date``, from the ``cms_*`` profile columns; ``not_available`` conditions are left
    out (they score 0)."""
    out = pd.DataFrame(index=df.index)
    idx = pd.Timestamp(index_date)
    for c in cms_definition().conditions:
        if c.status == "not_available":
            continue
        code_hit: np.ndarray | None = None
        if c.codes is not None:
            when = _dates(df[_code_column(c)])
            if c.codes.when == "ever":
                hit = when.notna() & (when <= idx)
            else:
                assert c.codes.months is not None
                start = pd.Timestamp(p.window_start(index_date, c.codes.months))
                hit = (when >= start) & (when <= idx)
            code_hit = hit.to_numpy(dtype=bool)
        med_hit: np.ndarray | None = None
        for k, rule in enumerate(c.medications):
            issues = df[f"cms_{c.column}_med{k}"].fillna(0).to_numpy(dtype=np.int64)
            ok = issues >= rule.min_issues
            if rule.unless_coded:
                ok &= _dates(df[f"cms_{c.column}_unless{k}"]).isna().to_numpy(dtype=bool)
            med_hit = ok if med_hit is None else (med_hit | ok)
        if code_hit is not None and med_hit is not None:
            present = code_hit & med_hit if c.combine == "and" else code_hit | med_hit
        else:
            present = code_hit if code_hit is not None else med_hit
        assert present is not None
        out[c.column] = present.astype(np.int64)
    return out
