"""The FastAPI application: pages (:mod:`pcn.web.pages`) and the JSON API (:mod:`pcn.api`).

Front-end assets come from the npm packages installed by ``make install`` (``node_modules`` at
the repository root, or ``PCN_NODE_MODULES``): NHS.UK frontend, HTMX, Vega, Vega-Lite, vega-embed,
and Swagger UI for ``/api/docs``. Nothing is loaded from a public CDN (the CSP allows this server
only).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    select_autoescape,
)
from starlette.exceptions import HTTPException as StarletteHTTPException

from pcn.access.guard import NotFound
from pcn.config import Settings, get_settings
from pcn.reporting import display
from pcn.reporting.network import NetworkView, OutputsMissing, open_network
from pcn.store.database import Store, open_store
from pcn.tasks.service import TaskConflict, TaskError
from pcn.triage.requests import RequestError, StateConflict
from pcn.web.admin_pages import Forbidden
from pcn.web.limits import AnonymousSubmissions, ConcurrencyLimit
from pcn.web.security import BodySizeLimit, SecurityHeaders, SignInRequired, make_signers

HERE = Path(__file__).parent
#: (URL prefix, path inside node_modules) of every front-end package the pages load.
NPM_ASSETS = [
    ("/assets", "nhsuk-frontend/dist/nhsuk/assets"),
    ("/static/nhsuk", "nhsuk-frontend/dist/nhsuk"),
    ("/static/htmx", "htmx.org/dist"),
    ("/static/vega", "vega/build"),
    ("/static/vega-lite", "vega-lite/build"),
    ("/static/vega-embed", "vega-embed/build"),
    ("/static/swagger-ui", "swagger-ui-dist"),
]


class AssetsMissing(RuntimeError):
    """The npm packages are not installed."""


def find_node_modules() -> Path:
    """``PCN_NODE_MODULES``, else the first ``node_modules`` in the working directory or above
    this package (a development checkout)."""
    configured = os.environ.get("PCN_NODE_MODULES")
    candidates = [Path(configured)] if configured else []
    candidates += [Path.cwd() / "node_modules", *(p / "node_modules" for p in HERE.parents)]
    for candidate in candidates:
        if (candidate / "nhsuk-frontend").is_dir():
            return candidate
    raise AssetsMissing("front-end assets not found: run `make install` (npm install) at the "
                        "repository root, or set PCN_NODE_MODULES to a node_modules directory")


#: ``@font-face`` rules that fetch a font from another host (the NHS.UK frontend's Frutiger).
REMOTE_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*url\(\s*['\"]?(?:https?:)?//[^}]*\}")


def local_nhsuk_css(node_modules: Path) -> str:
    """The NHS.UK frontend stylesheet without its remote web fonts: its font stack then falls
    back to Arial, so no page makes a request to another host ("nothing leaves your
    machine"). Served at ``/static/local/nhsuk-frontend.css``."""
    css = (node_modules / "nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css").read_text("utf-8")
    return REMOTE_FONT_FACE.sub("", css)


def _fmt(value: Any, digits: int = 1, marker: str = "*") -> str:
    """Numbers for people: thousands separators, hidden (suppressed) values as the marker."""
    if value is None or value is _NA or (isinstance(value, float) and math.isnan(value)):
        return marker
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int) or (hasattr(value, "is_integer") and float(value).is_integer()
                                  and digits == 0):
        return f"{int(value):,}"
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


try:
    import pandas as _pd

    _NA: Any = _pd.NA
except ImportError:  # pragma: no cover
    _NA = object()


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(HERE / "templates"),
                             PackageLoader("nhsuk_frontend_jinja", "templates")]),
        autoescape=select_autoescape(("html", "jinja")),
        undefined=ChainableUndefined,  # the NHS.UK macros read optional nested params
    )
    env.filters["fmt"] = _fmt
    # The one formatting layer for people (pcn.reporting.display): dates, units, codes, labels.
    env.filters["date"] = display.date
    env.filters["date_time"] = display.date_time
    env.filters["cell"] = lambda value, column, missing=display.NOT_RECORDED: display.cell(
        column, value, missing)
    env.filters["label"] = display.label
    env.filters["coded"] = display.coded
    env.filters["yes_no"] = display.yes_no
    env.filters["number"] = display.number
    # JSON inside <script>: escape <, > and & so no data can end the element or open a comment.
    env.filters["tojson_safe"] = lambda spec: (json.dumps(spec).replace("<", "\\u003c")
                                               .replace(">", "\\u003e").replace("&", "\\u0026"))
    return Jinja2Templates(env=env)


def _secret(settings: Settings) -> str:
    secret = settings.require_secret()
    # Debug mode without a key: a random one per process (sessions end with the server).
    return secret if secret.strip() else secrets.token_urlsafe(32)


_refresh_lock = threading.Lock()


class FreshView:
    """ASGI middleware: before each request, open newly published snapshots (a cheap check of
    the record's and the outputs' ``current`` links)."""

    def __init__(self, app: Any, record_dir: str | Path) -> None:
        self.app = app
        self.record_dir = record_dir

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            refresh_view(scope["app"], self.record_dir)
        await self.app(scope, receive, send)


def _published(record_dir: str | Path) -> tuple[str, str]:
    """Which record and outputs snapshots are published now (their resolved paths)."""
    base = Path(record_dir)
    return (os.path.realpath(base / "current"), os.path.realpath(base / "outputs" / "current"))


def refresh_view(app: FastAPI, record_dir: str | Path) -> None:
    """Open the newly published record/outputs when they changed since the view was opened."""
    now = _published(record_dir)
    if now == app.state.published:
        return
    with _refresh_lock:
        if now != app.state.published:
            app.state.view = open_network(record_dir)
            app.state.patient_directory = None
            app.state.published = now


def create_app(record_dir: str | Path, *, store: Store | None = None,
               settings: Settings | None = None, warm: bool = False) -> FastAPI:
    """The app serving one network record; ``store`` defaults to the configured one."""
    settings = settings or get_settings()
    view: NetworkView = open_network(record_dir)
    if warm:
        view.warm()
    # /api/docs and /openapi.json are this app's own routes (pcn.web.api_docs): Swagger UI from
    # the npm package, and sign-in required outside debug mode.
    app = FastAPI(title="pcn", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  description="The network's indicators, worklists and patient summaries. "
                              "Authenticate with `Authorization: Bearer <token>` "
                              "(`pcn users token NAME`).")
    app.state.view = view
    app.state.published = _published(record_dir)
    app.state.store = store or open_store(settings=settings)
    app.state.signers = make_signers(_secret(settings))
    app.state.templates = make_templates()
    app.state.settings = settings
    app.state.anonymous_submissions = AnonymousSubmissions(settings.public_requests_per_hour)
    from pcn.api.requests import MAX_BODY_BYTES

    app.add_middleware(BodySizeLimit, prefixes=("/api/requests", "/request", "/triage"),
                       limit=MAX_BODY_BYTES)
    if warm:  # the triage engine (classifier) and the patient directory, before the first request
        from pcn.triage import default_engine
        from pcn.web.triage_support import patient_directory

        _ = default_engine().classifier
        patient_directory(app).warm()
    # A re-run (`pcn run`, which first writes closed tasks into the record) or a new load
    # publishes new snapshots: the next request reads them, without a restart.
    app.add_middleware(FreshView, record_dir=record_dir)

    # An overloaded server refuses at once (503) rather than failing late.
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrent_requests)
    # Outermost (added last): every answer gets the security headers, the 413/411/503 too.
    app.add_middleware(SecurityHeaders)

    node_modules = find_node_modules()
    for prefix, sub in NPM_ASSETS:
        app.mount(prefix, StaticFiles(directory=node_modules / sub), name=prefix.strip("/"))
    app.mount("/static/app", StaticFiles(directory=HERE / "static"), name="app-static")
    app.state.nhsuk_css = local_nhsuk_css(node_modules)

    from pcn.api.fhir import router as fhir_router
    from pcn.api.requests import router as requests_router
    from pcn.api.routes import router as api_router
    from pcn.api.tasks import router as tasks_router
    from pcn.web.access_pages import router as access_router
    from pcn.web.admin_pages import router as admin_page_router
    from pcn.web.api_docs import router as docs_router
    from pcn.web.care_pages import router as care_page_router
    from pcn.web.funding_pages import router as funding_router
    from pcn.web.mdt_pages import router as mdt_page_router
    from pcn.web.monitoring_pages import router as monitoring_page_router
    from pcn.web.pages import router as page_router
    from pcn.web.social_pages import router as social_page_router
    from pcn.web.task_pages import router as task_page_router
    from pcn.web.triage_pages import router as triage_router

    app.include_router(api_router)
    app.include_router(requests_router)
    app.include_router(tasks_router)
    app.include_router(fhir_router)
    app.include_router(page_router)
    app.include_router(task_page_router)
    app.include_router(care_page_router)
    app.include_router(mdt_page_router)
    app.include_router(admin_page_router)
    app.include_router(triage_router)
    app.include_router(funding_router)
    app.include_router(monitoring_page_router)
    app.include_router(social_page_router)
    app.include_router(access_router)
    app.include_router(docs_router)
    _install_error_pages(app)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _not_found(request: Request) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "not_found.html", {"principal": None},
                                      status_code=404)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def _denied(request: Request, exc: NotFound) -> Response:
        return _not_found(request)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        from pcn.web.pages import render
        from pcn.web.security import session_principal

        return render(request, "forbidden.html", session_principal(request), status_code=403)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/fhir"):
            from pcn.api.fhir import fhir_error

            return fhir_error(exc.status_code, str(exc.detail))
        if exc.status_code == 404:
            return _not_found(request)
        if _wants_json(request) or exc.status_code != 401:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return HTMLResponse("Sign in required", status_code=401)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/fhir"):
            from pcn.api.fhir import fhir_error

            where = "; ".join(".".join(str(p) for p in err.get("loc", ())) + ": "
                              + str(err.get("msg", "")) for err in exc.errors())
            return fhir_error(400, f"invalid request: {where}")
        problems = [{"field": ".".join(str(p) for p in err.get("loc", ())),
                     "problem": err.get("msg", "")} for err in exc.errors()]
        return JSONResponse({"detail": "invalid request", "problems": problems},
                            status_code=422)

    @app.exception_handler(RequestError)
    async def _bad_field(request: Request, exc: RequestError) -> Response:
        return JSONResponse({"detail": "invalid request",
                             "problems": [{"field": exc.field, "problem": exc.problem}]},
                            status_code=422)

    @app.exception_handler(StateConflict)
    async def _conflict(request: Request, exc: StateConflict) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(TaskError)
    async def _bad_task_field(request: Request, exc: TaskError) -> Response:
        return JSONResponse({"detail": "invalid request",
                             "problems": [{"field": exc.field, "problem": exc.problem}]},
                            status_code=422)

    @app.exception_handler(TaskConflict)
    async def _task_conflict(request: Request, exc: TaskConflict) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(OutputsMissing)
    async def _missing(request: Request, exc: OutputsMissing) -> Response:
        message = str(exc) or "run `pcn run --record DIR` first"
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=409)
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(request, "outputs_missing.html",
                                          {"message": message, "principal": None},
                                          status_code=409)
