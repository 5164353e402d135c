"""HTML pages: parse the request, call :mod:`pcn.web.guarded`, render an NHS.UK template."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from pcn.access.guard import MalformedSignIn, NotFound, refused_sign_in
from pcn.access.guard import sign_in as sign_in_checked
from pcn.access.policy import ROLE_ACTIONS, Action, Principal
from pcn.access.secondary_use import secondary_view
from pcn.record.codes import is_digits
from pcn.reporting import charts
from pcn.reporting.csv_safe import csv_text
from pcn.reporting.network import NetworkView, OutputsMissing
from pcn.store.database import Store
from pcn.web import guarded
from pcn.web.security import (
    CSRF_FIELD,
    csrf_token_for,
    csrf_valid,
    end_session,
    page_principal,
    session_principal,
    set_csrf_cookie,
    start_session,
)

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(page_principal)]

NAVIGATION = [("/overview", "Overview"), ("/indicators", "Indicators"),
              ("/continuity", "Continuity"), ("/inequalities", "Inequalities"),
              ("/worklists", "Worklists"), ("/funding", "Funding"), ("/access", "Access"),
              ("/rota", "Rota")]
ROLE_NAMES = {"clinical_director": "Clinical director", "pcn_manager": "PCN manager",
              "practice_clinician": "Practice clinician", "care_coordinator": "Care coordinator",
              "analyst": "Analyst", "admin": "Administrator", "integration": "Integration"}
POSITION_TEXT = {"above_998": "Above 99.8% limit", "above_95": "Above 95% limit",
                 "within": "Within limits", "below_95": "Below 95% limit",
                 "below_998": "Below 99.8% limit", "no_data": "No data", "": ""}
#: A position outside the limits read by the indicator's declared direction (issue 19): never
#: just "above" or "below".
ASSESSMENT_TEXT = {"better": "better than expected", "worse": "worse than expected",
                   "different": "different from expected (neither direction is better)"}
VARIATION_TEXT = {
    "common_cause": "Common cause variation",
    "special_cause_improvement_high": "Special cause variation: improvement (higher)",
    "special_cause_improvement_low": "Special cause variation: improvement (lower)",
    "special_cause_concern_high": "Special cause variation: concern (higher)",
    "special_cause_concern_low": "Special cause variation: concern (lower)",
    "special_cause_neither_high": "Special cause variation (higher)",
    "special_cause_neither_low": "Special cause variation (lower)",
}


def _view(request: Request) -> NetworkView:
    return request.app.state.view


def _store(request: Request) -> Store:
    return request.app.state.store


def render(request: Request, template: str, principal: Principal | None, *,
           status_code: int = 200, **context: Any) -> Response:
    view = _view(request)
    path = request.url.path
    # Links a role cannot use are not shown (the aggregate pages need view_aggregates).
    actions = ROLE_ACTIONS.get(principal.role, frozenset()) if principal else frozenset()
    nav = [{"href": href, "text": text, "current": path == href or path.startswith(href + "/")}
           for href, text in NAVIGATION if Action.VIEW_AGGREGATES in actions]
    if principal is not None and Action.TRIAGE_WORK in ROLE_ACTIONS.get(principal.role, ()):
        nav.append({"href": "/triage", "text": "Triage",
                    "current": path == "/triage" or path.startswith("/triage/")})
        nav.append({"href": "/tasks", "text": "My tasks",
                    "current": path == "/tasks" or path.startswith("/tasks/")})
        nav.append({"href": "/mdt", "text": "MDT",
                    "current": path == "/mdt" or path.startswith("/mdt/")})
        nav.append({"href": "/monitoring", "text": "Home monitoring",
                    "current": path == "/monitoring"})
        nav.append({"href": "/social", "text": "Social prescribing",
                    "current": path == "/social" or path.startswith("/social/")})
    if principal is not None and Action.VIEW_AGGREGATES in ROLE_ACTIONS.get(principal.role, ()):
        nav.append({"href": "/follow-through", "text": "Follow-through",
                    "current": path == "/follow-through"})
    if principal is not None and actions & {Action.MANAGE_USERS, Action.MANAGE_AGREEMENTS,
                                            Action.VIEW_AUDIT}:
        nav.append({"href": "/admin", "text": "Admin", "current": path.startswith("/admin")})
    account = None
    if principal is not None:
        who = f"{principal.username} · {ROLE_NAMES.get(principal.role.value, principal.role)}"
        if principal.practice_code:
            who += f" · {principal.practice_code}"
        account = {"items": [{"text": who, "icon": True},
                             {"href": "/sign-out", "text": "Sign out"}]}
    token = csrf_token_for(request)
    response = request.app.state.templates.TemplateResponse(request, template, {
        "principal": principal, "navigation": nav if principal else [], "account": account,
        "csrf_field": CSRF_FIELD, "csrf_token": token, "pcn_name": view.pcn_name,
        "pcn_code": view.pcn_code, "as_of": view.as_of,
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        "protected": principal is not None and not guarded.is_clinical(principal),
        "position_text": POSITION_TEXT, "assessment_text": ASSESSMENT_TEXT, **context},
        status_code=status_code)
    set_csrf_cookie(request, response, token)
    return response


# ---- sign-in -------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Only same-site relative paths (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/overview"


@router.get("/")
def home(request: Request) -> Response:
    principal = session_principal(request)
    target = "/sign-in"
    if principal is not None:
        actions = ROLE_ACTIONS.get(principal.role, frozenset())
        target = "/overview" if Action.VIEW_AGGREGATES in actions else "/admin"
    return RedirectResponse(target, status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return render(request, "sign_in.html", None, next=_safe_next(next), error=None)


@router.post("/sign-in")
def sign_in(request: Request, username: Annotated[str, Form()] = "",
            password: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "",
            csrf_token: Annotated[str, Form()] = "") -> Response:
    if not csrf_valid(request, csrf_token):
        # An attempt all the same (a forged form, or an expired page): audited, never checked.
        refused_sign_in(_store(request), username, "csrf")
        return render(request, "sign_in.html", None, next=_safe_next(next), status_code=400,
                      error="Your form expired. Please try again.", username=username)
    try:
        principal = sign_in_checked(_store(request), username, password)
    except MalformedSignIn:
        return render(request, "sign_in.html", None, next=_safe_next(next), status_code=400,
                      error="Enter a username and password without control characters.",
                      username=username.replace("\x00", ""))
    if principal is None:
        return render(request, "sign_in.html", None, next=_safe_next(next), status_code=401,
                      error="Enter a correct username and password.", username=username)
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(request, response, principal.username)
    return response


@router.get("/sign-out")
def sign_out_form(request: Request, principal: SignedIn) -> Response:
    return render(request, "sign_out.html", principal)


@router.post("/sign-out")
def sign_out(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    if not csrf_valid(request, csrf_token):
        return Response("Invalid form token", status_code=400)
    response = RedirectResponse("/sign-in", status_code=303)
    end_session(request, response)
    return response


# ---- aggregate pages -----------------------------------------------------------------------
@router.get("/overview")
def overview(request: Request, principal: SignedIn) -> Response:
    protected = guarded.aggregates(_store(request), principal, "/overview")
    data = _view(request).overview(protected=protected)
    practices = data["practices"]
    chart = charts.bar_spec(practices.assign(label=practices["name"]), category="label",
                            value="patients", title="Registered patients by practice",
                            value_label="Patients", category_label="Practice")
    imd = data["imd"]
    imd_total = imd.loc["Total"].drop("Total") if "Total" in imd.index else imd.sum()
    imd_frame = pd.DataFrame({"quintile": imd_total.index, "patients": imd_total.to_numpy()})
    imd_chart = charts.bar_spec(imd_frame, category="quintile", value="patients",
                                title="Patients by IMD 2019 quintile of where they live",
                                value_label="Patients", category_label="IMD quintile")
    prevalence = data["prevalence"]
    prevalence_pcn = prevalence[prevalence["org_code"] == _view(request).pcn_code] \
        if len(prevalence) else prevalence
    return render(request, "overview.html", principal, data=data, chart=chart,
                  imd_chart=imd_chart, prevalence=prevalence_pcn)


@router.get("/indicators")
def indicators(request: Request, principal: SignedIn) -> Response:
    view = _view(request)
    protected = guarded.aggregates(_store(request), principal, "/indicators")
    rows: list[dict[str, Any]] = []
    for indicator_id, definition in sorted(view.indicator_definitions.items(),
                                           key=lambda kv: kv[1].title):
        try:
            table = view.indicator_table(indicator_id, protected=protected)
        except OutputsMissing as err:
            rows.append({"definition": definition, "table": None, "unavailable": str(err),
                         "not_available": view.indicator(indicator_id).not_available})
            continue
        by_org = {r["org_code"]: r for r in table.to_dict("records")}
        pcn = by_org.get(view.pcn_code, {})
        rows.append({"definition": definition, "table": table, "unavailable": "",
                     "by_org": by_org, "pcn_value": pcn.get("value")})
    return render(request, "indicators.html", principal, rows=rows,
                  practices=view.practices[["practice_code", "name"]].to_dict("records"))


@router.get("/indicators/{indicator_id}")
def indicator(request: Request, principal: SignedIn, indicator_id: str) -> Response:
    view = _view(request)
    if indicator_id not in view.indicator_definitions:
        guarded.aggregates(_store(request), principal, f"/indicators/{indicator_id}")
        raise NotFound()
    protected = guarded.aggregates(_store(request), principal, f"/indicators/{indicator_id}")
    definition = view.indicator_definitions[indicator_id]
    unit = "%" if definition.kind == "proportion" else f"per {definition.per:,}"
    state = view.indicator(indicator_id)
    if state.not_available:
        return render(request, "indicator.html", principal, definition=definition, unit=unit,
                      not_available=state.unavailable, protected=protected)
    table = view.indicator_table(indicator_id, protected=protected)
    value_label = f"{definition.title} ({unit})"
    points, curve, target = view.funnel_data(indicator_id, protected=protected)
    funnel = None if points.empty else charts.funnel_spec(
        points, curve, title=f"{definition.title}: practices against the PCN average",
        value_label=unit if definition.kind == "rate" else "Per cent",
        denominator_label=definition.denominator.description or "Denominator")
    spc = view.spc_data(indicator_id, protected=protected)
    spc_chart = None if spc is None else charts.spc_spec(
        spc["chart"], title=f"{view.pcn_name}: monthly {definition.title.lower()}",
        value_label=unit)
    return render(request, "indicator.html", principal, definition=definition, table=table,
                  funnel=funnel, target=target, spc=spc, spc_chart=spc_chart, unit=unit,
                  value_label=value_label, variation_text=VARIATION_TEXT)


@router.get("/indicators/{indicator_id}/export.csv")
def indicator_export(request: Request, principal: SignedIn, indicator_id: str) -> Response:
    # Planning export: opted-out patients left out, and disclosure control whoever asks.
    view = secondary_view(_view(request))
    guarded.export_aggregates(_store(request), principal,
                              f"/indicators/{indicator_id}/export.csv")
    if indicator_id not in view.indicator_definitions:
        raise NotFound()
    columns = ["level", "org_code", "name", "numerator", "denominator", "value", "position",
               "assessment", "dsr", "dsr_lower", "dsr_upper"]
    state = view.indicator(indicator_id)
    if state.not_available:
        # one row per organisation saying so: never blank cells a spreadsheet reads as zero
        orgs = view.practices[["practice_code", "name"]].rename(
            columns={"practice_code": "org_code"})
        frame = pd.concat([orgs.assign(level="practice"),
                           pd.DataFrame({"level": ["pcn"], "org_code": [view.pcn_code],
                                         "name": [view.pcn_name]})], ignore_index=True)
        frame = frame.assign(value="not available", note=state.unavailable)
        return _csv(frame[["level", "org_code", "name", "value", "note"]], f"{indicator_id}.csv")
    table = view.indicator_table(indicator_id, protected=True)
    return _csv(table[[c for c in columns if c in table.columns]], f"{indicator_id}.csv")


@router.get("/continuity")
def continuity(request: Request, principal: SignedIn) -> Response:
    protected = guarded.aggregates(_store(request), principal, "/continuity")
    data = _view(request).continuity(protected=protected)
    by_practice = data["by_practice"]
    chart = charts.bar_spec(by_practice.assign(label=by_practice["name"]), category="label",
                            value="mean_coc", title="Mean Bice-Boxerman continuity (COC) index",
                            value_label="Mean COC (0-1)", category_label="Practice")
    closer = data["closer_to_home"]
    closer_chart = charts.line_spec(
        closer, x="month", series={"primary_per_1000": "Primary and community contacts",
                                   "hospital_per_1000": "Hospital contacts"},
        title="Care closer to home: contacts per 1,000 registered patients",
        y_label="Contacts per 1,000") if len(closer) else None
    return render(request, "continuity.html", principal, by_practice=by_practice, chart=chart,
                  closer=closer, closer_chart=closer_chart)


@router.get("/inequalities")
def inequalities(request: Request, principal: SignedIn) -> Response:
    protected = guarded.aggregates(_store(request), principal, "/inequalities")
    view = _view(request)
    sections = []
    for dimension, label in (("imd_quintile", "IMD quintile"), ("ethnicity_6", "Ethnic group")):
        frame = view.inequalities(dimension, protected=protected)
        wide = frame.pivot(index="group", columns="measure", values="value")
        # Patients = the denominator of a per-patient measure (not the DNA rate's appointments).
        first = frame[frame["measure"] == frame["measure"].iloc[0]] if len(frame) else frame
        patients = first.set_index("group")["denominator"]
        chart_frame = frame[frame["measure"] == "Emergency admissions per 1,000"]
        chart = charts.bar_spec(chart_frame, category="group", value="value",
                                title=f"Emergency admissions per 1,000 by {label}",
                                value_label="Per 1,000", category_label=label)
        sections.append({"label": label, "dimension": dimension, "wide": wide,
                         "patients": patients, "chart": chart})
    return render(request, "inequalities.html", principal, sections=sections)


# ---- worklists (identifiable) --------------------------------------------------------------
FILTER_COLUMNS = ("practice_code", "sex", "age_band", "priority")


@router.get("/worklists")
def worklists(request: Request, principal: SignedIn) -> Response:
    protected = guarded.aggregates(_store(request), principal, "/worklists")
    view = _view(request)
    counts = view.worklist_counts(protected=protected)
    items = [{"id": wid, "title": view.worklist_title(wid)} for wid in view.worklist_ids()]
    return render(request, "worklists.html", principal, items=items, counts=counts,
                  can_search=guarded.can_search(principal),
                  not_available=view.worklists_not_available())


def _filters(request: Request) -> dict[str, str]:
    return {c: request.query_params.get(c, "").strip() for c in FILTER_COLUMNS}


@router.get("/worklists/{worklist_id}/export.csv")
def worklist_export(request: Request, principal: SignedIn, worklist_id: str) -> Response:
    result = guarded.worklist_rows(_store(request), _view(request), principal, worklist_id,
                                   filters=_filters(request), export=True,
                                   route="/worklists/{id}/export.csv")
    return _csv(result.rows, f"{worklist_id}.csv")


def _csv(frame: pd.DataFrame, filename: str) -> Response:
    # No text cell may start a spreadsheet formula (pcn.reporting.csv_safe).
    return StreamingResponse(iter([csv_text(frame)]), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---- one patient ---------------------------------------------------------------------------
def parse_patient_id(raw: str) -> int | None:
    return int(raw) if is_digits(raw) and len(raw) < 19 else None


@router.get("/patients/{patient_id}")
def patient(request: Request, principal: SignedIn, patient_id: str) -> Response:
    from pcn.reporting.clinical_summary import clinical_summary
    from pcn.risk.qrisk3 import QRISK3_DISCLAIMER, QRISK3_IMPLEMENTATION_NOTE
    from pcn.tasks.service import open_tasks_of
    from pcn.tasks.vocabulary import OPEN_STATUSES, STATUS_TEXT

    view = _view(request)
    number = parse_patient_id(patient_id)
    summary = guarded.patient_summary(_store(request), view, principal, number,
                                      route="/patients/{id}")
    registered_at = ", ".join(f"{view.practice_names.get(code, code)} ({code})"
                              for code in summary["practices"])
    from pcn.care.plans import current_unaudited

    tasks = open_tasks_of(_store(request), summary["patient_id"])
    plan = current_unaudited(_store(request), summary["patient_id"])
    clinical = clinical_summary(view, summary["patient_id"], summary, tasks)
    return render(request, "patient.html", principal, patient=summary,
                  registered_at=registered_at, clinical=clinical, plan=plan,
                  open_tasks=[t for t in tasks if t.status in OPEN_STATUSES],
                  status_text=STATUS_TEXT,
                  worklist_titles={w: view.worklist_title(w) for w in summary["worklists"]},
                  qrisk3_note=QRISK3_IMPLEMENTATION_NOTE, qrisk3_disclaimer=QRISK3_DISCLAIMER,
                  back=_safe_next(request.query_params.get("back")))
