"""TRUST rows 16 and 18: identity (tokens, sessions) and web basics (CSRF, session fixation,
cookie flags, security headers, XSS), on SQLite and PostgreSQL. Routes are discovered from the
app, so a page or POST form added later is covered without editing this file."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from tests.web.conftest import (
    PASSWORD,
    WORKLIST,
    XSS_PAYLOADS,
    WebWorld,
    csrf_from,
    signed_in,
)

XSS = list(XSS_PAYLOADS)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _example_path(path: str, web_world: WebWorld, **extra: str) -> str:
    """A concrete URL for a route template (a patient of the user's own practice, etc.)."""
    values = {"patient_id": str(web_world.patient_at(web_world.own)), "worklist_id": WORKLIST,
              "indicator_id": "dna_rate", **extra}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)


def app_routes(routes, prefix: str = "") -> list[tuple[str, set[str]]]:  # type: ignore[no-untyped-def]
    """(path, methods) of every endpoint, looking inside included routers (FastAPI >= 0.16x
    wraps them in ``_IncludedRouter``)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, set(route.methods)))
        elif hasattr(route, "original_router"):
            found += app_routes(route.original_router.routes,
                                prefix + getattr(route.include_context, "prefix", ""))
    return found


def _routes(app, method: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted({path for path, methods in app_routes(app.routes) if method in methods})


# ---- CSRF ----------------------------------------------------------------------------------
def test_every_post_form_refuses_a_missing_or_wrong_csrf_token(web_app, web_world: WebWorld,
                                                               tokens) -> None:  # type: ignore[no-untyped-def]
    posts = [p for p in _routes(web_app, "POST") if not p.startswith(("/api/", "/fhir"))]
    assert "/sign-in" in posts and "/sign-out" in posts  # discovery works
    extra = {"action": "accept"}
    if "/api/requests" in _routes(web_app, "POST"):  # a request clin_a may act on
        created = TestClient(web_app).post(
            "/api/requests", json={"age": 40, "sex": "F", "text": "Rash on both arms for a week.",
                                   "practice_code": web_world.own},
            headers=_auth(tokens["clin_a"]))
        assert created.status_code == 201, created.text
        extra["request_id"] = str(created.json()["id"])
    for path in posts:
        client = signed_in(web_app, "clin_a")
        url = _example_path(path, web_world, **extra)
        for token in (None, "wrong-token", csrf_from(client.get("/sign-in").text) + "x"):
            data = {"username": "clin_a", "password": PASSWORD}
            if token is not None:
                data["csrf_token"] = token
            response = client.post(url, data=data)
            assert response.status_code in (400, 403), (path, token, response.status_code)
            assert "pcn_session" not in response.cookies, path
        # The refused POST changed nothing: the session still works.
        assert client.get("/overview").status_code == 200, path


def test_csrf_token_from_another_browser_is_refused(web_app) -> None:
    attacker = TestClient(web_app, follow_redirects=False)
    stolen = csrf_from(attacker.get("/sign-in").text)
    victim = signed_in(web_app, "clin_a")
    assert victim.post("/sign-out", data={"csrf_token": stolen}).status_code == 400
    assert victim.get("/overview").status_code == 200


# ---- sessions ------------------------------------------------------------------------------
def test_sign_in_issues_a_new_session_and_ignores_a_planted_cookie(web_app) -> None:
    client = TestClient(web_app, follow_redirects=False)
    client.cookies.set("pcn_session", "planted-by-attacker")
    assert client.get("/overview").status_code == 303  # the planted cookie is no session
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"username": "clin_a", "password": PASSWORD,
                                             "csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    issued = response.cookies["pcn_session"]
    assert issued != "planted-by-attacker"
    # Two sign-ins of the same user get different sessions.
    assert issued != signed_in(web_app, "clin_a").cookies["pcn_session"]


def test_sign_out_ends_the_session_on_the_server(web_app) -> None:
    client = signed_in(web_app, "clin_a")
    copied = client.cookies["pcn_session"]
    token = csrf_from(client.get("/sign-out").text)
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 303
    replay = TestClient(web_app, follow_redirects=False)
    replay.cookies.set("pcn_session", copied)
    assert replay.get("/overview").status_code == 303


def test_bad_signature_expired_or_foreign_session_cookie_is_signed_out(web_app) -> None:
    client = signed_in(web_app, "clin_a")
    good = client.cookies["pcn_session"]
    body, _, signature = good.rpartition(".")
    forged_sig = body + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    other_key = URLSafeTimedSerializer("another-secret-key", salt="pcn-session").dumps(
        {"u": "clin_a", "sid": "x"})
    old = web_app.state.signers.session
    import time

    from itsdangerous import TimestampSigner

    # A correctly signed cookie issued 9 hours ago (the limit is 8).
    past = int(time.time()) - 9 * 3600

    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return past

    expired = URLSafeTimedSerializer(old.secret_keys[-1], salt="pcn-session",
                                     signer=PastSigner).dumps({"u": "clin_a", "sid": "x"})
    for cookie in (forged_sig, other_key, expired, "", "garbage"):
        probe = TestClient(web_app, follow_redirects=False)
        probe.cookies.set("pcn_session", cookie)
        assert probe.get("/overview").status_code == 303, cookie


def test_cookie_flags_over_http_and_https(web_app) -> None:
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        client = TestClient(web_app, follow_redirects=False, base_url=base)
        page = client.get("/sign-in")
        response = client.post("/sign-in", data={"username": "manager", "password": PASSWORD,
                                                 "csrf_token": csrf_from(page.text)})
        cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
        for name, same_site in (("pcn_session", "lax"), ("pcn_csrf", "strict")):
            assert "httponly" in cookies[name] and f"samesite={same_site}" in cookies[name]
            assert ("; secure" in cookies[name]) is secure, (base, name)


# ---- headers -------------------------------------------------------------------------------
HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
           "referrer-policy": "same-origin"}


def _check_headers(response, where: str) -> None:  # type: ignore[no-untyped-def]
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (where, name)
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, where
    assert "script-src 'self' 'nonce-" in csp and "'unsafe-inline'" not in csp.split(
        "script-src")[1].split(";")[0], where


def test_every_page_and_api_response_has_security_headers(web_app, web_world: WebWorld,
                                                          tokens) -> None:
    client = signed_in(web_app, "clin_a")
    anonymous = TestClient(web_app, follow_redirects=False)
    gets = _routes(web_app, "GET")
    assert len(gets) > 10
    for path in gets:
        url = _example_path(path, web_world)
        if path.startswith(("/api/", "/fhir")):
            responses = [anonymous.get(url), anonymous.get(url, headers=_auth(tokens["clin_a"]))]
        else:
            responses = [anonymous.get(url), client.get(url)]
        for response in responses:
            assert response.status_code < 500, (url, response.status_code)
            _check_headers(response, f"{url} {response.status_code}")
    for url in ("/no/such/page", "/api/no-such", "/static/app/app.css", "/openapi.json"):
        _check_headers(anonymous.get(url), url)


# ---- XSS -----------------------------------------------------------------------------------
def test_reflected_input_is_escaped_on_the_sign_in_page(web_app) -> None:
    client = TestClient(web_app, follow_redirects=False)
    for payload in XSS:
        page = client.get("/sign-in", params={"next": "/" + payload})
        response = client.post("/sign-in", data={"username": payload, "password": "wrong",
                                                 "csrf_token": csrf_from(page.text),
                                                 "next": "/" + payload})
        for html in (page.text, response.text):
            assert payload not in html
            assert "<script>alert" not in html and "onerror=alert" not in html.replace(
                "onerror=alert(1)&gt;", "")


def test_stored_free_text_renders_escaped(web_app, web_world: WebWorld) -> None:
    """Free text stored in the record's outputs (worklist reasons) is shown escaped, and a
    payload in a chart's data cannot close its script element."""
    client = signed_in(web_app, "clin_a")
    page = client.get(f"/worklists/{WORKLIST}?practice_code={web_world.own}")
    assert page.status_code == 200
    assert "hand-made test row" in page.text  # the reason column is rendered
    xss_rows = web_world.worklist[web_world.worklist["reason"].isin(XSS)]
    assert len(xss_rows), "the test worklist carries XSS payloads"
    for payload in XSS:
        assert payload not in page.text
    escaped = XSS[0].replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    assert escaped in page.text
    # Chart specs sit in <script type="application/json">: no "<" may appear inside them.
    overview = client.get("/overview").text
    for spec in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', overview,
                           flags=re.S):
        assert "<" not in spec


# ---- identity (row 16) ---------------------------------------------------------------------
def _denied_and_audited(api, web_world: WebWorld, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    patient = web_world.patient_at(web_world.own)
    for url in (f"/api/patients/{patient}", f"/api/worklists/{WORKLIST}", "/api/worklists",
                f"/fhir/Patient/{patient}"):
        before = web_world.audit_count()
        response = api.get(url, headers=headers)
        assert response.status_code == 401, (url, response.status_code)
        assert str(patient) not in response.text and "nhs_number" not in response.text
        events = web_world.new_events(before)
        if headers:  # a presented credential is audited as a failed sign-in, nothing else
            assert [(e.action, e.outcome) for e in events] == [("sign_in", "failed")], url
            assert all(e.patient_id is None for e in events)


@pytest.mark.parametrize("kind", ["garbled", "wrong_secret", "wrong_scheme", "empty"])
def test_bad_bearer_tokens_get_401_audited_and_no_rows(api, tokens, web_world: WebWorld,
                                                       kind: str) -> None:
    good = tokens["clin_a"]
    header = {"garbled": f"Bearer {good[::-1]}",
              "wrong_secret": f"Bearer {good[:-4]}AAAA",
              "wrong_scheme": f"Basic {good}",
              "empty": "Bearer "}[kind]
    headers = {"Authorization": header}
    _denied_and_audited(api, web_world, headers if kind in ("garbled", "wrong_secret") else {})


def test_revoked_expired_and_disabled_account_tokens_get_401(api, web_world: WebWorld) -> None:
    from sqlalchemy import update

    from pcn.store.accounts import create_user, disable_user, issue_token, revoke_tokens
    from pcn.store.models import ApiToken

    store = web_world.store
    create_user(store, "idtest", "practice_clinician", practice_code=web_world.own,
                password=PASSWORD)
    revoked = issue_token(store, "idtest")
    expiring = issue_token(store, "idtest", lifetime=dt.timedelta(seconds=60))
    selector = expiring.split("_")[1]
    assert api.get("/api/worklists", headers=_auth(expiring)).status_code == 200
    with store.session() as session:  # the clock moves on: the token is past its expiry
        session.execute(update(ApiToken).where(ApiToken.selector == selector)
                        .values(expires_at=dt.datetime(2000, 1, 1)))
    _denied_and_audited(api, web_world, _auth(expiring))
    revoke_tokens(store, "idtest")
    _denied_and_audited(api, web_world, _auth(revoked))
    live = issue_token(store, "idtest")
    assert api.get("/api/worklists", headers=_auth(live)).status_code == 200
    disable_user(store, "idtest")
    _denied_and_audited(api, web_world, _auth(live))


def test_session_cookie_is_not_an_api_credential(web_app, web_world: WebWorld) -> None:
    client = signed_in(web_app, "clin_a")
    patient = web_world.patient_at(web_world.own)
    assert client.get(f"/api/patients/{patient}").status_code == 401


def test_triage_request_free_text_renders_escaped(web_app, web_world: WebWorld, tokens) -> None:  # type: ignore[no-untyped-def]
    """Stored XSS through the intake: the request text and the name a patient gives are shown
    to staff on the queue and the request page, escaped."""
    client = signed_in(web_app, "clin_a")
    ids = []
    for payload in XSS:
        created = TestClient(web_app).post(
            "/api/requests", json={"age": 40, "sex": "F", "text": f"Itchy rash {payload}",
                                   "name": payload, "practice_code": web_world.own},
            headers=_auth(tokens["clin_a"]))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    pages = [client.get("/triage")] + [client.get(f"/triage/{i}") for i in ids]
    assert all(p.status_code == 200 for p in pages)
    assert any("Itchy rash" in p.text for p in pages[1:])
    for page in pages:
        for payload in XSS:
            assert payload not in page.text
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "<svg onload" not in page.text


# ---- unauthenticated input that used to give a 500 (issue 16, item 10) -----------------------
def test_non_ascii_csrf_token_is_a_400_on_every_post_form(web_app, web_world: WebWorld) -> None:
    """``hmac.compare_digest`` refuses non-ASCII ``str``: a token like ``é`` was a 500."""
    anonymous = TestClient(web_app, follow_redirects=False)
    for path in ("/sign-in", "/request"):
        csrf_from(anonymous.get(path).text)  # the browser holds a real CSRF cookie
        response = anonymous.post(path, data={"username": "clin_a", "password": PASSWORD,
                                              "csrf_token": "é∂ƒ-not-ascii",
                                              "text": "cough", "sex": "F"})
        assert response.status_code == 400, (path, response.status_code)
        assert "pcn_session" not in response.cookies


def test_nul_in_the_sign_in_name_is_a_400_and_audited(web_app, web_world: WebWorld) -> None:
    """A NUL byte reached PostgreSQL (``DataError``, a 500) and the attempt went unaudited."""
    client = TestClient(web_app, follow_redirects=False)
    for name in ("clin_a\x00", "\x00' OR 1=1 --"):
        token = csrf_from(client.get("/sign-in").text)
        before = web_world.audit_count()
        response = client.post("/sign-in", data={"username": name, "password": PASSWORD,
                                                 "csrf_token": token})
        assert response.status_code == 400, response.status_code
        assert "pcn_session" not in response.cookies
        events = web_world.new_events(before)
        assert [(e.action, e.outcome) for e in events] == [("sign_in", "failed")]
        assert "\x00" not in events[0].username and "\\x00" in events[0].username
    # The real account still signs in: nothing was half-done.
    assert signed_in(web_app, "clin_a").get("/overview").status_code == 200


def test_a_sign_in_refused_for_its_csrf_token_is_audited(web_app, web_world: WebWorld) -> None:
    client = TestClient(web_app, follow_redirects=False)
    csrf_from(client.get("/sign-in").text)
    before = web_world.audit_count()
    response = client.post("/sign-in", data={"username": "clin_a", "password": PASSWORD,
                                             "csrf_token": "forged"})
    assert response.status_code == 400
    assert [(e.action, e.outcome, e.username, e.detail.get("problem"))
            for e in web_world.new_events(before)] == [("sign_in", "failed", "clin_a", "csrf")]
