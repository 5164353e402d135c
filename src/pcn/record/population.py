"""The one definition of "registered on a date" that every channel uses (issue 18).

A registration counts on day ``on`` when it started on or before ``on`` and has not ended before
it: ``start_date <= on`` and (``end_date`` is null or ``end_date >= on``). The end date is the
last day registered, so a patient whose registration ends on the index date is still the
practice's patient that day — on its worklists, and seen on its pages. The engine (Ibis), the
web's and the triage desk's pandas readers and the twin's SQL report all state the rule through
this module, so the population cannot differ between a list and a page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

RULE = "start_date <= on and (end_date is null or end_date >= on)"


def registered_on_mask(start: pd.Series, end: pd.Series, on: dt.date | pd.Timestamp) -> pd.Series:
    """Which registration periods (end null while registered) count on ``on``."""
    day = pd.Timestamp(on)
    starts = pd.to_datetime(start)
    ends = pd.to_datetime(end)
    return (starts <= day) & (ends.isna() | (ends >= day))


def registered_on_sql(alias: str, on: dt.date) -> str:
    """The same rule as a SQL condition on table alias ``alias`` (DuckDB, PostgreSQL, Spark SQL)."""
    day = f"DATE '{on.isoformat()}'"
    return (f"({alias}.start_date <= {day} AND ({alias}.end_date IS NULL "
            f"OR {alias}.end_date >= {day}))")


def registered_on_ibis(registrations: Any, on: dt.date) -> Any:
    """The same rule as an Ibis filter condition on a registrations table expression."""
    r = registrations
    return (r.start_date <= on) & (r.end_date.isnull() | (r.end_date >= on))
