"""Issue 16, item 3: after a patient's move between practices was loaded, the old practice still
saw the patient's worklist row (page, API and CSV) until `pcn run` ran again. Scoping is now
decided by the current record; the CLI refuses outputs computed from an older record."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow as pa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pcn.config import Settings
from pcn.ingest.merge import merge_into_record
from pcn.record import open_record
from pcn.record.schemas import TABLES
from tests.web.conftest import WORKLIST, WebWorld, signed_in


def _moved_record(web_world: WebWorld, tmp_path: Path) -> tuple[Path, int]:
    """A copy of the web twin (outputs included) where one patient on the test worklist has
    moved from the first practice to the second; `pcn run` has not run since."""
    record = tmp_path / "record"
    shutil.copytree(web_world.record, record, symlinks=True)
    rows = web_world.worklist[web_world.worklist["practice_code"] == web_world.own]
    patient = int(rows["patient_id"].iloc[0])
    source = open_record(record).manifest.source
    as_of = dt.date.fromisoformat(str(source["as_of"]))
    move = pa.Table.from_pylist([{"patient_id": patient, "practice_code": web_world.other,
                                  "start_date": as_of - dt.timedelta(days=30),
                                  "end_date": None}], schema=TABLES["registrations"].schema)
    merge_into_record(record, {"registrations": move}, source={**source, "kind": "move"})
    return record, patient


def test_the_old_practice_stops_seeing_a_moved_patient_before_pcn_run(
        web_world: WebWorld, tokens: dict[str, str], tmp_path: Path) -> None:
    from pcn.web.app import create_app

    record, patient = _moved_record(web_world, tmp_path)
    settings = Settings(secret_key="test-secret-key-0123456789abcdef", debug=False)
    app = create_app(record, store=web_world.store, settings=settings)
    assert app.state.view.outputs_stale  # the outputs predate the move
    api = TestClient(app)
    old, new = signed_in(app, "clin_a"), signed_in(app, "clin_b")

    def ids(rows: list[dict[str, object]]) -> set[int]:
        return {int(r["patient_id"]) for r in rows}  # type: ignore[call-overload]

    for user, client, should_see in (("clin_a", old, False), ("clin_b", new, True)):
        listed = api.get(f"/api/worklists/{WORKLIST}", params={"page_size": 500},
                         headers={"Authorization": f"Bearer {tokens[user]}"}).json()
        assert (patient in ids(listed["rows"])) is should_see, user
        csv = client.get(f"/worklists/{WORKLIST}/export.csv").text
        assert (f"\n{patient}," in csv) is should_see, user
        page = client.get(f"/worklists/{WORKLIST}?practice_code=")
        assert 'id="outputs-stale"' in page.text
    # the moved patient's row now says where they are registered
    row = next(r for r in api.get(f"/api/worklists/{WORKLIST}", params={"page_size": 500},
                                  headers={"Authorization": f"Bearer {tokens['clin_b']}"})
               .json()["rows"] if r["patient_id"] == patient)
    assert row["practice_code"] == web_world.other


def test_the_cli_refuses_worklists_computed_from_an_older_record(web_world: WebWorld,
                                                                 tmp_path: Path) -> None:
    from pcn.cli.main import app

    record, _ = _moved_record(web_world, tmp_path)
    result = CliRunner().invoke(app, ["worklist", "show", "smr_candidates", "--record",
                                      str(record)])
    assert result.exit_code == 2 and "older record" in result.output
    fresh = CliRunner().invoke(app, ["worklist", "show", "smr_candidates", "--record",
                                     str(web_world.record)])
    assert fresh.exit_code == 0, fresh.output
