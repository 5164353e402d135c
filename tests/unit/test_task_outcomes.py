"""The task outcome vocabulary and the follow-through funnel (issue 17)."""

from __future__ import annotations

import pandas as pd

from pcn.refdata.codelists import codelist
from pcn.tasks import funnel
from pcn.tasks.vocabulary import CLOSED_STATUSES, outcomes
from pcn.worklists import load_worklists


def test_outcome_codes_match_their_codelists() -> None:
    known = outcomes()
    assert "1239511000000100" in known
    for code, outcome in known.items():
        assert set(outcome.closes) <= set(CLOSED_STATUSES)
        if outcome.codelist:
            terms = codelist(outcome.codelist).terms
            assert code in terms, (code, outcome.codelist)
            assert terms[code].lower().startswith(outcome.term.lower()), (code, terms[code])


def test_a_worklist_is_satisfied_only_by_codes_its_exclusion_reads() -> None:
    smr = load_worklists()["smr_candidates"]
    assert smr.satisfied_by == ["opensafely-structured-medication-review-nhs-england"]
    codes = codelist(smr.satisfied_by[0]).codes
    done_codes = {c for c, o in outcomes().items() if "done" in o.closes}
    assert "1239511000000100" in codes & done_codes
    # declining or "not appropriate" never satisfies a worklist
    other = {c for c, o in outcomes().items() if "done" not in o.closes}
    assert not other & codes


def test_funnel_counts_patients_recomputed_by_hand() -> None:
    t0 = pd.Timestamp("2026-03-01")
    worklist = pd.DataFrame({"patient_id": [1, 2, 3, 4], "practice_code": ["A", "A", "B", "B"]})
    tasks = funnel.task_frame([
        {"patient_id": 1, "practice_code": "A", "worklist_id": "w", "status": "done",
         "attempts": 0, "created_at": t0, "closed_at": t0 + pd.Timedelta(days=4)},
        {"patient_id": 2, "practice_code": "A", "worklist_id": "w", "status": "open",
         "attempts": 2, "created_at": t0, "closed_at": None},
        {"patient_id": 3, "practice_code": "B", "worklist_id": "w", "status": "open",
         "attempts": 0, "created_at": t0, "closed_at": None},
        # patient 5 left the list after the work was done: still identified
        {"patient_id": 5, "practice_code": "B", "worklist_id": "w", "status": "done",
         "attempts": 1, "created_at": t0, "closed_at": t0 + pd.Timedelta(days=10)},
    ])
    per = funnel.patient_outcomes(worklist, tasks)
    table = funnel.by_practice(per, "PCN1").set_index("org_code")
    assert table.loc["A", ["identified", "contacted", "done"]].tolist() == [2, 2, 1]
    assert table.loc["B", ["identified", "contacted", "done"]].tolist() == [3, 1, 1]
    assert table.loc["PCN1", ["identified", "contacted", "done"]].tolist() == [5, 3, 2]
    assert table.loc["PCN1", "median_days_to_done"] == 7.0
    assert table.loc["A", "median_days_to_done"] == 4.0
    profile = pd.DataFrame({"patient_id": [1, 2, 3, 4, 5],
                            "core20": [True, False, True, False, True],
                            "plus_groups": ["", "carer", "", "", "carer;homeless"]})
    groups = funnel.core20plus_groups(profile)
    by_group = funnel.by_core20plus(per, groups).set_index("group")
    assert by_group.loc[funnel.CORE20_YES, ["identified", "done"]].tolist() == [3, 2]
    assert by_group.loc[funnel.CORE20_NO, ["identified", "done"]].tolist() == [2, 0]
    # PLUS groups read by their reviewed titles (core20plus5.yaml), one row per group
    assert by_group.loc["PLUS: Unpaid carers", ["identified", "done"]].tolist() == [2, 1]
    assert by_group.loc["PLUS: People experiencing homelessness", "identified"] == 1
