"""Spec: what the record tells triage about a known patient, on a tiny hand-made record.

Three patients at practice A81001 on 2026-03-31:
- 1: COPD (a long-term condition), saw ANP "N1" three times and GP "G1" once → usual clinician N1
  (anp); continuity applies to routine requests.
- 2: no long-term condition but severe eFI frailty; saw G1 twice only (< 3 contacts) → no usual
  clinician.
- 3: obesity only (not a long-term condition register), left the practice in 2025.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pcn.triage import Route, TriageRequest, Urgency, triage
from pcn.triage.patients import PatientDirectory

AS_OF = dt.date(2026, 3, 31)

#: A request a benign pattern explains completely: routine, to a GP.
ROUTINE_GP_REQUEST = "I would like to talk to someone about HRT for my menopause symptoms"


def _directory() -> PatientDirectory:
    patients = pd.DataFrame({"patient_id": [1, 2, 3],
                             "nhs_number": ["9990000018", "9990000026", "9990000034"]})
    registrations = pd.DataFrame({
        "patient_id": [1, 2, 3], "practice_code": ["A81001", "A81001", "A81001"],
        "start_date": pd.to_datetime(["2010-01-01", "2015-05-05", "2012-02-02"]),
        "end_date": pd.to_datetime([None, None, "2025-06-30"])})
    profile = pd.DataFrame({
        "patient_id": [1, 2, 3], "reg_copd": [True, False, False],
        "reg_obesity": [False, False, True], "efi_category": ["mild", "severe", None],
        "housebound": [False, True, False], "pregnant": [False, False, False]})
    visits = [(1, "N1", "anp", "2026-01-05"), (1, "N1", "anp", "2026-02-05"),
              (1, "N1", "anp", "2026-03-05"), (1, "G1", "gp", "2026-03-20"),
              (2, "G1", "gp", "2026-01-10"), (2, "G1", "gp", "2026-02-10"),
              (1, "G1", "gp", "2024-01-01")]  # outside the 12-month window
    appointments = pd.DataFrame({
        "patient_id": [v[0] for v in visits], "practice_code": "A81001",
        "clinician_id": [v[1] for v in visits], "role": [v[2] for v in visits],
        "start_at": pd.to_datetime([v[3] for v in visits]), "status": "attended"})
    return PatientDirectory(patients, registrations, profile, appointments, AS_OF,
                            long_term_registers=frozenset({"copd", "diabetes"}))


def test_match_by_nhs_number_or_patient_id() -> None:
    directory = _directory()
    assert directory.match(nhs_number="999 000 0018").patient_id == 1  # type: ignore[union-attr]
    assert directory.match(patient_id=2).practices == frozenset({"A81001"})  # type: ignore[union-attr]
    assert directory.match(nhs_number="9990000019") is None  # bad check digit
    assert directory.match(nhs_number="9990000042") is None  # valid but not in the record
    assert directory.match(patient_id=3).practices == frozenset()  # type: ignore[union-attr]


def test_context_reads_ltcs_frailty_and_usual_clinician() -> None:
    directory = _directory()
    one, two, three = (directory.context(p) for p in (1, 2, 3))
    assert one.long_term_conditions == ["copd"] and not one.frail
    assert (one.usual_clinician_id, one.usual_clinician_role) == ("N1", Route.anp)
    assert two.long_term_conditions == [] and two.frail and two.housebound
    assert two.usual_clinician_id is None
    assert three.long_term_conditions == [] and not three.frail


def test_routine_request_from_ltc_patient_goes_to_usual_clinician() -> None:
    directory = _directory()
    decision = triage(TriageRequest(text=ROUTINE_GP_REQUEST, age=70,
                                    sex="F", context=directory.context(1)))
    assert decision.urgency is Urgency.routine
    assert (decision.route, decision.usual_clinician_id) == (Route.anp, "N1")
    assert "continuity: routed to usual clinician (anp)" in decision.explanation


def test_directory_without_profile_gives_empty_context() -> None:
    directory = _directory()
    bare = PatientDirectory(directory._patients, directory._registrations, None, None, AS_OF,
                            long_term_registers=frozenset())
    context = bare.context(1)
    assert context.long_term_conditions == [] and context.usual_clinician_role is None
