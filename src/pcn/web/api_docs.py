"""``/api/docs`` and ``/openapi.json``: the API's description, for signed-in people and tools;
and the NHS.UK stylesheet without remote fonts.

Swagger UI comes from the ``swagger-ui-dist`` npm package installed with the other front-end
assets (``/static/swagger-ui``), started by a script of our own (``/static/app/api-docs.js``), so
the page obeys the same CSP as every other page and loads nothing from a public CDN.

Outside debug mode both need a caller: the docs page a signed-in session (else the sign-in page),
the schema a session or a bearer token (else 401). In debug mode they are open, for development.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from pcn.config import Settings
from pcn.web.security import SignInRequired, bearer_principal, session_principal

router = APIRouter(include_in_schema=False)

DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>pcn API</title>
  <link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
  <link rel="icon" type="image/png" href="/static/swagger-ui/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/openapi.json"></div>
  <script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/app/api-docs.js"></script>
</body>
</html>
"""


def _open(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.debug


@router.get("/static/local/nhsuk-frontend.css")
def nhsuk_css(request: Request) -> Response:
    """The NHS.UK frontend stylesheet with no remote font (:func:`pcn.web.app.local_nhsuk_css`)."""
    return Response(request.app.state.nhsuk_css, media_type="text/css",
                    headers={"Cache-Control": "public, max-age=3600"})


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    if not _open(request) and session_principal(request) is None:
        raise SignInRequired()
    return HTMLResponse(DOCS_PAGE)


@router.get("/openapi.json")
def openapi_schema(request: Request) -> Response:
    if not _open(request) and session_principal(request) is None \
            and bearer_principal(request) is None:
        raise HTTPException(status_code=401, detail="sign in, or send a bearer token, to read "
                            "the API description", headers={"WWW-Authenticate": "Bearer"})
    return JSONResponse(request.app.openapi())
