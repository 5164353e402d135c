"""Issue 16, item 11: security headers on every answer (those made by middleware too), HSTS over
HTTPS, and API docs served from the npm package behind sign-in. The browser side (no request
leaves for another host) is in tests/web/test_browser.py."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from pcn.config import Settings
from tests.web.conftest import WebWorld, signed_in
from tests.web.test_security import _check_headers


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _busy_app(web_world: WebWorld):  # type: ignore[no-untyped-def]
    """A second app over the same record and store that admits one request at a time."""
    from pcn.web.app import create_app

    settings = Settings(secret_key="test-secret-key-0123456789abcdef", debug=False,
                        max_concurrent_requests=1)
    return create_app(web_world.record, store=web_world.store, settings=settings)


def _limiter(app):  # type: ignore[no-untyped-def]
    from pcn.web.limits import ConcurrencyLimit

    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, ConcurrencyLimit):
        layer = getattr(layer, "app", None)
    assert layer is not None, "the app has no concurrency limit"
    return layer


def test_refusals_made_by_middleware_carry_the_security_headers(web_app,
                                                                web_world: WebWorld) -> None:
    client = TestClient(web_app, follow_redirects=False)
    too_big = client.post("/api/requests", content=b"x" * 70_000,
                          headers={"content-type": "application/json"})
    assert too_big.status_code == 413
    _check_headers(too_big, "413")
    unknown_length = client.post("/request", content=iter([b"text=cough"]),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert unknown_length.status_code == 411
    _check_headers(unknown_length, "411")

    busy = _busy_app(web_world)
    busy_client = TestClient(busy, follow_redirects=False)
    assert busy_client.get("/sign-in").status_code == 200  # builds the middleware stack
    limiter = _limiter(busy)
    limiter.in_flight = limiter.limit  # every slot taken by requests still being served
    try:
        refused = busy_client.get("/sign-in")
    finally:
        limiter.in_flight = 0
    assert refused.status_code == 503 and refused.headers["retry-after"]
    _check_headers(refused, "503")


def test_strict_transport_security_only_over_https(web_app) -> None:
    over_https = TestClient(web_app, base_url="https://testserver").get("/sign-in")
    over_http = TestClient(web_app).get("/sign-in")
    assert over_https.headers["strict-transport-security"].startswith("max-age=")
    assert int(re.search(r"max-age=(\d+)", over_https.headers[
        "strict-transport-security"]).group(1)) >= 31_536_000  # type: ignore[union-attr]
    assert "strict-transport-security" not in over_http.headers


def test_api_docs_need_sign_in_and_load_only_this_servers_assets(web_app, tokens) -> None:  # type: ignore[no-untyped-def]
    anonymous = TestClient(web_app, follow_redirects=False)
    docs = anonymous.get("/api/docs")
    assert docs.status_code == 303 and docs.headers["location"].startswith("/sign-in")
    assert anonymous.get("/openapi.json").status_code == 401
    assert anonymous.get("/openapi.json", headers=_auth(tokens["analyst"])).status_code == 200

    client = signed_in(web_app, "analyst")
    page = client.get("/api/docs")
    assert page.status_code == 200
    _check_headers(page, "/api/docs")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), \
        sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert "swagger-ui-bundle.js" in page.text
    assert client.get("/openapi.json").json()["paths"]
    # The CSP names no other host: a font or script from a CDN would be blocked anyway.
    assert "https://" not in page.headers["content-security-policy"]
