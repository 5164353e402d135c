"""Follow-through on every engine and both stores (issue 17): a task on a worklist closed
'done' with a satisfying SNOMED outcome is written into the record, and the next ``pcn run``
no longer lists the patient while the indicator's numerator moves; a declined task is recorded
but the patient stays due (declining is not a review)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pcn.access.policy import Principal
from pcn.analytics.engine import EngineKind
from pcn.analytics.run import run
from pcn.measures.indicators import compute_indicator, load_indicators
from pcn.store import accounts
from pcn.store.database import Store
from pcn.tasks import service, writeback
from pcn.worklists import load_worklists
from tests.spec.conftest import build_record, ev, patient, practice, reg

AS_OF = dt.date(2026, 3, 31)
CARE_HOME = "248171000000108"  # Lives in care home (CAREHOME_COD)
SMR = "1239511000000100"  # Structured medication review
REFUSED = "183944003"  # Procedure refused
PRACTICE = "A00001"


def _record(base: Path) -> Path:
    # Patients 1-4 live in a care home; 4 had a structured medication review in January.
    build_record(
        base, as_of=AS_OF,
        practices=[practice(PRACTICE)],
        patients=[patient(i, dob=dt.date(1940, 1, 1)) for i in range(1, 7)],
        registrations=[reg(i, PRACTICE) for i in range(1, 7)],
        clinical_events=[ev(i, dt.date(2024, 5, 1), CARE_HOME) for i in range(1, 5)]
        + [ev(4, dt.date(2026, 1, 10), SMR)])
    return base


def _outputs(base: Path, engine: EngineKind) -> tuple[set[int], pd.Series]:
    result = run(base, engine, index_date=AS_OF)
    smr = pd.read_parquet(result.path / "worklists" / "smr_candidates.parquet")
    profile = pd.read_parquet(result.path / "patient_profile.parquet")
    indicator = compute_indicator(load_indicators()["smr_care_home"], profile, as_of=AS_OF)
    pcn = indicator.by_practice[indicator.by_practice["level"] == "pcn"].iloc[0]
    return set(smr["patient_id"].astype(int)), pcn


def test_done_task_leaves_the_worklist_and_moves_the_indicator(
        tmp_path: Path, engine_kind: EngineKind, store: Store) -> None:
    base = _record(tmp_path / "record")
    listed, before = _outputs(base, engine_kind)
    assert listed == {1, 2, 3}
    assert (before["numerator"], before["denominator"]) == (1, 4)

    account, _ = accounts.create_user(store, "pharm", "practice_clinician",
                                      practice_code=PRACTICE, password="long enough password")
    who: Principal = account.principal()
    titles = {w: d.title for w, d in load_worklists().items()}

    def practices_of(pid: int) -> frozenset[str]:
        return frozenset({PRACTICE}) if 1 <= pid <= 6 else frozenset()

    bulk = service.create_for_worklist(
        store, who, "smr_candidates",
        [service.Candidate(p, PRACTICE, "Lives in a care home") for p in sorted(listed)],
        worklists=titles)
    assert len(bulk.created) == 3
    by_patient = {service.get_unaudited(store, t).patient_id: t for t in bulk.created}
    satisfied = {w: frozenset(d.satisfied_by) for w, d in load_worklists().items()}
    service.update(store, who, by_patient[1],
                   service.TaskChange(status="done", outcome_code=SMR, outcome_date=AS_OF),
                   practices_of=practices_of, today=AS_OF, satisfied_by=satisfied.__getitem__)
    service.update(store, who, by_patient[2],
                   service.TaskChange(status="declined", outcome_code=REFUSED,
                                      outcome_date=AS_OF),
                   practices_of=practices_of, today=AS_OF, satisfied_by=satisfied.__getitem__)

    result = writeback.write_back(base, store)
    assert sorted((a.patient_id, a.snomed_code) for a in result.written) == [
        (1, SMR), (2, REFUSED)]
    assert writeback.write_back(base, store).written == []  # nothing twice

    listed_after, after = _outputs(base, engine_kind)
    assert listed_after == {2, 3}
    assert (after["numerator"], after["denominator"]) == (2, 4)
