"""Social prescribing (issue 22): the ORUK directory round trip and search, and a referral
from a worklist task to a recorded ONS4 outcome, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pcn.access.policy import Principal
from pcn.cli.main import app
from pcn.config import get_settings
from pcn.social import referrals
from pcn.social.directory import Search, all_services, parse_directory, search
from pcn.social.report import caseloads, outcome_report
from pcn.store import accounts
from pcn.store.database import Store
from pcn.store.models import SocialReferral, Task
from pcn.tasks import service, writeback
from tests.spec.conftest import build_record, patient, practice, reg

ORUK = Path(__file__).resolve().parents[1] / "data" / "oruk_directory.json"
WALKING, MONEY, CARERS = (f"4f1d2a60-0001-4c1e-9a1b-00000000000{i}" for i in (1, 2, 3))
PRACTICE = "A00001"


@pytest.fixture
def configured(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("PCN_DATABASE_URL", store.url)
    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_oruk_import_export_import_gives_the_same_directory(
    configured: Store, tmp_path: Path
) -> None:
    assert "3 service(s) added" in invoke("social", "directory", "import", "-i", str(ORUK))
    invoke("social", "directory", "export", "-o", str(tmp_path / "one.json"))
    again = invoke("social", "directory", "import", "-i", str(tmp_path / "one.json"))
    assert "0 service(s) added, 3 updated" in again
    invoke("social", "directory", "export", "-o", str(tmp_path / "two.json"))
    one = json.loads((tmp_path / "one.json").read_text())
    assert one == json.loads((tmp_path / "two.json").read_text())
    assert one["total_items"] == 3 and len(one["contents"]) == 3
    original = {s.id: s for s in parse_directory(json.loads(ORUK.read_text()))}
    assert {s.id: s for s in parse_directory(one)} == original
    walking = next(s for s in one["contents"] if s["id"] == WALKING)
    address = walking["service_at_locations"][0]["location"]["addresses"][0]
    assert address["postal_code"] == "LS6 2AB"
    assert walking["contacts"][0]["phones"][0]["number"] == "0113 496 0000"


def test_search_by_need_place_and_age(configured: Store) -> None:
    invoke("social", "directory", "import", "-i", str(ORUK))
    services = all_services(configured)

    def ids(**kw: object) -> set[str]:
        return {s.id for s in search(services, Search(**kw))}  # type: ignore[arg-type]

    assert ids(need="loneliness", postcode="LS6 4XY", age=40) == {WALKING}
    assert ids(need="loneliness", postcode="ls6 4xy", age=12) == {CARERS}
    assert ids(need="loneliness", age=17) == {CARERS}  # walking group is for 18 and over
    assert ids(need="loneliness", age=18) == {WALKING}
    assert ids(need="money", postcode="LS6") == set()
    assert ids(need="money", postcode="LS7 9QQ") == {MONEY}
    assert ids(text="bills") == {MONEY}
    found = invoke("social", "directory", "search", "--need", "loneliness", "--age", "70")
    assert "Tuesday Walking Group" in found and "18 and over" in found
    bad = CliRunner().invoke(app, ["social", "directory", "search", "--postcode", "nowhere"])
    assert bad.exit_code == 2 and "not a UK postcode" in bad.output


def test_a_bad_service_is_named_and_nothing_is_imported(configured: Store, tmp_path: Path) -> None:
    data = json.loads(ORUK.read_text())
    del data["contents"][1]["organization"]
    data["contents"][2]["minimum_age"] = 30
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(app, ["social", "directory", "import", "-i", str(path)])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert f"service 2 ({MONEY}): organization: Field required" in message
    assert "minimum_age 30 is above maximum_age 17" in message
    assert all_services(configured) == []


def test_a_link_worker_takes_a_referral_from_a_worklist_to_an_ons4_outcome(
    configured: Store, tmp_path: Path
) -> None:
    store = configured
    record = tmp_path / "record"
    build_record(
        record,
        as_of=dt.date(2026, 11, 30),
        practices=[practice(PRACTICE)],
        patients=[patient(p, dob=dt.date(1950, 1, 1)) for p in (1, 2)],
        registrations=[reg(1, PRACTICE), reg(2, PRACTICE)],
    )
    invoke("social", "directory", "import", "-i", str(ORUK))
    gp_account, _ = accounts.create_user(
        store, "gp1", "practice_clinician", practice_code=PRACTICE, password="long enough password"
    )
    lw_account, _ = accounts.create_user(
        store,
        "linkworker",
        "practice_clinician",
        practice_code=PRACTICE,
        password="long enough password",
    )
    gp: Principal = gp_account.principal()
    lw: Principal = lw_account.principal()

    def practices_of(pid: int) -> frozenset[str]:
        return frozenset({PRACTICE}) if pid in (1, 2) else frozenset()

    worklist_task = service.create(
        store,
        gp,
        service.NewTask(patient_id=1, kind="frailty_review", reason="Lives alone, lonely"),
        practices_of=practices_of,
        worklists={},
    ).id
    made = referrals.refer(
        store,
        gp,
        patient_id=1,
        route="worklist",
        reason="Lonely since bereavement",
        from_task_id=worklist_task,
        needs=("loneliness", "bereavement"),
        practices_of=practices_of,
    )
    declined = referrals.refer(
        store,
        gp,
        patient_id=2,
        route="manual",
        reason="Debts",
        declined=True,
        practices_of=practices_of,
    )
    assert declined.caseload_task_id is None
    closed = service.get_unaudited(store, worklist_task)
    assert (closed.status, closed.outcome_code) == ("done", "871731000000106")
    assert (
        service.get_unaudited(store, declined.referring_task_id).outcome_code == "871711000000103"
    )
    assert made.referral_id is not None and made.caseload_task_id is not None
    caseload = service.get_unaudited(store, made.caseload_task_id)
    assert (caseload.source, caseload.owner_role) == ("social_prescribing", "social_prescriber")

    referrals.take(store, lw, made.referral_id, practices_of=practices_of)
    first_contact = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=3)
    referrals.record_contact(
        store,
        lw,
        made.referral_id,
        mode="phone",
        what_matters="Getting out of the house again",
        services=(WALKING,),
        practices_of=practices_of,
        at=first_contact,
    )
    with pytest.raises(referrals.ReferralError, match="anxiety: choose a score"):
        referrals.record_ons4(
            store,
            lw,
            made.referral_id,
            when="start",
            answers={"life_satisfaction": 3, "worthwhile": 4, "happiness": 2},
            practices_of=practices_of,
        )
    referrals.record_ons4(
        store,
        lw,
        made.referral_id,
        when="start",
        answers={"life_satisfaction": 3, "worthwhile": 4, "happiness": 2, "anxiety": 8},
        practices_of=practices_of,
    )
    rows = referrals.referrals(store)
    report = outcome_report(rows, "network")[0]
    assert (report.closed, report.share_with_outcome) == (0, None)  # "Not available"
    referrals.record_ons4(
        store,
        lw,
        made.referral_id,
        when="end",
        answers={"life_satisfaction": "6", "worthwhile": "6", "happiness": "5", "anxiety": "4"},
        practices_of=practices_of,
    )
    referrals.close(
        store,
        lw,
        made.referral_id,
        outcome_text="Walks weekly; feels less alone",
        practices_of=practices_of,
    )

    with store.read() as session:
        row = session.scalars(select(SocialReferral)).one()
        task = session.get(Task, row.task_id)
    assert (row.status, row.link_worker, row.services) == ("closed", "linkworker", [WALKING])
    assert task is not None and task.status == "done" and task.owner_user == "linkworker"
    rows = referrals.referrals(store)
    by_worker = outcome_report(rows, "link_worker")
    assert [
        (r.group, r.closed, r.closed_with_outcome, r.share_with_outcome) for r in by_worker
    ] == [("linkworker", 1, 1, 1.0)]
    assert by_worker[0].median_change == {
        "life_satisfaction": 3.0,
        "worthwhile": 2.0,
        "happiness": 3.0,
        "anxiety": -4.0,
    }
    by_service = outcome_report(rows, "service", {WALKING: "Tuesday Walking Group"})
    assert [r.group for r in by_service] == ["Tuesday Walking Group"]
    by_need = outcome_report(rows, "need")
    assert [r.group for r in by_need] == ["Bereavement", "Loneliness or social isolation"]
    load = caseloads(rows, dt.date.today())[0]
    assert (load.link_worker, load.open, load.waiting_first_contact) == ("linkworker", 0, 0)
    assert load.median_wait_days is not None and 2.9 < load.median_wait_days < 3.1

    written = writeback.write_back(record, store).written
    assert sorted((w.patient_id, w.snomed_code) for w in written) == [
        (1, "871731000000106"),
        (2, "871711000000103"),
    ]
    assert "linkworker" in invoke("social", "report", "--by", "link_worker")


def test_a_referral_from_an_online_request_leaves_the_request_to_the_triage_queue(
    configured: Store,
) -> None:
    store = configured
    account, _ = accounts.create_user(
        store, "gp2", "practice_clinician", practice_code=PRACTICE, password="long enough password"
    )
    now = dt.datetime(2026, 12, 1, 9, 0)
    with store.session() as session:
        request_task = Task(
            patient_id=1,
            practice_code=PRACTICE,
            source="triage_request",
            worklist_id=None,
            source_ref=None,
            kind="online_consultation",
            reason="Online consultation request (routine, social_prescriber)",
            priority="routine",
            status="open",
            attempts=0,
            created_by="public",
            created_at=now,
            updated_at=now,
        )
        session.add(request_task)
        session.flush()
        request_id = request_task.id
    made = referrals.refer(
        store,
        account.principal(),
        patient_id=1,
        route="triage",
        reason="Asked for help with isolation",
        from_task_id=request_id,
        practices_of=lambda pid: frozenset({PRACTICE}),
    )
    assert service.get_unaudited(store, request_id).status == "open"
    recorded = service.get_unaudited(store, made.referring_task_id)
    assert made.referring_task_id != request_id
    assert (recorded.status, recorded.outcome_code) == ("done", "871731000000106")
    assert made.caseload_task_id is not None
