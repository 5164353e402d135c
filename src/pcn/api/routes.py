"""``/api/...``: JSON for other tools, authenticated by bearer tokens (``pcn users token NAME``)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from pcn.access.guard import NotFound
from pcn.access.policy import Principal
from pcn.access.secondary_use import secondary_view
from pcn.record.codes import is_digits
from pcn.reporting.network import NetworkView
from pcn.store.database import Store
from pcn.web import guarded
from pcn.web.security import bearer_principal

router = APIRouter(prefix="/api", tags=["api"])


def api_principal(request: Request) -> Principal:
    """Dependency: the token's user, or 401 with a ``WWW-Authenticate: Bearer`` challenge."""
    principal = bearer_principal(request)
    if principal is None:
        raise HTTPException(status_code=401, detail="a valid bearer token is required",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


Caller = Annotated[Principal, Depends(api_principal)]


def _view(request: Request) -> NetworkView:
    return request.app.state.view


def _store(request: Request) -> Store:
    return request.app.state.store


def _plain(value: Any) -> Any:
    """JSON-safe scalars: NA/NaN → None, numpy → Python, dates → ISO strings."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        return _plain(value.item())
    return value


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


class IndicatorRow(BaseModel):
    level: str = Field(description="practice or pcn")
    org_code: str
    name: str | None = None
    numerator: int | None = Field(None, description="null when hidden by disclosure control")
    denominator: int | None = None
    value: float | None = None
    position: str | None = Field(None, description="funnel position (practices)")
    assessment: str | None = Field(None, description="position read by the indicator's "
                                   "direction: better, worse, different (or empty: within)")
    dsr: float | None = Field(None, description="rates: directly age-standardised rate (ESP "
                              "2013); null when under 10 events")
    dsr_lower: float | None = Field(None, description="95% CI (Dobson), lower")
    dsr_upper: float | None = Field(None, description="95% CI (Dobson), upper")


class SeriesPoint(BaseModel):
    month: str = Field(description="YYYY-MM; patient-based indicators are evaluated at its end")
    numerator: int | None = Field(None, description="null when hidden by disclosure control")
    denominator: int | None = None
    value: float | None = None
    point_type: str | None = Field(None, description="SPC point: common_cause, improvement, "
                                   "concern or neither (special cause)")


class SpcOut(BaseModel):
    mean: float
    lower_limit: float
    upper_limit: float
    variation: str | None = Field(None, description="MDC variation icon of the latest point")
    assurance: str | None = Field(None, description="MDC assurance icon (needs a target)")
    points: list[SeriesPoint] = Field(description="the PCN's monthly series, oldest first")


class IndicatorOut(BaseModel):
    id: str
    title: str
    kind: str
    per: int
    low_is_good: bool | None
    as_of: dt.date
    disclosure_control: bool = Field(description="true when small numbers are hidden/rounded")
    rows: list[IndicatorRow]
    available: bool = Field(True, description="false when this record cannot support the "
                            "indicator: no rows and no chart are given, never zeros")
    not_available_reason: str | None = Field(None, description="why it is not available")
    spc: SpcOut | None = Field(None, description="XmR chart of the PCN's monthly series; null "
                               "when there are fewer than two months")


class WorklistSummary(BaseModel):
    id: str
    title: str
    counts: dict[str, int | None] = Field(description="rows per practice (after SDC if applied)")


class WorklistsOut(BaseModel):
    disclosure_control: bool
    worklists: list[WorklistSummary]


class WorklistOut(BaseModel):
    id: str
    title: str
    total: int
    page: int
    pages: int
    rows: list[dict[str, Any]]


class PatientOut(BaseModel):
    patient_id: int
    nhs_number: str
    date_of_birth: str | None
    sex: str | None
    date_of_death: str | None
    practices: list[str]
    registers: list[str]
    profile: dict[str, Any]
    appointments: list[dict[str, Any]]
    hospital_activity: list[dict[str, Any]]
    worklists: list[str]


@router.get("/indicators/{indicator_id}", response_model=IndicatorOut)
def get_indicator(request: Request, caller: Caller, indicator_id: str) -> IndicatorOut:
    """One indicator per practice and for the PCN, with each practice's funnel position
    (secondary use: patients who opted out are left out)."""
    view = secondary_view(_view(request))
    protected = guarded.aggregates(_store(request), caller, "/api/indicators/{id}",
                                   indicator=indicator_id)
    if indicator_id not in view.indicator_definitions:
        raise NotFound()
    definition = view.indicator_definitions[indicator_id]
    state = view.indicator(indicator_id)
    if state.not_available:
        return IndicatorOut(id=indicator_id, title=definition.title, kind=definition.kind,
                            per=definition.per, low_is_good=definition.low_is_good,
                            as_of=view.as_of, disclosure_control=protected, rows=[],
                            available=False, not_available_reason=state.unavailable)
    table = view.indicator_table(indicator_id, protected=protected)
    columns = ["level", "org_code", "name", "numerator", "denominator", "value", "position",
               "assessment", "dsr", "dsr_lower", "dsr_upper"]
    rows = [IndicatorRow(**r) for r in _rows(table[[c for c in columns if c in table.columns]])]
    return IndicatorOut(id=indicator_id, title=definition.title, kind=definition.kind,
                        per=definition.per, low_is_good=definition.low_is_good,
                        as_of=view.as_of, disclosure_control=protected, rows=rows,
                        spc=_spc(view.spc_data(indicator_id, protected=protected)))


def _spc(data: dict[str, Any] | None) -> SpcOut | None:
    if data is None:
        return None
    chart = data["chart"]
    points = data["series"].assign(point_type=chart.points["point_type"].to_numpy())
    return SpcOut(mean=chart.mean, lower_limit=chart.lower_limit, upper_limit=chart.upper_limit,
                  variation=chart.variation.value if chart.variation else None,
                  assurance=chart.assurance.value if chart.assurance else None,
                  points=[SeriesPoint(**r) for r in _rows(points)])


@router.get("/worklists", response_model=WorklistsOut)
def list_worklists(request: Request, caller: Caller) -> WorklistsOut:
    """Every worklist with its number of patients per practice (an aggregate; secondary use:
    patients who opted out are left out)."""
    view = secondary_view(_view(request))
    protected = guarded.aggregates(_store(request), caller, "/api/worklists")
    counts = view.worklist_counts(protected=protected)
    out = []
    for wid in view.worklist_ids():
        row = counts.loc[wid] if wid in counts.index else pd.Series(dtype="Int64")
        out.append(WorklistSummary(id=wid, title=view.worklist_title(wid),
                                   counts={str(k): _plain(v) for k, v in row.items()}))
    return WorklistsOut(disclosure_control=protected, worklists=out)


@router.get("/worklists/{worklist_id}", response_model=WorklistOut)
def get_worklist(request: Request, caller: Caller, worklist_id: str,
                 practice: Annotated[str | None, Query(pattern=r"^[A-Z][0-9A-Z]{5}$")] = None,
                 page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                 page_size: Annotated[int, Query(ge=1, le=500)] = 100) -> WorklistOut:
    """The patients on a worklist that the caller may see (own practice or by agreement)."""
    view = _view(request)
    result = guarded.worklist_rows(_store(request), view, caller, worklist_id,
                                   filters={"practice_code": practice or ""}, page=page,
                                   page_size=page_size, route="/api/worklists/{id}")
    return WorklistOut(id=worklist_id, title=view.worklist_title(worklist_id),
                       total=result.total, page=result.page, pages=result.pages,
                       rows=_rows(result.rows))


@router.get("/patients/{patient_id}", response_model=PatientOut)
def get_patient(request: Request, caller: Caller, patient_id: str) -> PatientOut:
    """A patient's summary: clinical roles only, own practice or a sharing agreement."""
    number = int(patient_id) if is_digits(patient_id) and len(patient_id) < 19 else None
    summary = guarded.patient_summary(_store(request), _view(request), caller, number,
                                      route="/api/patients/{id}")
    return PatientOut(
        patient_id=summary["patient_id"], nhs_number=summary["nhs_number"],
        date_of_birth=_plain(summary["date_of_birth"]), sex=summary["sex"],
        date_of_death=_plain(summary["date_of_death"]), practices=summary["practices"],
        registers=summary["registers"],
        profile={k: _plain(v) for k, v in summary["profile"].items()},
        appointments=[{k: _plain(v) for k, v in a.items()} for a in summary["appointments"]],
        hospital_activity=[{k: _plain(v) for k, v in h.items()}
                           for h in summary["hospital_activity"]],
        worklists=summary["worklists"])
