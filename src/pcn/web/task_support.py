"""What the task routes (pages and API) need from the published record: where a patient is
registered, the network's worklists, which codes satisfy each, and the day work is dated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from pcn.reporting.network import NetworkView
from pcn.tasks.writeback import activity_date
from pcn.worklists import load_worklists
from pcn.worklists.definitions import WorklistDefinition


def practices_of(view: NetworkView) -> Callable[[int], frozenset[str]]:
    def lookup(patient_id: int) -> frozenset[str]:
        return view.patient_practices(patient_id)

    return lookup


def worklist_titles(view: NetworkView) -> dict[str, str]:
    """Worklist id → title (read once per published view)."""
    titles: dict[str, str] = view._memo(
        ("worklist_titles",), lambda: {wid: view.worklist_title(wid)
                                       for wid in view.worklist_ids()})
    return titles


def worklist_definition(worklist_id: str) -> WorklistDefinition | None:
    return load_worklists().get(worklist_id)


def satisfied_by(worklist_id: str) -> frozenset[str]:
    definition = load_worklists().get(worklist_id)
    return frozenset(definition.satisfied_by) if definition else frozenset()


def work_date(view: NetworkView, today: dt.date | None = None) -> dt.date:
    """The day work recorded now is dated (a synthetic twin's own day; otherwise today)."""
    return activity_date(dict(view.record.manifest.source or {}), today)
