"""Reminders to send home readings, through GOV.UK Notify (ADR 0155).

The official ``notifications-python-client`` talks to the Notify base URL in Settings: the real
service in production, the local stand-in (:mod:`pcn.monitoring.notify_standin`) in tests and
demos. A message carries only the link and the practice's words: no clinical detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pcn.config import Settings


class NotifyNotConfigured(ValueError):
    """Notify's API key or template is not set."""


@dataclass(frozen=True)
class Sent:
    notification_id: str
    body: str


def client(settings: Settings) -> Any:
    from notifications_python_client.notifications import NotificationsAPIClient

    if not settings.notify_api_key.strip():
        raise NotifyNotConfigured(
            "set PCN_NOTIFY_API_KEY (and PCN_NOTIFY_BASE_URL for the "
            "local stand-in) to send reminders"
        )
    return NotificationsAPIClient(settings.notify_api_key, base_url=settings.notify_base_url)


def send_readings_reminder(
    settings: Settings,
    *,
    link: str,
    phone_number: str | None = None,
    email_address: str | None = None,
    reference: str | None = None,
) -> Sent:
    """Text or email the person their readings link (one of the two)."""
    if bool(phone_number) == bool(email_address):
        raise ValueError("give a mobile number or an email address")
    notify = client(settings)
    personalisation = {"link": link}
    if phone_number:
        if not settings.notify_sms_template_id:
            raise NotifyNotConfigured("set PCN_NOTIFY_SMS_TEMPLATE_ID")
        answer = notify.send_sms_notification(
            phone_number=phone_number,
            template_id=settings.notify_sms_template_id,
            personalisation=personalisation,
            reference=reference,
        )
    else:
        if not settings.notify_email_template_id:
            raise NotifyNotConfigured("set PCN_NOTIFY_EMAIL_TEMPLATE_ID")
        answer = notify.send_email_notification(
            email_address=email_address,
            template_id=settings.notify_email_template_id,
            personalisation=personalisation,
            reference=reference,
        )
    return Sent(notification_id=str(answer["id"]), body=str(answer["content"]["body"]))
