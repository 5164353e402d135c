"""Issue 16, item 8: `pcn serve` and `pcn continuity` crashed on a record built from CSV extracts
(no appointments, no hospital activity). Every page, API route and command must work on a record
with any table empty: these records are part of the test matrix."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pcn.cli.main import app as cli
from pcn.config import Settings
from pcn.record import open_record
from pcn.record.schemas import TABLES
from pcn.record.store import RecordWriter
from pcn.store.accounts import create_user, issue_token
from pcn.store.database import Store

AS_OF = dt.date(2026, 3, 31)
PASSWORD = "correct horse battery staple"
#: record shapes: the tables left empty
SHAPES = {
    # what a practice's CSV search export gives: patients, registrations, coded events, issues
    "csv_extract": ("appointments", "hospital_activity", "staff"),
    "no_clinical_data": ("clinical_events", "medications", "opt_outs"),
    "no_patients": tuple(n for n, spec in TABLES.items()
                         if spec.patient_ref or n in ("patients", "staff")),
}


@pytest.fixture(scope="module")
def small_twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pcn.synth import build_twin

    out = tmp_path_factory.mktemp("empty-tables") / "twin"
    build_twin(out, pcn_code="U55830", patients=400, seed=3, as_of=AS_OF, workers=1)
    return out


@pytest.fixture(scope="module", params=sorted(SHAPES))
def shaped_record(request: pytest.FixtureRequest, small_twin: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    empty = SHAPES[request.param]
    source = open_record(small_twin)
    out = tmp_path_factory.mktemp(f"shape-{request.param}") / "record"
    with RecordWriter(out, source={**source.manifest.source, "shape": request.param}) as writer:
        for name, spec in TABLES.items():
            table = spec.schema.empty_table() if name in empty else source.read(name)
            writer.write(name, table)
    from pcn.analytics.run import run as run_analytics

    run_analytics(out)
    return out


def test_every_command_works_on_a_record_with_empty_tables(shaped_record: Path,
                                                           tmp_path: Path) -> None:
    runner = CliRunner()
    record = str(shaped_record)
    for args in (["record", "info", record], ["run", "--record", record],
                 ["continuity", "--record", record],
                 ["indicators", "series", "--record", record, "--months", "2"],
                 ["worklist", "list", "--record", record],
                 ["worklist", "show", "smr_candidates", "--record", record],
                 ["export", "fhir", "--record", record, "--out", str(tmp_path / "fhir")],
                 ["demo", "summary", "--record", record]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output[-800:], repr(result.exception))


def _paths(app) -> list[str]:  # type: ignore[no-untyped-def]
    from tests.web.test_security import app_routes

    return sorted({p for p, methods in app_routes(app.routes) if "GET" in methods})


def test_every_page_and_api_route_works_on_a_record_with_empty_tables(
        shaped_record: Path, store: Store) -> None:
    from pcn.web.app import create_app

    practices = sorted(open_record(shaped_record).read("practices")
                       .column("practice_code").to_pylist())
    create_user(store, "director", "clinical_director", password=PASSWORD)
    create_user(store, "clin", "practice_clinician", practice_code=practices[0],
                password=PASSWORD)
    create_user(store, "analyst", "analyst", password=PASSWORD)
    settings = Settings(secret_key="test-secret-key-0123456789abcdef", debug=False)
    # warm=True: what `pcn serve` does at start-up (every table computed)
    app = create_app(shaped_record, store=store, settings=settings, warm=True)
    regs = open_record(shaped_record).read("registrations").to_pandas()
    patient = str(int(regs["patient_id"].iloc[0])) if len(regs) else "1"
    values = {"patient_id": patient, "worklist_id": "smr_candidates",
              "indicator_id": "dna_rate", "request_id": "1"}
    for user in ("director", "clin", "analyst"):
        client = TestClient(app, follow_redirects=False)
        page = client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        assert client.post("/sign-in", data={"username": user, "password": PASSWORD,
                                             "csrf_token": token}).status_code == 303
        bearer = {"Authorization": f"Bearer {issue_token(store, user)}"}
        for path in _paths(app):
            url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)
            url += {"/fhir/Observation": f"?patient={patient}",
                    "/fhir/Patient": "?identifier=9990000018"}.get(path, "")
            headers = bearer if path.startswith(("/api/", "/fhir")) else {}
            response = client.get(url, headers=headers)
            assert response.status_code < 500, (user, url, response.status_code,
                                                response.text[:300])
    # the indicator pages still show what they can
    assert client.get("/indicators").status_code == 200
