"""Sessions, CSRF tokens, bearer tokens and security headers for the web app and the API.

- The session is a signed, timestamped cookie naming the user and a random session id
  (``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS). The id is a row in the store, new at
  every sign-in (no fixation) and ended at sign-out (a copied cookie stops working). It carries
  no role or practice: the account is re-read from the store on every request, so a disabled
  account or changed role takes effect on the next request.
- CSRF: a signed random token in its own ``SameSite=Strict`` cookie, echoed in a hidden field of
  every POST form (double submit; the signature stops a forged cookie).
- API clients send ``Authorization: Bearer <token>`` (``pcn users token NAME``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.responses import JSONResponse, Response

from pcn.access.guard import current_principal, sign_in_token
from pcn.access.policy import Principal
from pcn.store.accounts import close_session, open_session, session_live
from pcn.store.database import Store

SESSION_COOKIE = "pcn_session"
CSRF_COOKIE = "pcn_csrf"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE = 8 * 3600  # one working day


@dataclass(frozen=True)
class Signers:
    session: URLSafeTimedSerializer
    csrf: URLSafeTimedSerializer


def make_signers(secret: str) -> Signers:
    return Signers(URLSafeTimedSerializer(secret, salt="pcn-session"),
                   URLSafeTimedSerializer(secret, salt="pcn-csrf"))


def _signers(request: Request) -> Signers:
    return request.app.state.signers


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


class SignInRequired(Exception):
    """A page was asked for without a valid session: the browser is sent to the sign-in page."""


def page_principal(request: Request) -> Principal:
    """FastAPI dependency of every signed-in page."""
    principal = session_principal(request)
    if principal is None:
        raise SignInRequired()
    return principal


# ---- sessions ------------------------------------------------------------------------------
def start_session(request: Request, response: Response, username: str) -> None:
    """Issue a fresh session (new random id: no fixation) and a fresh CSRF token."""
    sid = open_session(request.app.state.store, username)
    value = _signers(request).session.dumps({"u": username, "sid": sid})
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_MAX_AGE, httponly=True,
                        samesite="lax", secure=_secure(request), path="/")
    set_csrf_cookie(request, response, new_csrf_token(request))


def end_session(request: Request, response: Response) -> None:
    payload = _session_payload(request)
    if payload is not None:
        close_session(request.app.state.store, payload[1])
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=_secure(request))


def session_principal(request: Request) -> Principal | None:
    """The signed-in, active user of this request, re-read from the store; else None."""
    payload = _session_payload(request)
    if payload is None:
        return None
    username, sid = payload
    store: Store = request.app.state.store
    if not session_live(store, sid, username, dt.timedelta(seconds=SESSION_MAX_AGE)):
        return None
    principal = current_principal(store, username)
    return principal if principal is not None and principal.active else None


def _session_payload(request: Request) -> tuple[str, str] | None:
    """(username, session id) from a cookie with a good signature and age; else None."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        payload = _signers(request).session.loads(raw, max_age=SESSION_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(payload, dict):
        return None
    username, sid = payload.get("u"), payload.get("sid")
    if not isinstance(username, str) or not isinstance(sid, str):
        return None
    return username, sid


# ---- CSRF ----------------------------------------------------------------------------------
def new_csrf_token(request: Request) -> str:
    return secrets.token_urlsafe(24)


def set_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, _signers(request).csrf.dumps(token), httponly=True,
                        samesite="strict", secure=_secure(request), path="/")


def csrf_token_for(request: Request) -> str:
    """The token forms on this page must carry (creating one when the browser has none)."""
    existing = getattr(request.state, "csrf_token", None)
    if existing:
        return str(existing)
    token = _cookie_csrf(request) or new_csrf_token(request)
    request.state.csrf_token = token
    return token


def _cookie_csrf(request: Request) -> str | None:
    raw = request.cookies.get(CSRF_COOKIE)
    if not raw:
        return None
    try:
        token = _signers(request).csrf.loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def csrf_valid(request: Request, submitted: str | None) -> bool:
    """Does the submitted token equal the cookie's? Compared as UTF-8 bytes: ``compare_digest``
    refuses non-ASCII ``str``, and a forged token of any characters must be a plain "no"."""
    expected = _cookie_csrf(request)
    if not expected or not submitted:
        return False
    return hmac.compare_digest(str(expected).encode("utf-8", "surrogatepass"),
                               str(submitted).encode("utf-8", "surrogatepass"))


# ---- bearer tokens -------------------------------------------------------------------------
def bearer_principal(request: Request) -> Principal | None:
    """The principal of a valid ``Authorization: Bearer`` token (every attempt is audited)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    store: Store = request.app.state.store
    return sign_in_token(store, token.strip())  # audited by the guard, ok or failed


# ---- request size --------------------------------------------------------------------------
class BodySizeLimit:
    """Refuse an oversized body on the public intake paths before anything reads it (413), and a
    body of unknown length there (411): the public form and ``POST /api/requests`` take short
    messages, and nobody should be able to make the server buffer megabytes (ASVS 13.1.3)."""

    def __init__(self, app: Any, prefixes: tuple[str, ...], limit: int) -> None:
        self.app, self.prefixes, self.limit = app, prefixes, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH")
                and scope["path"].startswith(self.prefixes)):
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length")
            status, message = 0, ""
            if length is None:
                status, message = 411, "send a Content-Length header"
            elif not length.isdigit() or int(length) > self.limit:
                status, message = 413, f"request body larger than {self.limit} bytes"
            if status:
                response = JSONResponse({"detail": message}, status_code=status)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ---- headers -------------------------------------------------------------------------------
#: Two years, the HSTS preload list's minimum; sent only over HTTPS (RFC 6797 7.2).
HSTS = "max-age=63072000; includeSubDomains"
UNCACHED_PREFIXES = ("/static/", "/assets/")


def content_security_policy(nonce: str) -> str:
    """Everything from this server only: no CDN, no web fonts from elsewhere (the NHS.UK
    frontend's Frutiger comes from a public host, so pages fall back to Arial, its named
    fallback). Vega compiles chart expressions with Function(): charts need 'unsafe-eval'."""
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}' 'unsafe-eval'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


class SecurityHeaders:
    """OWASP ASVS basics on *every* response, a per-request nonce for the one inline script.

    A pure ASGI middleware installed outermost (:func:`pcn.web.app.create_app`), so answers
    made by other middleware (413/411 from :class:`BodySizeLimit`, 503 from the concurrency
    limit) carry the headers too; ``Strict-Transport-Security`` when the request came over
    HTTPS (directly, or through a proxy whose forwarded scheme uvicorn trusts)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce  # read as request.state.csp_nonce
        extra = [(b"content-security-policy", content_security_policy(nonce).encode()),
                 (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"same-origin"),
                 (b"cross-origin-opener-policy", b"same-origin")]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))
        cacheable = str(scope.get("path", "")).startswith(UNCACHED_PREFIXES)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in extra}
                if not cacheable:
                    names.add(b"cache-control")
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in names]
                headers += extra
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
