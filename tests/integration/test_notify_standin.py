"""GOV.UK Notify: the official client against the local stand-in over real HTTP (issue 22).
The stand-in checks the JWT as Notify does; nothing leaves the machine."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import jwt
import pytest
import requests
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from pcn.config import Settings
from pcn.monitoring.notify import send_readings_reminder
from pcn.monitoring.notify_standin import Template, create_standin

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"pcn_test-{SERVICE_ID}-{SECRET}"
SMS = "f33517ff-2a88-4f6e-b855-c550268ce08a"
EMAIL = "0c2b3a4d-0000-4e6e-8a8a-5a5a5a5a5a5a"


@pytest.fixture(scope="module")
def notify_url() -> Iterator[str]:
    import uvicorn

    app = create_standin(
        API_KEY,
        [
            Template(
                SMS,
                "sms",
                "Your GP practice asks you to send your home blood pressure readings: ((link))",
            ),
            Template(
                EMAIL,
                "email",
                "Send your readings here: ((link))",
                subject="Your home blood pressure readings",
            ),
        ],
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, log_config=None
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def settings(url: str, key: str = API_KEY) -> Settings:
    return Settings(
        notify_base_url=url,
        notify_api_key=key,
        notify_sms_template_id=SMS,
        notify_email_template_id=EMAIL,
    )


def test_a_reminder_is_sent_and_can_be_read_back(notify_url: str) -> None:
    link = "https://pcn.example.nhs.uk/readings/abc.def"
    sent = send_readings_reminder(
        settings(notify_url), link=link, phone_number="07700900123", reference="link-1"
    )
    assert sent.body.endswith(link)
    client = NotificationsAPIClient(API_KEY, base_url=notify_url)
    stored = client.get_notification_by_id(sent.notification_id)
    assert (stored["type"], stored["phone_number"], stored["reference"], stored["status"]) == (
        "sms",
        "07700900123",
        "link-1",
        "delivered",
    )
    email = send_readings_reminder(
        settings(notify_url), link=link, email_address="person@example.com"
    )
    stored = client.get_notification_by_id(email.notification_id)
    assert stored["subject"] == "Your home blood pressure readings"


def test_bad_tokens_and_bad_requests_are_refused_as_notify_does(notify_url: str) -> None:
    wrong_secret = f"pcn_test-{SERVICE_ID}-{'0' * 8}-0000-0000-0000-{'0' * 12}"
    with pytest.raises(HTTPError) as refused:
        send_readings_reminder(
            settings(notify_url, wrong_secret), link="x", phone_number="07700900123"
        )
    assert refused.value.status_code == 403
    stale = jwt.encode(
        {"iss": SERVICE_ID, "iat": int(time.time()) - 120}, SECRET, algorithm="HS256"
    )
    answer = requests.post(
        f"{notify_url}/v2/notifications/sms",
        timeout=10,
        headers={"Authorization": f"Bearer {stale}"},
        json={"phone_number": "07700900123", "template_id": SMS, "personalisation": {"link": "x"}},
    )
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["error"] == "AuthError"
    with pytest.raises(HTTPError) as bad_number:
        send_readings_reminder(settings(notify_url), link="x", phone_number="0113 496 0000")
    assert bad_number.value.status_code == 400
    client = NotificationsAPIClient(API_KEY, base_url=notify_url)
    with pytest.raises(HTTPError) as missing:
        client.send_sms_notification(phone_number="07700900123", template_id=SMS)
    assert "Missing personalisation: link" in str(missing.value.message)
    with pytest.raises(HTTPError) as unknown:
        client.get_notification_by_id("5d0c0c0c-0000-4000-8000-000000000000")
    assert unknown.value.status_code == 404
