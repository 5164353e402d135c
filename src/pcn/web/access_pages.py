"""Access pages: demand against capacity (/access) and who works when (/rota) (issue 20)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from pcn.access.secondary_use import secondary_view
from pcn.capacity.dashboard import AccessDashboard, build_dashboard, rota_week
from pcn.capacity.exceptions import list_exceptions
from pcn.capacity.report import read_inputs
from pcn.capacity.rota import RotaException
from pcn.measures.sdc import protect_counts
from pcn.reporting import charts
from pcn.web import guarded
from pcn.web.pages import SignedIn, _store, _view, render

router = APIRouter(include_in_schema=False)
_cache: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def _recorded(request: Request, start: dt.date, end: dt.date) -> list[RotaException]:
    try:
        return [ex for _, ex in list_exceptions(_store(request), start, end)]
    except SQLAlchemyError:  # a store without the table yet: the register's patterns only
        return []


def _cached(key: tuple[Any, ...], compute: Any) -> Any:
    with _lock:
        if key in _cache:
            return _cache[key]
    value = compute()
    with _lock:
        if len(_cache) > 32:
            _cache.clear()
        _cache[key] = value
    return value


def _dashboard(request: Request, practice: str | None) -> AccessDashboard:
    view = secondary_view(_view(request))
    record = view.record
    recorded = _recorded(
        request, view.as_of - dt.timedelta(weeks=14), view.as_of + dt.timedelta(weeks=9)
    )
    key = ("access", record.manifest.content_hash, practice, tuple(recorded), view.exclude_patients)
    return _cached(
        key,
        lambda: build_dashboard(
            record, practice, recorded, excluded=view.exclude_patients, inputs=read_inputs(record)
        ),
    )


def _protect(frame: pd.DataFrame, protected: bool) -> pd.DataFrame:
    """Request counts pass disclosure control for roles that see protected figures; staff
    minutes are working time, not patients, and are shown as they are."""
    if not protected or frame.empty:
        return frame
    out = frame.copy()
    out["demand_requests"] = protect_counts(
        out["demand_requests"].reset_index(drop=True)
    ).to_numpy()
    return out


@router.get("/access")
def access(request: Request, principal: SignedIn) -> Response:
    protected = guarded.aggregates(_store(request), principal, "/access")
    practice = principal.practice_code
    board = _dashboard(request, practice)
    names = _view(request).practice_names

    def named(frame: pd.DataFrame) -> list[dict[str, Any]]:
        out = _protect(frame, protected).assign(
            practice_name=frame["practice_code"].map(lambda c: names.get(c, c))
        )
        records: list[dict[str, Any]] = out.sort_values(["practice_name", "role_title"]).to_dict(
            "records"
        )  # type: ignore[assignment]
        return records

    trend = board.trend.assign(week=board.trend["week"].astype(str))
    trend_chart = (
        charts.line_spec(
            trend,
            x="week",
            series={"capacity_minutes": "Bookable minutes", "booked_minutes": "Booked minutes"},
            title="Bookable and booked minutes by week",
            y_label="Minutes",
        )
        if len(trend)
        else None
    )
    return render(
        request,
        "access.html",
        principal,
        board=board,
        practice=practice,
        practice_name=names.get(practice, practice) if practice else None,
        today_rows=named(board.today_rows),
        week_rows=named(board.week_rows),
        trend=board.trend.to_dict("records"),
        trend_chart=trend_chart,
        forecast=board.forecast.sort_values(["role_title", "week"]).to_dict("records"),
        staffing=board.staffing.to_dict("records"),
    )


@router.get("/rota")
def rota(request: Request, principal: SignedIn, week: str = "") -> Response:
    guarded.aggregates(_store(request), principal, "/rota")
    view = _view(request)
    try:
        start = dt.date.fromisoformat(week) if week else view.as_of
    except ValueError:
        start = view.as_of
    monday = start - dt.timedelta(days=start.weekday())
    practice = principal.practice_code
    recorded = _recorded(request, monday, monday + dt.timedelta(days=6))
    record = view.record
    key = ("rota", record.manifest.content_hash, practice, monday, tuple(recorded))
    table = _cached(key, lambda: rota_week(record, monday, practice, recorded))
    days = [monday + dt.timedelta(days=i) for i in range(5)]
    names = view.practice_names
    rows = (
        []
        if table.empty
        else table.assign(
            practice_name=table["practice_code"].map(
                lambda c: "PCN-employed" if c == "PCN" else names.get(c, c)
            )
        ).to_dict("records")
    )
    return render(
        request,
        "rota.html",
        principal,
        rows=rows,
        days=days,
        monday=monday,
        previous=(monday - dt.timedelta(days=7)).isoformat(),
        following=(monday + dt.timedelta(days=7)).isoformat(),
        practice_name=names.get(practice, practice) if practice else None,
    )
