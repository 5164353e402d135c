"""Web/API fixtures: one small twin, one migrated store, one account per role, built per session.

Besides the worklists `pcn run` writes, one hand-made worklist with known contents (40 patients at
each of three practices) is placed beside them, so access and paging tests can count rows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from pcn.access.policy import NETWORK
from pcn.config import Settings
from pcn.record import open_record
from pcn.store import audit
from pcn.store.accounts import create_user, issue_token
from pcn.store.database import Store
from pcn.store.migrate import upgrade
from pcn.store.sharing import add_agreement

TWIN_PATIENTS = 3000
AS_OF = dt.date(2026, 3, 31)
SERIES_MONTHS = 6
PASSWORD = "correct horse battery staple"
WORKLIST = "test_frequent_attenders"
XSS_PAYLOADS = ('<script>alert("pcn")</script>', '"><img src=x onerror=alert(1)>',
                "'><svg onload=alert(1)>")
#: Cells a spreadsheet would run as formulas (CSV injection): downloads must neutralise them.
FORMULA_PAYLOADS = ('=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0",
                    "-2+3", "@SUM(1,1)")


@dataclass(frozen=True)
class WebWorld:
    record: Path
    store: Store
    practices: list[str]  # sorted member practice codes
    worklist: pd.DataFrame

    @property
    def own(self) -> str:
        return self.practices[0]

    @property
    def other(self) -> str:
        return self.practices[1]

    def patient_at(self, practice: str) -> int:
        regs = open_record(self.record).read("registrations").to_pandas()
        live = regs[regs["end_date"].isna() & (regs["practice_code"] == practice)]
        only_here = live.groupby("patient_id").size()
        return int(only_here.index[0])

    def app_practices(self, patient_id: int) -> set[str]:
        regs = open_record(self.record).read("registrations").to_pandas()
        live = regs[regs["end_date"].isna() & (regs["patient_id"] == patient_id)]
        return set(live["practice_code"].astype(str))

    def audit_count(self) -> int:
        return len(audit.events(self.store))

    def new_events(self, since: int) -> list[audit.RecordedEvent]:
        return audit.events(self.store)[since:]


#: username → (role, practice index or None)
ACCOUNTS = {
    "director": ("clinical_director", None),
    "manager": ("pcn_manager", None),
    "clin_a": ("practice_clinician", 0),
    "clin_b": ("practice_clinician", 1),
    "coordinator": ("care_coordinator", None),
    "analyst": ("analyst", None),
    "admin": ("admin", None),
}


def _write_worklist(record: Path, practices: list[str]) -> pd.DataFrame:
    rec = open_record(record)
    regs = rec.read("registrations").to_pandas()
    live = regs[regs["end_date"].isna()][["patient_id", "practice_code"]]
    pats = rec.read("patients").to_pandas()[["patient_id", "sex"]]
    frame = live.merge(pats, on="patient_id")
    frame = frame[frame["practice_code"].isin(practices[:3])].sort_values("patient_id")
    frame = frame.groupby("practice_code").head(40).reset_index(drop=True)
    frame["priority"] = ["high" if i % 3 == 0 else "routine" for i in range(len(frame))]
    frame["reason"] = "hand-made test row"
    # Free text with markup in it: pages must show it escaped (tests/web/test_security.py).
    position = frame.groupby("practice_code").cumcount()
    for i, payload in enumerate(XSS_PAYLOADS, 1):
        frame.loc[(position % 8 == i).to_numpy(), "reason"] = payload
    for i, payload in enumerate(FORMULA_PAYLOADS, len(XSS_PAYLOADS) + 1):
        frame.loc[(position % 8 == i).to_numpy(), "reason"] = payload
    # Beside the worklists `pcn run` publishes (tests need a list with known contents).
    from pcn.analytics.run import outputs_path

    out = outputs_path(record) / "worklists"
    out.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out / f"{WORKLIST}.parquet", index=False)
    (out / f"{WORKLIST}.json").write_text(json.dumps({"title": "Test frequent attenders"}))
    return frame


@dataclass(frozen=True)
class WebRecord:
    record: Path
    practices: list[str]
    worklist: pd.DataFrame


@pytest.fixture(scope="session")
def web_record(tmp_path_factory: pytest.TempPathFactory) -> WebRecord:
    """The small twin with every output, built once for both store engines."""
    from pcn.synth import build_twin

    record = tmp_path_factory.mktemp("web-twin") / "twin"
    build_twin(record, pcn_code="U55830", patients=TWIN_PATIENTS, seed=1, as_of=AS_OF)
    practices = sorted(open_record(record).read("practices").column("practice_code")
                       .to_pylist())
    from pcn.analytics.run import run as run_analytics

    run_analytics(record)  # every output, as `pcn run` makes them
    worklist = _write_worklist(record, practices)
    from pcn.measures.series import build_series

    # patient-based indicators' monthly series, as `make demo` builds them (a few months: each
    # month end is a whole profile)
    build_series(record, months=SERIES_MONTHS)
    return WebRecord(record, practices, worklist)


@pytest.fixture(scope="session")
def _web_sqlite_store(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path
                      ) -> Iterator[Store]:
    db = tmp_path_factory.mktemp("web-store") / "pcn.sqlite3"
    shutil.copyfile(_sqlite_template, db)
    store = Store(f"sqlite+pysqlite:///{db}")
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def _web_pg_store(postgres_server: str) -> Iterator[Store]:
    from tests.databases import create_database, drop_database, pg_url

    name = create_database()
    store = Store(pg_url(name))
    yield store
    store.dispose()
    drop_database(name)


@pytest.fixture(scope="session",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def web_world(request: pytest.FixtureRequest, web_record: WebRecord) -> WebWorld:
    """The web world on each store engine: every web/API test runs on SQLite and PostgreSQL."""
    store: Store = request.getfixturevalue(
        {"sqlite": "_web_sqlite_store", "postgres": "_web_pg_store"}[request.param])
    upgrade(store)
    practices = web_record.practices
    for username, (role, index) in ACCOUNTS.items():
        create_user(store, username, role, practice_code=None if index is None
                    else practices[index], password=PASSWORD)
    # PCN staff (organisation "network") may see the third practice's patients, nothing else.
    for purpose in ("direct_care", "population_health"):
        add_agreement(store, from_practices=[practices[2]], to_orgs=[NETWORK],
                      data_scope="view_and_export", purpose=purpose,
                      valid_from=dt.date(2000, 1, 1), reference="test agreement")
    return WebWorld(web_record.record, store, practices, web_record.worklist)


@pytest.fixture(scope="session")
def web_app(web_world: WebWorld):  # type: ignore[no-untyped-def]
    from pcn.web.app import create_app

    # The suite sends many forms from one test client; the limit has its own test and app.
    settings = Settings(secret_key="test-secret-key-0123456789abcdef", debug=False,
                        public_requests_per_hour=100_000)
    return create_app(web_world.record, store=web_world.store, settings=settings, warm=True)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def signed_in(app, username: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, follow_redirects=False)
    page = client.get("/sign-in")
    response = client.post("/sign-in", data={"username": username, "password": PASSWORD,
                                             "csrf_token": csrf_from(page.text), "next": "/"})
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="session")
def clients(web_app) -> dict[str, TestClient]:  # type: ignore[no-untyped-def]
    return {name: signed_in(web_app, name) for name in ACCOUNTS}


@pytest.fixture(scope="session")
def tokens(web_world: WebWorld) -> dict[str, str]:
    return {name: issue_token(web_world.store, name, label="tests") for name in ACCOUNTS}


@pytest.fixture(scope="session")
def api(web_app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(web_app, follow_redirects=False)
