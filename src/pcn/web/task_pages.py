"""Pages for the work: a worklist that can be worked (filters, sort, counts by status, bulk
create and assign), "my tasks" and "my team's tasks", one task with its history and the form to
record what was done, and the follow-through funnel. Thin edge over :mod:`pcn.tasks` (ADR 0110).

Every page works without JavaScript (plain GET filters and POST forms with a CSRF token); HTMX
only refreshes the results when a filter changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from pcn.access.policy import ROLE_ACTIONS, Action, Principal
from pcn.measures.sdc import protect_table
from pcn.record.codes import is_digits
from pcn.reporting.network import NetworkView
from pcn.store.database import Store
from pcn.tasks import funnel, service
from pcn.tasks.vocabulary import (
    CLOSED_STATUSES,
    OWNER_ROLE_TEXT,
    OWNER_ROLES,
    PRIORITIES,
    PRIORITY_TEXT,
    SOURCE_TEXT,
    STATUS_TEXT,
    STATUSES,
    outcomes,
)
from pcn.web import guarded, task_support
from pcn.web.pages import render
from pcn.web.security import csrf_valid, page_principal

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[Principal, Depends(page_principal)]

#: The worklist page's filters: worklist columns plus the task columns the page adds.
FILTER_COLUMNS = ("practice_code", "task_status", "task_owner", "priority", "core20plus",
                  "age_band", "sex")
FILTER_LABELS = {"practice_code": "Practice", "task_status": "Task status",
                 "task_owner": "Owner", "priority": "Priority", "core20plus": "Core20PLUS group",
                 "age_band": "Age band", "sex": "Sex"}
NO_TASK = "none"
TASK_STATUS_TEXT = {NO_TASK: "No task yet", **STATUS_TEXT}
SORTS = {"": "Worklist order (most reasons first)", "age_desc": "Oldest first",
         "age_asc": "Youngest first", "practice": "Practice"}
PAGE_SIZES = (25, 50, 100)
#: Columns shown as their own table cells (the rest of the definition's fields follow).
LEAD_COLUMNS = ("patient_id", "practice_code", "age", "sex", "reasons")
HIDDEN_COLUMNS = {"nhs_number", "reason_count", "task_id", "task_status", "task_owner",
                  "core20", "plus_groups", "priority", "core20plus"}


def _view(request: Request) -> NetworkView:
    return request.app.state.view


def _store(request: Request) -> Store:
    return request.app.state.store


def form_expired(request: Request, principal: Principal, back: str) -> Response:
    """A POST without a valid CSRF token: 400, nothing read or changed."""
    return render(request, "form_expired.html", principal, back=back, status_code=400)


def can_work(principal: Principal) -> bool:
    return Action.TRIAGE_WORK in ROLE_ACTIONS.get(principal.role, frozenset())


def _owner_text(user: str | None, role: str | None) -> str:
    if user:
        return user
    if role:
        return OWNER_ROLE_TEXT.get(role, role)
    return "Unassigned"


def _annotate(store: Store, worklist_id: str) -> Any:
    def add(frame: pd.DataFrame) -> pd.DataFrame:
        tasks = service.latest_on_worklist(store, worklist_id, frame["patient_id"].tolist())
        out = frame.copy()
        out["task_id"] = [tasks[p].id if p in tasks else None for p in frame["patient_id"]]
        out["task_status"] = [tasks[p].status if p in tasks else NO_TASK
                              for p in frame["patient_id"]]
        out["task_owner"] = [_owner_text(tasks[p].owner_user, tasks[p].owner_role)
                             if p in tasks else "Unassigned" for p in frame["patient_id"]]
        if "core20" in out.columns:
            plus = out["plus_groups"] if "plus_groups" in out.columns else [None] * len(out)
            # One patient can be in several groups: ';'-joined, filtered by membership.
            out["core20plus"] = [";".join(funnel.core20plus_labels(c, g))
                                 for c, g in zip(out["core20"], plus, strict=True)]
            out["core20"] = out["core20"].map({True: "Yes", False: "No"}).fillna("No")
        return out

    return add


def _sorter(sort: str) -> Any:
    def order(frame: pd.DataFrame) -> pd.DataFrame:
        if sort == "age_desc" and "age" in frame.columns:
            return frame.sort_values(["age", "patient_id"], ascending=[False, True],
                                     kind="mergesort")
        if sort == "age_asc" and "age" in frame.columns:
            return frame.sort_values(["age", "patient_id"], kind="mergesort")
        if sort == "practice":
            return frame.sort_values(["practice_code", "patient_id"], kind="mergesort")
        return frame

    return order


def _filters(request: Request) -> dict[str, str]:
    return {c: request.query_params.get(c, "").strip() for c in FILTER_COLUMNS}


def _sort(request: Request) -> str:
    sort = request.query_params.get("sort", "")
    return sort if sort in SORTS else ""


def _page_size(request: Request) -> int:
    raw = request.query_params.get("per_page", "")
    return int(raw) if raw.isdigit() and int(raw) in PAGE_SIZES else PAGE_SIZES[0]


def _choices(frame: pd.DataFrame, column: str) -> list[str]:
    """The values a filter offers; a multi-valued column offers each of its parts."""
    values = frame[column].dropna().astype(str)
    if column in guarded.MULTI_VALUED:
        values = values.str.split(";").explode()
        values = values[values != ""]
    return sorted(values.unique())


def _option_text(column: str, value: str, names: dict[str, str]) -> str:
    if column == "practice_code":
        return f"{names.get(value, value)} ({value})"
    if column == "task_status":
        return TASK_STATUS_TEXT.get(value, value)
    if column == "priority":
        return value.capitalize()
    if column == "sex":
        return {"F": "Female", "M": "Male"}.get(value, value)
    return value


@router.get("/worklists/{worklist_id}")
def worklist(request: Request, principal: SignedIn, worklist_id: str,
             page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    view = _view(request)
    store = _store(request)
    filters = _filters(request)
    sort = _sort(request)
    per_page = _page_size(request)
    result = guarded.worklist_rows(store, view, principal, worklist_id, filters=filters,
                                   page=page, page_size=per_page, route="/worklists/{id}",
                                   annotate=_annotate(store, worklist_id), sort=_sorter(sort))
    in_scope = result.in_scope
    names = view.practice_names
    options = {c: [{"value": v, "text": _option_text(c, v, names)}
                   for v in _choices(in_scope, c)]
               for c in FILTER_COLUMNS if c in in_scope.columns}
    status_counts = in_scope["task_status"].value_counts() if len(in_scope) else pd.Series()
    counts = [{"status": s, "text": TASK_STATUS_TEXT[s], "count": int(status_counts.get(s, 0))}
              for s in (NO_TASK, *STATUSES)]
    query = {k: v for k, v in {**filters, "sort": sort,
                               "per_page": str(per_page) if per_page != PAGE_SIZES[0]
                               else ""}.items() if v}

    def page_url(number: int) -> str:
        return f"/worklists/{worklist_id}?{urlencode({**query, 'page': number})}"

    columns = [c for c in LEAD_COLUMNS if c in result.rows.columns] + [
        c for c in result.rows.columns if c not in LEAD_COLUMNS and c not in HIDDEN_COLUMNS]
    definition = task_support.worklist_definition(worklist_id)
    return render(request, "worklist.html", principal, worklist_id=worklist_id,
                  title=view.worklist_title(worklist_id), definition=definition,
                  result=result, filters=filters, options=options, filter_labels=FILTER_LABELS,
                  columns=columns, page_url=page_url, counts=counts, sort=sort, sorts=SORTS,
                  per_page=per_page, page_sizes=PAGE_SIZES,
                  export_url=f"/worklists/{worklist_id}/export.csv?{urlencode(filters)}",
                  practice_names=names, outputs_stale=view.outputs_stale,
                  can_work=can_work(principal), owner_roles=OWNER_ROLES,
                  owner_role_text=OWNER_ROLE_TEXT, priorities=PRIORITIES,
                  task_status_text=TASK_STATUS_TEXT, current_query=urlencode(query),
                  created=request.query_params.get("created", ""),
                  assigned=request.query_params.get("assigned", ""),
                  error=request.query_params.get("error", ""))


@router.post("/worklists/{worklist_id}/tasks")
async def worklist_tasks(request: Request, principal: SignedIn, worklist_id: str) -> Response:
    """Bulk create (and assign) tasks for the chosen patients, or for every patient matching
    the filters."""
    form = await request.form()
    back_query = str(form.get("back_query", ""))
    back = f"/worklists/{worklist_id}" + (f"?{back_query}" if back_query else "")
    sep = "&" if back_query else "?"
    if not csrf_valid(request, str(form.get("csrf_token", ""))):
        return form_expired(request, principal, back)
    view = _view(request)
    store = _store(request)
    chosen = {int(str(v)) for v in form.getlist("patient_id") if is_digits(str(v))
              and len(str(v)) < 19}
    every = form.get("scope") == "all"
    filters = {c: str(form.get(c, "")).strip() for c in FILTER_COLUMNS}
    owner = str(form.get("owner", "")).strip()
    if owner == "me":
        owner = principal.username
    priority = str(form.get("priority", "routine"))
    # The rows come from the same audited, scoped read as the page.
    rows = guarded.worklist_rows(store, view, principal, worklist_id,
                                 filters=filters if every else {}, export=False, page=1,
                                 page_size=10**9, route="/worklists/{id}/tasks",
                                 annotate=_annotate(store, worklist_id)).rows
    if not every:
        rows = rows[rows["patient_id"].isin(sorted(chosen))]
    if rows.empty:
        return RedirectResponse(f"{back}{sep}error=none-chosen", status_code=303)
    reasons = rows["reasons"] if "reasons" in rows.columns else pd.Series("", index=rows.index)
    candidates = [service.Candidate(int(p), str(c), str(r)) for p, c, r in
                  zip(rows["patient_id"], rows["practice_code"], reasons, strict=True)]
    try:
        made = service.create_for_worklist(
            store, principal, worklist_id, candidates,
            worklists=task_support.worklist_titles(view), owner=owner or None,
            priority=priority, route="/worklists/{id}/tasks")
        assigned = 0
        if owner:
            for pid in made.already_open:
                task_id = rows.loc[rows["patient_id"] == pid, "task_id"].iloc[0]
                service.update(store, principal, int(task_id), service.TaskChange(owner=owner),
                               practices_of=task_support.practices_of(view),
                               route="/worklists/{id}/tasks")
                assigned += 1
    except service.TaskError as problem:
        return RedirectResponse(f"{back}{sep}{urlencode({'error': problem.problem})}",
                                status_code=303)
    return RedirectResponse(
        f"{back}{sep}{urlencode({'created': len(made.created), 'assigned': assigned})}",
        status_code=303)


# ---- my tasks, my team's tasks ------------------------------------------------------------
@router.get("/tasks")
def tasks(request: Request, principal: SignedIn,
          show: Annotated[str, Query(pattern="^(mine|team|all)$")] = "mine",
          status: Annotated[str, Query(max_length=32)] = "open") -> Response:
    statuses = {"open": ("open", "in_progress"), "closed": CLOSED_STATUSES,
                "any": STATUSES}.get(status, ("open", "in_progress"))
    everything = service.list_tasks(
        _store(request), principal,
        service.TaskFilter(owner="me" if show == "mine" else None, team=show == "team"),
        limit=5000, route="/tasks")
    rows = [t for t in everything if t.status in statuses][:500]
    counts = [{"status": s, "text": STATUS_TEXT[s],
               "count": sum(1 for t in everything if t.status == s)} for s in STATUSES]
    return render(request, "tasks.html", principal, tasks=rows, show=show, status=status,
                  counts=counts, status_text=STATUS_TEXT, priority_text=PRIORITY_TEXT,
                  source_text=SOURCE_TEXT, owner_text=_owner_text,
                  worklist_titles=task_support.worklist_titles(_view(request)),
                  practice_names=_view(request).practice_names)


def _task_id(raw: str) -> int:
    return int(raw) if is_digits(raw) and len(raw) < 10 else 0


def _task_page(request: Request, principal: Principal, task: service.TaskView, *,
               status_code: int = 200, errors: dict[str, str] | None = None,
               values: dict[str, str] | None = None, done: str = "") -> Response:
    view = _view(request)
    choices = [{"code": code, "term": o.term, "closes": list(o.closes)}
               for code, o in outcomes().items()]
    return render(request, "task.html", principal, task=task, status_code=status_code,
                  errors=errors or {}, values=values or {}, done=done,
                  status_text=STATUS_TEXT, priority_text=PRIORITY_TEXT,
                  source_text=SOURCE_TEXT, owner_text=_owner_text,
                  owner_roles=OWNER_ROLES, owner_role_text=OWNER_ROLE_TEXT,
                  priorities=PRIORITIES, outcome_choices=choices,
                  worklist_titles=task_support.worklist_titles(view),
                  practice_names=view.practice_names,
                  work_date=task_support.work_date(view), closed_statuses=CLOSED_STATUSES)


@router.get("/tasks/{task_id}")
def task(request: Request, principal: SignedIn, task_id: str) -> Response:
    view = _view(request)
    found = service.get(_store(request), principal, _task_id(task_id),
                        practices_of=task_support.practices_of(view), route="/tasks/{id}")
    return _task_page(request, principal, found,
                      done=request.query_params.get("done", "")[:20])


def _date_field(value: str, field: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise service.TaskError(field, "enter a date like 2026-12-04") from None


@router.post("/tasks/{task_id}")
def task_update(request: Request, principal: SignedIn, task_id: str,
                csrf_token: Annotated[str, Form()] = "", status: Annotated[str, Form()] = "",
                outcome_code: Annotated[str, Form()] = "",
                outcome_date: Annotated[str, Form()] = "",
                outcome_text: Annotated[str, Form()] = "", notes: Annotated[str, Form()] = "",
                owner: Annotated[str, Form()] = "", priority: Annotated[str, Form()] = "",
                attempt: Annotated[str, Form()] = "") -> Response:
    view = _view(request)
    store = _store(request)
    number = _task_id(task_id)
    practices_of = task_support.practices_of(view)
    values = {"status": status, "outcome_code": outcome_code, "outcome_date": outcome_date,
              "outcome_text": outcome_text, "notes": notes, "owner": owner,
              "priority": priority}
    if not csrf_valid(request, csrf_token):
        return form_expired(request, principal, f"/tasks/{number}")
    try:
        change = service.TaskChange(
            status=status or None, outcome_code=outcome_code or None,
            outcome_date=_date_field(outcome_date, "outcome_date"),
            outcome_text=outcome_text or None, notes=notes or None,
            owner=(principal.username if owner == "me" else owner) or None,
            priority=priority or None, contact_attempt=attempt == "yes")
        service.update(store, principal, number, change, practices_of=practices_of,
                       today=task_support.work_date(view),
                       satisfied_by=task_support.satisfied_by, route="/tasks/{id}")
    except (service.TaskError, service.TaskConflict) as problem:
        checked = isinstance(problem, service.TaskConflict) or problem.authorised
        found = service.get_unaudited(store, number) if checked else service.get(
            store, principal, number, practices_of=practices_of, route="/tasks/{id}")
        field = problem.field if isinstance(problem, service.TaskError) else "form"
        message = problem.problem if isinstance(problem, service.TaskError) else str(problem)
        return _task_page(request, principal, found, values=values,
                          status_code=422 if isinstance(problem, service.TaskError) else 409,
                          errors={field: message[:1].upper() + message[1:]})
    return RedirectResponse(f"/tasks/{number}?done=saved", status_code=303)


# ---- follow-through funnel ----------------------------------------------------------------
def _protect(frame: pd.DataFrame) -> pd.DataFrame:
    """Disclosure control on the funnel's counts (the one disclosure module)."""
    if frame.empty:
        return frame
    counts = frame[["identified", "contacted", "done"]].astype("int64")
    table = protect_table(counts, totals=False)
    out = frame.copy()
    for column in ("identified", "contacted", "done"):
        out[column] = table.values[column]
    out.loc[table.hidden["done"].to_numpy(), "median_days_to_done"] = float("nan")
    return out


def _with_share(frame: pd.DataFrame) -> pd.DataFrame:
    """Done as a percentage of identified; missing where either count is hidden or zero."""
    if frame.empty:
        return frame.assign(done_pct=pd.Series(dtype="float64"))
    done = pd.to_numeric(frame["done"], errors="coerce").astype("float64")
    identified = pd.to_numeric(frame["identified"], errors="coerce").astype("float64")
    share = (done / identified.where(identified > 0)) * 100
    return frame.assign(done_pct=share.to_numpy())


@router.get("/follow-through")
def follow_through(request: Request, principal: SignedIn,
                   worklist: Annotated[str, Query(max_length=64)] = "") -> Response:
    """Per worklist: identified → contacted → done, days to done, by practice and Core20PLUS."""
    view = _view(request)
    store = _store(request)
    protected = guarded.aggregates(store, principal, "/follow-through", worklist=worklist)
    ids = view.worklist_ids()
    chosen = worklist if worklist in ids else (ids[0] if ids else "")
    practice_rows: pd.DataFrame = pd.DataFrame()
    group_rows: pd.DataFrame = pd.DataFrame()
    if chosen:
        listed = view.worklist(chosen)
        tasks = funnel.task_frame(service.worklist_task_rows(store, chosen))
        outcomes_frame = funnel.patient_outcomes(listed, tasks)
        practice_rows = funnel.by_practice(outcomes_frame, view.pcn_code)
        groups = funnel.core20plus_groups(view.profile)
        group_rows = funnel.by_core20plus(outcomes_frame, groups)
        if protected:
            practice_rows = _protect(practice_rows)
            group_rows = _protect(group_rows)
        practice_rows = _with_share(practice_rows)
        group_rows = _with_share(group_rows)
    return render(request, "follow_through.html", principal, worklists=[
        {"id": w, "title": view.worklist_title(w)} for w in ids], chosen=chosen,
        title=view.worklist_title(chosen) if chosen else "", practice_rows=practice_rows,
        group_rows=group_rows, practice_names=view.practice_names)
