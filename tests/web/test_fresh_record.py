"""A record straight from `pcn synth` (no `pcn run`, no worklists): pages degrade clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pcn.config import Settings
from tests.web.conftest import PASSWORD, csrf_from


@pytest.fixture(scope="module")
def fresh_client(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path
                 ) -> TestClient:
    import shutil

    from pcn.store.accounts import create_user
    from pcn.store.database import Store
    from pcn.synth import build_twin
    from pcn.web.app import create_app

    record = tmp_path_factory.mktemp("fresh") / "twin"
    build_twin(record, pcn_code="U55830", patients=400, seed=2, as_of=dt.date(2026, 3, 31))
    db = tmp_path_factory.mktemp("fresh-store") / "pcn.sqlite3"
    shutil.copyfile(_sqlite_template, db)
    store = Store(f"sqlite+pysqlite:///{db}")
    create_user(store, "fresh", "clinical_director", password=PASSWORD)
    app = create_app(record, store=store, settings=Settings(secret_key="fresh-secret-key-xyz"))
    client = TestClient(app, follow_redirects=False)
    token = csrf_from(client.get("/sign-in").text)
    client.post("/sign-in", data={"username": "fresh", "password": PASSWORD,
                                  "csrf_token": token})
    return client


def test_worklists_show_empty_state(fresh_client: TestClient) -> None:
    html = fresh_client.get("/worklists").text
    assert 'id="worklists-empty"' in html and "pcn run --record DIR" in html


def test_overview_asks_for_pcn_run_for_prevalence(fresh_client: TestClient) -> None:
    html = fresh_client.get("/overview").text
    assert "Register prevalence appears once the analytics have been run" in html


def test_register_indicator_says_run_pcn_run(fresh_client: TestClient) -> None:
    html = fresh_client.get("/indicators").text
    assert "Not available" in html and "run `pcn run --record DIR` first" in html
    response = fresh_client.get("/indicators/hyp_bp_140_90_under_80")
    assert response.status_code == 409
    assert "pcn run --record DIR" in response.text


def test_activity_indicators_still_work_without_profile(fresh_client: TestClient) -> None:
    assert fresh_client.get("/indicators/appointments_per_1000").status_code == 200
