"""What every page and every API route does before reading data: authorise, scope, protect.

Pages (:mod:`pcn.web.pages`) and the JSON API (:mod:`pcn.api.routes`) call these functions and
nothing else to reach identifiable data, so both obey exactly the same rules:

- aggregates need ``view_aggregates``; roles outside the clinical boundary (no ``view_patient``
  in :data:`pcn.access.policy.ROLE_ACTIONS`) get them through :mod:`pcn.measures.sdc`;
- worklists are identifiable: rows are filtered by the scope from
  :func:`pcn.access.guard.search_scope` (the one scoping function);
- a patient needs :func:`pcn.access.guard.require` ``view_patient`` with the practices the patient
  is registered at; a denial is :class:`NotFound`, exactly like a patient who does not exist.

Each call writes exactly one audit event (allowed or denied) through :mod:`pcn.access.guard`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pcn.access.guard import NotFound, disclose_in_scope, require
from pcn.access.policy import (
    ROLE_ACTIONS,
    Action,
    PatientScope,
    Principal,
    Purpose,
)
from pcn.reporting.network import NetworkView
from pcn.store.database import Store

__all__ = ["NotFound", "WorklistPage", "aggregates", "is_clinical", "patient_summary",
           "worklist_rows"]

PAGE_SIZE = 25


def is_clinical(principal: Principal) -> bool:
    """Inside the clinical boundary: the role may see identifiable patients at all."""
    return Action.VIEW_PATIENT in ROLE_ACTIONS.get(principal.role, frozenset())


def can_search(principal: Principal) -> bool:
    return Action.SEARCH_PATIENTS in ROLE_ACTIONS.get(principal.role, frozenset())


def aggregates(store: Store, principal: Principal, route: str, **detail: Any) -> bool:
    """Authorise an aggregate view (404 when the role has none); True = apply disclosure control."""
    require(store, principal, Action.VIEW_AGGREGATES, purpose=Purpose.PLANNING,
            detail={"route": route, **detail})
    return not is_clinical(principal)


def export_aggregates(store: Store, principal: Principal, route: str, **detail: Any) -> None:
    """Authorise an aggregate export; exports always go through disclosure control."""
    require(store, principal, Action.EXPORT_AGGREGATES, purpose=Purpose.PLANNING,
            detail={"route": route, **detail})


@dataclass(frozen=True)
class WorklistPage:
    rows: pd.DataFrame
    #: every row in scope before the filters (for the filters' choices)
    in_scope: pd.DataFrame
    total: int
    page: int
    pages: int
    scope: PatientScope


#: Columns holding several ';'-joined values per row (a patient in several Core20PLUS groups):
#: a filter matches a row holding the value among them.
MULTI_VALUED = frozenset({"core20plus"})


def _filter(frame: pd.DataFrame, filters: dict[str, str]) -> pd.DataFrame:
    for column, wanted in filters.items():
        if wanted and column in frame.columns:
            if column in MULTI_VALUED:
                parts = frame[column].fillna("").astype(str).str.split(";")
                frame = frame[parts.map(lambda values, w=wanted: w in values)]
            else:
                frame = frame[frame[column].astype(str) == wanted]
    return frame


def worklist_rows(store: Store, view: NetworkView, principal: Principal, worklist_id: str, *,
                  filters: dict[str, str], page: int = 1, page_size: int = PAGE_SIZE,
                  export: bool = False, route: str = "",
                  annotate: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                  sort: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> WorklistPage:
    """The rows of a worklist this user may see (one audit event naming the patients shown);
    NotFound when not allowed. ``annotate`` adds columns to the rows in scope (e.g. each
    patient's task) before the filters; ``sort`` orders the filtered rows."""
    purpose = Purpose.POPULATION_HEALTH
    # A CSV export is its own audited action with its own scope (agreements may allow viewing
    # but not exporting); a page view is a search.
    action = Action.EXPORT_IDENTIFIABLE if export else Action.SEARCH_PATIENTS

    def select(scope: PatientScope) -> tuple[WorklistPage, list[int]]:
        if export and scope.is_empty:
            raise NotFound()
        if not can_search(principal) or worklist_id not in view.worklist_ids():
            raise NotFound()
        frame = view.worklist(worklist_id)
        visible = frame["practice_code"].isin(sorted(scope.practice_codes))
        if scope.patient_ids:
            visible |= frame["patient_id"].isin(sorted(scope.patient_ids))
        in_scope = frame[visible]
        if annotate is not None:
            in_scope = annotate(in_scope)
        chosen = _filter(in_scope, filters)
        if sort is not None:
            chosen = sort(chosen)
        total = len(chosen)
        if export:
            result = WorklistPage(chosen, in_scope, total, 1, 1, scope)
        else:
            pages = max(1, -(-total // page_size))
            number = min(max(page, 1), pages)
            rows = chosen.iloc[(number - 1) * page_size: number * page_size]
            result = WorklistPage(rows, in_scope, total, number, pages, scope)
        return result, [int(p) for p in result.rows["patient_id"]]

    return disclose_in_scope(store, principal, select, purpose, action,
                             detail={"route": route, "worklist": worklist_id, "export": export,
                                     "filters": {k: v for k, v in filters.items() if v},
                                     "page": page})


def patient_summary(store: Store, view: NetworkView, principal: Principal,
                    patient_id: int | None, *, route: str) -> dict[str, Any]:
    """A patient's summary after the legitimate-relationship check (one audit event).

    ``patient_id`` None (an id that is not a number) is refused like an unknown patient."""
    practices = view.patient_practices(patient_id) if patient_id is not None else frozenset()
    require(store, principal, Action.VIEW_PATIENT, purpose=Purpose.DIRECT_CARE,
            patient_id=patient_id, patient_practices=practices, detail={"route": route})
    if patient_id is None:  # pragma: no cover - the policy refuses a request naming nobody
        raise NotFound()
    return view.patient_summary(patient_id)
