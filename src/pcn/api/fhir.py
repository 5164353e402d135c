"""``/fhir/...``: read-only FHIR R4 (UK Core) for other systems, behind bearer tokens.

The same guard as every page and API route decides (``pcn.access.guard``), writes exactly one
audit event per request, and a refusal is indistinguishable from a patient who does not exist:
both answer 404 with the same OperationOutcome. Resources come from ``pcn.fhir.read.FhirReader``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from pcn.access.guard import NotFound, disclose_in_scope, require
from pcn.access.policy import Action, PatientScope, Principal, Purpose
from pcn.fhir.outcome import FhirError, operation_outcome
from pcn.fhir.read import FhirReader
from pcn.record.codes import is_digits
from pcn.reporting.network import NetworkView
from pcn.store.database import Store
from pcn.web.security import bearer_principal

router = APIRouter(prefix="/fhir", tags=["fhir"])
FHIR_JSON = "application/fhir+json"


def _response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def fhir_error(status: int, message: str) -> JSONResponse:
    """Any error under /fhir as an OperationOutcome (used by the app's error handlers too)."""
    code = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
            405: "not-supported"}.get(status, "processing")
    return _response(operation_outcome("error", code, message), status)


def _not_found(what: str) -> JSONResponse:
    # Same body for "no such patient" and "not allowed": nothing to tell them apart.
    return _response(operation_outcome("error", "not-found", f"{what} is not known"), 404)


def _caller(request: Request) -> Principal | JSONResponse:
    principal = bearer_principal(request)
    if principal is None:
        resp = _response(operation_outcome("error", "login",
                                           "a valid bearer token is required"), 401)
        resp.headers["WWW-Authenticate"] = "Bearer"
        return resp
    return principal


def _reader(request: Request) -> FhirReader:
    reader = getattr(request.app.state, "fhir_reader", None)
    if reader is None:
        view: NetworkView = request.app.state.view
        reader = FhirReader(view.record)
        request.app.state.fhir_reader = reader
    return reader


def _patient_number(value: str) -> int | None:
    return int(value) if is_digits(value) and len(value) <= 18 else None


def _authorise_patient(request: Request, principal: Principal, patient_id: int | None,
                       route: str) -> None:
    """One audited decision about one patient; raises NotFound when refused or unknown."""
    store: Store = request.app.state.store
    view: NetworkView = request.app.state.view
    practices = view.patient_practices(patient_id) if patient_id is not None else frozenset()
    require(store, principal, Action.VIEW_PATIENT, purpose=Purpose.DIRECT_CARE,
            patient_id=patient_id, patient_practices=practices, detail={"route": route})
    if patient_id is None or not practices:
        raise NotFound()


def _one_patient(request: Request, patient_id: str, route: str,
                 fetch: Callable[[FhirReader, str], dict[str, Any]]) -> JSONResponse:
    """Authorise (one audit event), then answer with ``fetch`` or the uniform 404."""
    caller = _caller(request)
    if isinstance(caller, JSONResponse):
        return caller
    pid = _patient_number(patient_id)
    try:
        _authorise_patient(request, caller, pid, route)
        return _response(fetch(_reader(request), str(pid)))
    except (NotFound, FhirError):
        return _not_found(f"Patient/{patient_id}")


@router.get("/Patient/{patient_id}", summary="Read a Patient")
def read_patient(patient_id: str, request: Request) -> JSONResponse:
    return _one_patient(request, patient_id, "fhir/Patient", FhirReader.patient)


@router.get("/Patient/{patient_id}/$everything", summary="Everything about one Patient")
def patient_everything(patient_id: str, request: Request) -> JSONResponse:
    return _one_patient(request, patient_id, "fhir/Patient/$everything", FhirReader.everything)


@router.get("/Patient", summary="Search Patients by identifier (NHS number)")
def search_patient(request: Request,
                   identifier: str = Query(..., max_length=200,
                                           description="system|value or a bare NHS number")
                   ) -> JSONResponse:
    caller = _caller(request)
    if isinstance(caller, JSONResponse):
        return caller
    store: Store = request.app.state.store
    view: NetworkView = request.app.state.view

    def select(scope: PatientScope) -> tuple[JSONResponse, list[int]]:
        """The search's bundle with only the patients in scope, and who they are."""
        try:
            bundle = _reader(request).search_patients(identifier)
        except FhirError as e:
            return _response(e.outcome, e.status), []
        except ValueError:
            return _response(operation_outcome("error", "invalid",
                                               f"identifier {identifier!r} is not valid"),
                             400), []
        allowed, shown = [], []
        for entry in bundle.get("entry", []):
            pid = _patient_number(str(entry["resource"].get("id", "")))
            if pid is not None and scope.allows(pid, view.patient_practices(pid)):
                allowed.append(entry)
                shown.append(pid)
        return _response({**bundle, "entry": allowed, "total": len(allowed)}), shown

    # One event, naming the patient(s) the search returned (who-viewed finds it).
    return disclose_in_scope(store, caller, select,
                             detail={"route": "fhir/Patient?identifier"})


@router.get("/Observation", summary="Search a Patient's Observations (optionally by code)")
def search_observation(request: Request,
                       patient: str = Query(..., max_length=60),
                       code: str | None = Query(None, max_length=200)) -> JSONResponse:
    caller = _caller(request)
    if isinstance(caller, JSONResponse):
        return caller
    pid = _patient_number(patient.removeprefix("Patient/"))
    try:
        _authorise_patient(request, caller, pid, "fhir/Observation")
        return _response(_reader(request).observations(str(pid), code))
    except NotFound:
        return _not_found(f"Patient/{patient}")
    except FhirError as e:
        return _response(e.outcome, e.status)


def _workflow_search(request: Request, patient: str, route: str,
                     build: Callable[[Store, int], list[dict[str, Any]]]) -> JSONResponse:
    caller = _caller(request)
    if isinstance(caller, JSONResponse):
        return caller
    pid = _patient_number(patient.removeprefix("Patient/"))
    try:
        _authorise_patient(request, caller, pid, route)
    except NotFound:
        return _not_found(f"Patient/{patient}")
    assert pid is not None
    from pcn.fhir.read import _searchset

    return _response(_searchset(build(request.app.state.store, pid)))


@router.get("/CarePlan", summary="Search a Patient's care plans (UK Core CarePlan)")
def search_care_plan(request: Request, patient: str = Query(..., max_length=60)
                     ) -> JSONResponse:
    from pcn.care.plans import current_unaudited
    from pcn.fhir.workflow import care_plan_resource

    def build(store: Store, pid: int) -> list[dict[str, Any]]:
        plan = current_unaudited(store, pid)
        return [care_plan_resource(plan)] if plan is not None else []

    return _workflow_search(request, patient, "fhir/CarePlan", build)


@router.get("/Task", summary="Search a Patient's tasks (UK Core Task)")
def search_task(request: Request, patient: str = Query(..., max_length=60)) -> JSONResponse:
    from pcn.fhir.workflow import task_resource
    from pcn.tasks.service import open_tasks_of

    view: NetworkView = request.app.state.view
    titles = {w: view.worklist_title(w) for w in view.worklist_ids()}

    def build(store: Store, pid: int) -> list[dict[str, Any]]:
        return [task_resource(t, titles.get(t.worklist_id or "")) for t in
                open_tasks_of(store, pid)]

    return _workflow_search(request, patient, "fhir/Task", build)
