"""`pcn tasks create/list/writeback` and `pcn run` follow-through from the command line, on a
tiny hand-made record and a real SQLite store (issue 17 contract)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pcn.analytics.run import outputs_path
from pcn.cli.main import app
from pcn.config import get_settings
from pcn.store import audit
from pcn.store.database import Store
from pcn.store.migrate import upgrade
from pcn.tasks import service
from pcn.tasks.service import TaskChange
from tests.spec.conftest import build_record, ev, patient, practice, reg

AS_OF = dt.date(2026, 3, 31)
CARE_HOME = "248171000000108"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Store]:
    record = tmp_path / "record"
    build_record(record, as_of=AS_OF,
                 practices=[practice("A00001"), practice("A00002")],
                 patients=[patient(i, dob=dt.date(1940, 1, 1)) for i in range(1, 7)],
                 registrations=[reg(i, "A00001" if i <= 3 else "A00002") for i in range(1, 7)],
                 # one review long ago: the record captures reviews (issue 19: a worklist
                 # whose exclusion nobody has a value for says "not available"), and patient 6
                 # is still due
                 clinical_events=[ev(i, dt.date(2024, 5, 1), CARE_HOME) for i in range(1, 7)]
                 + [ev(6, dt.date(2023, 1, 10), "1239511000000100")])
    store = Store(f"sqlite+pysqlite:///{tmp_path / 'pcn.sqlite3'}")
    upgrade(store)
    monkeypatch.setenv("PCN_DATABASE_URL", store.url)
    get_settings.cache_clear()
    yield record, store
    get_settings.cache_clear()
    store.dispose()


def test_create_list_and_follow_through_from_the_command_line(
        world: tuple[Path, Store]) -> None:
    record, store = world
    runner = CliRunner()
    assert runner.invoke(app, ["run", "--record", str(record)]).exit_code == 0
    made = runner.invoke(app, ["tasks", "create", "--worklist", "smr_candidates", "--record",
                               str(record), "--practice", "A00001", "--owner",
                               "clinical_pharmacist"])
    assert made.exit_code == 0, made.output
    assert "3 task(s) created" in made.output
    again = runner.invoke(app, ["tasks", "create", "--worklist", "smr_candidates", "--record",
                                str(record), "--practice", "A00001"])
    assert "0 task(s) created" in again.output and "3 patient(s) already" in again.output
    listed = runner.invoke(app, ["tasks", "list", "--owner", "clinical_pharmacist"])
    assert listed.exit_code == 0 and "Tasks (3)" in listed.output
    assert [e.action for e in audit.events(store)][-3:] == ["create_tasks", "create_tasks",
                                                            "list_tasks"]

    # a pharmacist at A00001 closes one with a structured medication review
    from pcn.store.accounts import create_user

    account, _ = create_user(store, "pharm.a", "practice_clinician", practice_code="A00001",
                             password="long enough password")
    tasks = service.list_tasks_as_operator(store, "test")
    first = tasks[0]
    service.update(store, account.principal(), first.id,
                   TaskChange(status="done", outcome_code="1239511000000100"),
                   practices_of=lambda _p: frozenset({"A00001"}), today=AS_OF)
    rerun = runner.invoke(app, ["run", "--record", str(record)])
    assert rerun.exit_code == 0 and "1 task outcome(s) written" in rerun.output
    listed_now = pd.read_parquet(outputs_path(record) / "worklists" / "smr_candidates.parquet")
    assert first.patient_id not in set(listed_now["patient_id"])
    assert len(listed_now) == 5
    assert "Nothing new" in runner.invoke(app, ["tasks", "writeback", "--record",
                                                str(record)]).output


def test_bad_input_is_a_clear_error(world: tuple[Path, Store]) -> None:
    record, _ = world
    runner = CliRunner()
    runner.invoke(app, ["run", "--record", str(record)])
    unknown = runner.invoke(app, ["tasks", "create", "--worklist", "no_such_list", "--record",
                                  str(record)])
    assert unknown.exit_code == 2 and "no worklist 'no_such_list'" in unknown.output
    bad_owner = runner.invoke(app, ["tasks", "create", "--worklist", "smr_candidates",
                                    "--record", str(record), "--owner", "nobody.here"])
    assert bad_owner.exit_code == 2 and "owner" in bad_owner.output
    bad_status = runner.invoke(app, ["tasks", "list", "--status", "finished"])
    assert bad_status.exit_code == 2 and "status" in bad_status.output
    for command in (["tasks", "--help"], ["tasks", "create", "--help"],
                    ["tasks", "list", "--help"], ["tasks", "writeback", "--help"]):
        assert runner.invoke(app, command).exit_code == 0
