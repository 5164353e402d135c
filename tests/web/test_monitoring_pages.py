"""The patient's readings page by one-time link and the clinicians' /monitoring list
(issue 22), on a store of their own (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pcn.config import Settings
from pcn.monitoring import links
from pcn.record import open_record
from pcn.store import audit
from pcn.store.accounts import create_user
from pcn.store.database import Store
from pcn.store.models import MonitoringReading, Task
from tests.web.conftest import PASSWORD, WebWorld, csrf_from

SETTINGS = Settings(
    secret_key="monitoring-secret-key-0123456789abcdef", public_requests_per_hour=100_000
)


@pytest.fixture
def site(web_world: WebWorld, store: Store) -> Any:
    from pcn.web.app import create_app

    create_user(
        store, "clin_own", "practice_clinician", practice_code=web_world.own, password=PASSWORD
    )
    create_user(
        store, "clin_other", "practice_clinician", practice_code=web_world.other, password=PASSWORD
    )
    return create_app(web_world.record, store=store, settings=SETTINGS, warm=False)


def send(
    client: TestClient, token: str, when: dt.datetime, sys: str, dia: str, pulse: str = ""
) -> Any:
    page = client.get(f"/readings/{token}")
    return client.post(
        f"/readings/{token}",
        data={
            "csrf_token": csrf_from(page.text),
            "taken[day]": str(when.day),
            "taken[month]": str(when.month),
            "taken[year]": str(when.year),
            "time": f"{when:%H:%M}",
            "systolic": sys,
            "diastolic": dia,
            "pulse": pulse,
        },
    )


def test_a_patient_sends_readings_and_the_clinician_gets_the_task(
    site: Any, web_world: WebWorld, store: Store
) -> None:
    patient = web_world.patient_at(web_world.own)
    token = links.issue(SETTINGS, patient)
    client = TestClient(site, follow_redirects=False)
    first = client.get(f"/readings/{token}")
    assert first.status_code == 200
    assert "You have not sent any readings yet" in first.text
    people = open_record(web_world.record).read("patients").to_pandas()
    nhs_number = str(people.set_index("patient_id").loc[patient, "nhs_number"])
    # nothing about the person beyond their readings: no NHS number, no record id
    assert nhs_number not in first.text and f"Patient {patient}" not in first.text
    start = dt.datetime.now().replace(second=0, microsecond=0) - dt.timedelta(days=5)
    answer = send(client, token, start, "128", "82", "70")
    assert answer.status_code == 303
    shown = client.get(answer.headers["location"]).text
    assert "Your reading has been sent" in shown and "128/82" in shown
    assert "We need more readings" in shown

    high = send(client, token, start + dt.timedelta(days=1), "186", "104")
    page = client.get(high.headers["location"]).text
    assert "Get help today" in page and "Call your GP practice now" in page
    with store.read() as session:
        tasks = list(session.scalars(select(Task).where(Task.source == "monitoring")))
        kinds = [r.source for r in session.scalars(select(MonitoringReading))]
    assert [(t.patient_id, t.kind, t.priority) for t in tasks] == [
        (patient, "home_bp_severe", "urgent")
    ]
    assert "186/104 mmHg" in tasks[0].reason and kinds == ["link", "link"]
    actions = [e.action for e in audit.events(store) if e.patient_id == patient]
    assert actions.count("monitoring_reading_submitted") == 2
    assert "monitoring_link_opened" in actions

    clinician = TestClient(site, follow_redirects=False)
    sign_in_page = clinician.get("/sign-in")
    clinician.post(
        "/sign-in",
        data={
            "username": "clin_own",
            "password": PASSWORD,
            "csrf_token": csrf_from(sign_in_page.text),
            "next": "/",
        },
    )
    listing = clinician.get("/monitoring")
    assert listing.status_code == 200
    assert f"Patient {patient}" in listing.text and "needs a clinician today" in listing.text
    tasks_page = clinician.get("/tasks?show=all").text
    assert "Very high home blood pressure" in tasks_page

    other = TestClient(site, follow_redirects=False)
    sign_in_page = other.get("/sign-in")
    other.post(
        "/sign-in",
        data={
            "username": "clin_other",
            "password": PASSWORD,
            "csrf_token": csrf_from(sign_in_page.text),
            "next": "/",
        },
    )
    assert f"Patient {patient}" not in other.get("/monitoring").text  # another practice's


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"sys": "", "dia": "80"}, "Enter the top number (systolic)"),
        ({"sys": "120", "dia": "130"}, "The bottom number must be lower than the top number"),
        ({"sys": "12o", "dia": "80"}, "Check the top number (systolic)"),
        ({"sys": "120", "dia": "80", "pulse": "400"}, "Check the pulse"),
    ],
)
def test_a_bad_reading_is_explained_and_not_kept(
    site: Any, web_world: WebWorld, store: Store, fields: dict[str, str], message: str
) -> None:
    token = links.issue(SETTINGS, web_world.patient_at(web_world.own))
    client = TestClient(site, follow_redirects=False)
    answer = send(
        client,
        token,
        dt.datetime.now() - dt.timedelta(hours=1),
        fields["sys"],
        fields["dia"],
        fields.get("pulse", ""),
    )
    assert answer.status_code == 422 and message in answer.text
    assert "There is a problem" in answer.text
    with store.read() as session:
        assert session.scalars(select(MonitoringReading)).first() is None


def test_a_tampered_expired_or_foreign_link_opens_nothing(site: Any, web_world: WebWorld) -> None:
    client = TestClient(site, follow_redirects=False)
    token = links.issue(SETTINGS, web_world.patient_at(web_world.own))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/readings/{tampered}").status_code == 404
    other_key = links.issue(Settings(secret_key="another-secret-key-0123456789abcdef"), 1)
    assert "not valid" in client.get(f"/readings/{other_key}").text
    with pytest.raises(links.LinkError, match="expired"):
        links.read(SETTINGS, token, max_age_days=-1)
