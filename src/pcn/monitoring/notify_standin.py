"""A local stand-in for GOV.UK Notify's v2 API, for tests and demos (ADR 0155): no message
leaves the machine.

It speaks the parts of Notify's REST API that pcn uses, as Notify documents them: ``POST
/v2/notifications/sms`` and ``/email`` and ``GET /v2/notifications/{id}``, each authorised by a
JWT bearer token (HS256, ``iss`` the service id, ``iat`` within 30 seconds) signed with the
secret half of an API key ``{key_name}-{service_id}-{secret}``; errors come back in Notify's
shape (``{"status_code": ..., "errors": [{"error": ..., "message": ...}]}``). Messages are kept
in memory so a test can see what would have been sent.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

#: Notify's clock-skew allowance for ``iat``.
IAT_WINDOW_SECONDS = 30
_PLACEHOLDER = re.compile(r"\(\(([^)]+)\)\)")
_UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")


@dataclass(frozen=True)
class Template:
    id: str
    type: str  # "sms" or "email"
    body: str
    subject: str = ""
    version: int = 1


@dataclass
class StandIn:
    service_id: str
    secret: str
    templates: dict[str, Template]
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)


def split_api_key(api_key: str) -> tuple[str, str]:
    """(service id, secret) from an API key ``{name}-{service_id}-{secret}`` (two UUIDs)."""
    return api_key[-73:-37], api_key[-36:]


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"status_code": status, "errors": [{"error": error, "message": message}]},
        status_code=status,
    )


def _authorised(state: StandIn, request: Request) -> JSONResponse | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return _error(401, "AuthError", "Unauthorized: authentication token must be provided")
    token = header.removeprefix("Bearer ").strip()
    try:
        claims = jwt.decode(
            token,
            state.secret,
            algorithms=["HS256"],
            options={"verify_iat": False, "require": ["iss", "iat"]},
        )
    except jwt.PyJWTError:
        return _error(403, "AuthError", "Invalid token: API key not found")
    if claims.get("iss") != state.service_id:
        return _error(403, "AuthError", "Invalid token: service not found")
    if abs(time.time() - float(claims["iat"])) > IAT_WINDOW_SECONDS:
        return _error(
            403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds"
        )
    return None


def _fill(text: str, personalisation: dict[str, Any]) -> tuple[str, list[str]]:
    missing = [p for p in _PLACEHOLDER.findall(text) if p not in personalisation]
    return _PLACEHOLDER.sub(lambda m: str(personalisation.get(m.group(1), "")), text), missing


def create_standin(api_key: str, templates: list[Template]) -> FastAPI:
    service_id, secret = split_api_key(api_key)
    state = StandIn(service_id, secret, {t.id: t for t in templates})
    app = FastAPI(title="GOV.UK Notify stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.notify = state

    async def send(request: Request, kind: str) -> JSONResponse:
        refused = _authorised(state, request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "ValidationError", "Invalid JSON supplied in POST data")
        template = state.templates.get(str(body.get("template_id", "")))
        if template is None or template.type != kind:
            return _error(400, "BadRequestError", "Template not found")
        recipient_field = "phone_number" if kind == "sms" else "email_address"
        recipient = str(body.get(recipient_field, ""))
        if kind == "sms" and not _UK_MOBILE.match(recipient.replace(" ", "")):
            return _error(400, "ValidationError", "phone_number Not a UK mobile number")
        if kind == "email" and "@" not in recipient:
            return _error(400, "ValidationError", "email_address Not a valid email address")
        personalisation = body.get("personalisation") or {}
        text, missing = _fill(template.body, personalisation)
        subject, missing_subject = _fill(template.subject, personalisation)
        if missing or missing_subject:
            return _error(
                400,
                "BadRequestError",
                f"Missing personalisation: {', '.join(missing + missing_subject)}",
            )
        notification_id = str(uuid.uuid4())
        base = str(request.base_url).rstrip("/")
        template_info = {
            "id": template.id,
            "version": template.version,
            "uri": f"{base}/services/{service_id}/templates/{template.id}",
        }
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        state.sent[notification_id] = {
            "id": notification_id,
            "reference": body.get("reference"),
            "email_address": recipient if kind == "email" else None,
            "phone_number": recipient if kind == "sms" else None,
            "type": kind,
            "status": "delivered",
            "template": template_info,
            "body": text,
            "subject": subject if kind == "email" else None,
            "created_at": now,
            "created_by_name": None,
            "sent_at": now,
            "completed_at": now,
        }
        content: dict[str, Any] = {"body": text}
        if kind == "sms":
            content["from_number"] = "GOVUK"
        else:
            content.update({"subject": subject, "from_email": "pcn@notifications.service.gov.uk"})
        return JSONResponse(
            {
                "id": notification_id,
                "reference": body.get("reference"),
                "content": content,
                "uri": f"{base}/v2/notifications/{notification_id}",
                "template": template_info,
                "scheduled_for": None,
            },
            status_code=201,
        )

    @app.post("/v2/notifications/sms")
    async def send_sms(request: Request) -> JSONResponse:
        return await send(request, "sms")

    @app.post("/v2/notifications/email")
    async def send_email(request: Request) -> JSONResponse:
        return await send(request, "email")

    @app.get("/v2/notifications/{notification_id}")
    async def get_notification(request: Request, notification_id: str) -> JSONResponse:
        refused = _authorised(state, request)
        if refused is not None:
            return refused
        found = state.sent.get(notification_id)
        if found is None:
            return _error(404, "NoResultFound", "No result found")
        return JSONResponse(found)

    return app
