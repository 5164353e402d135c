"""Spec (issue 19, clinical truth): measures recomputed from the published methods on tiny
hand-made populations, through the engine (DuckDB and Spark) and the population-health stage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from pcn.analytics.profile import RunContext, compute_profile
from pcn.measures import availability
from pcn.measures.indicators import compute_indicator, load_indicators
from pcn.refdata import codelist
from pcn.risk import pipeline
from tests.spec.conftest import D, ev, med, patient, practice, reg

INDEX = D(2024, 3, 31)
P = "nhsd-primary-care-domain-refsets-"


def first(codelist_id: str) -> str:
    return sorted(codelist(codelist_id).codes)[0]


def enriched(tiny_engine: Any, patients: list[dict[str, Any]], **tables: Any) -> pd.DataFrame:
    """The enriched patient profile of a hand-made record, as ``pcn run`` computes it."""
    ids = [p["patient_id"] for p in patients]
    engine = tiny_engine(patients=patients, registrations=[reg(i) for i in ids],
                         practices=[practice("A00001")], **tables)
    profile = compute_profile(RunContext(engine=engine, index_date=INDEX)).to_pandas()
    return pipeline.enrich(profile, INDEX).set_index("patient_id")


# ---- defect 2: process measures come from shipped codelists ----------------------------------
def test_process_measures_read_their_shipped_codelists(tiny_engine: Any) -> None:
    """Before issue 19 these six dates were null for everyone, so the indicators read 0%."""
    women = [patient(i, dob=D(1990, 1, 1), sex="F") for i in (1, 2)]
    events = [
        ev(1, D(2022, 6, 1), first("pcn-cervical-screening-smear_cod-subset")),
        ev(1, D(2023, 9, 1), first("pcn-asthma-review-rev_cod-subset")),
        ev(1, D(2023, 10, 1), first("pcn-dementia-review-demcprvw_cod-subset")),
        ev(1, D(2023, 11, 1), first("pcn-diabetic-foot-examination")),
        ev(1, D(2023, 12, 1), first("pcn-alcohol-consumption-recorded")),
        ev(2, D(2024, 4, 2), first("pcn-cervical-screening-smear_cod-subset")),  # after index
    ]
    df = enriched(tiny_engine, women, clinical_events=events)
    assert df.loc[1, "latest_cervical_screen_date"] == pd.Timestamp(2022, 6, 1)
    assert df.loc[1, "latest_asthma_review_date"] == pd.Timestamp(2023, 9, 1)
    assert df.loc[1, "latest_dementia_review_date"] == pd.Timestamp(2023, 10, 1)
    assert df.loc[1, "latest_foot_check_date"] == pd.Timestamp(2023, 11, 1)
    assert df.loc[1, "latest_alcohol_date"] == pd.Timestamp(2023, 12, 1)
    assert pd.isna(df.loc[2, "latest_cervical_screen_date"])
    cervical = load_indicators()["cervical_screening_25_49"]
    result = compute_indicator(cervical, df.reset_index(), as_of=INDEX)
    pcn = result.by_practice[result.by_practice["level"] == "pcn"].iloc[0]
    assert (pcn["numerator"], pcn["denominator"]) == (1, 2)


def test_smi_health_check_needs_all_six_parts_within_12_months(tiny_engine: Any) -> None:
    sbp = sorted(codelist("opensafely-systolic-blood-pressure-qof").codes)[0]
    parts = [
        (sbp, 130.0),
        ("60621009", 27.0),                                  # BMI
        ("1005671000000105", 5.0),                           # total cholesterol
        ("999791000000106", 40.0),                           # HbA1c
        (first(P + "exsmok_cod"), None),
        (first("pcn-alcohol-consumption-recorded"), None),
    ]
    people = [patient(i, dob=D(1970, 1, 1)) for i in (1, 2, 3)]
    events = [ev(1, D(2023, 6, 1), c, v) for c, v in parts]
    events += [ev(2, D(2023, 6, 1), c, v) for c, v in parts[:-1]]      # no alcohol
    events += [ev(3, D(2023, 6, 1), c, v) for c, v in parts[1:]]       # BP too old:
    events += [ev(3, D(2022, 6, 1), sbp, 120.0)]
    df = enriched(tiny_engine, people, clinical_events=events)
    assert df.loc[1, "latest_smi_health_check_date"] == pd.Timestamp(2023, 6, 1)
    assert pd.isna(df.loc[2, "latest_smi_health_check_date"])
    assert df.loc[3, "latest_smi_health_check_date"] == pd.Timestamp(2022, 6, 1)


# ---- defect 2: a definition needing a missing feature is not available ------------------------
def test_unsupported_feature_is_a_gap_and_shipped_definitions_declare_theirs() -> None:
    gaps = availability.unsupported(["latest_ld_health_check_date", "age", "reg_asthma"])
    assert [g.column for g in gaps] == ["latest_ld_health_check_date"]
    statuses = availability.check_definitions()
    assert not [s for s in statuses if s.problems], [s for s in statuses if s.problems]
    declared = {(s.kind, s.id) for s in statuses if s.declared}
    assert ("indicator", "ld_health_check") in declared
    assert ("worklist", "ld_health_check_due") in declared
    assert ("indicator", "cervical_screening_25_49") not in declared


def test_record_without_a_feature_makes_its_definitions_fail_the_check(tiny_engine: Any) -> None:
    """A record that never records cervical screening cannot say 0% screened."""
    df = enriched(tiny_engine, [patient(1, dob=D(1990, 1, 1), sex="F")])
    gaps = availability.record_gaps(df.reset_index(), ["latest_cervical_screen_date", "age"])
    assert [g.column for g in gaps] == ["latest_cervical_screen_date"]
    failing = {s.id for s in availability.check_definitions(df.reset_index()) if s.problems}
    assert {"cervical_screening_25_49", "cervical_screening_50_64", "asthma_review",
            "dm_foot_check"} <= failing


def test_worklist_needing_a_missing_feature_is_not_built(tiny_engine: Any) -> None:
    from pcn.worklists import build_worklists, load_worklists

    ld = first(P + "ld_cod")
    df = enriched(tiny_engine, [patient(1, dob=D(1990, 1, 1))],
                  clinical_events=[ev(1, D(2010, 1, 1), ld)])
    assert bool(df.loc[1, "reg_learning_disability"])
    chosen = {k: v for k, v in load_worklists().items()
              if k in ("ld_health_check_due", "care_home_residents", "smi_health_check_due")}
    built = build_worklists(df.reset_index(), INDEX, chosen)
    # the SMI list needs six recordings this record never holds: not built either
    assert set(built) == {"care_home_residents"}
    assert "ld_health_check_due" not in built  # it would name everyone on the register


# ---- helpers for the later defects -------------------------------------------------------------
def statin_issue(pid: int, day: dt.date) -> dict[str, Any]:
    return med(pid, day, first("opensafely-statin-medication"))


# ---- defect 5: QRISK3 is not for people on statins; unknown amount = light smoker --------------
def test_qrisk3_leaves_out_people_on_statins_and_their_worklist(tiny_engine: Any) -> None:
    from pcn.worklists import build_worklists, load_worklists

    sbp = sorted(codelist("opensafely-systolic-blood-pressure-qof").codes)[0]
    hyp = first(P + "hyp_cod")
    men = [patient(i, dob=D(1950, 1, 1), sex="M") for i in (1, 2)]
    events = [e for i in (1, 2) for e in (ev(i, D(2023, 1, 1), hyp),
                                          ev(i, D(2024, 1, 1), sbp, 170.0))]
    df = enriched(tiny_engine, men, clinical_events=events,
                  medications=[statin_issue(1, D(2024, 2, 1))])
    assert bool(df.loc[1, "on_statin"]) and not bool(df.loc[1, "qrisk3_eligible"])
    assert pd.isna(df.loc[1, "qrisk3"])
    assert bool(df.loc[2, "qrisk3_eligible"]) and df.loc[2, "qrisk3"] >= 10
    indicator = load_indicators()["statin_qrisk_10"]
    result = compute_indicator(indicator, df.reset_index(), as_of=INDEX)
    pcn = result.by_practice[result.by_practice["level"] == "pcn"].iloc[0]
    assert (pcn["numerator"], pcn["denominator"]) == (1, 1)  # patient 2 only
    chosen = {"qrisk_statin": load_worklists()["qrisk_statin"]}
    wl = build_worklists(df.reset_index(), INDEX, chosen)["qrisk_statin"]
    assert wl["patient_id"].tolist() == [2]


def test_current_smoker_without_amount_scores_as_light_smoker(tiny_engine: Any) -> None:
    smoker, light, moderate = "77176002", "160603005", "160604004"
    people = [patient(i, dob=D(1964, 1, 1), sex="M") for i in (1, 2, 3)]
    day = D(2023, 6, 1)
    events = [ev(1, day, smoker), ev(2, day, smoker), ev(2, day, light),
              ev(3, day, smoker), ev(3, day, moderate)]
    df = enriched(tiny_engine, people, clinical_events=events)
    assert (df["smoking_status"] == "current").all()
    assert df.loc[1, "qrisk3"] == df.loc[2, "qrisk3"]  # as docs/reference/risk-scores.md says
    assert df.loc[1, "qrisk3"] < df.loc[3, "qrisk3"]


# ---- defect 1: the Cambridge Multimorbidity Score as published -------------------------------
def test_cms_follows_its_published_rules_not_the_registers(tiny_engine: Any) -> None:
    """Payne et al., CMAJ 2020: anxiety/depression needs a code in the last 12 months, cancer a
    first code in 5 years, asthma a treatment in 12 months; alcohol, hearing loss and painful
    condition score. Before issue 19 CMS summed QOF register flags instead."""
    from pcn.risk.cms import cms_weights

    w = dict(zip(cms_weights().condition_id, cms_weights().weight_general, strict=True))
    opioid = first("user-anschaf-opioids-for-analgesia-dmd")
    salbutamol = first("opensafely-asthma-inhaler-salbutamol-medication")
    people = [patient(i, dob=D(1950, 1, 1)) for i in range(1, 9)]
    events = [
        ev(1, D(2015, 1, 1), first(P + "excessalc_cod")),               # ALC (ever)
        ev(2, D(2020, 1, 1), first(P + "depr_cod")),                    # old depression: no
        ev(3, D(2023, 10, 1), first(P + "depr_cod")),                   # ANXDEP
        ev(4, D(2015, 1, 1), first(P + "solid-cancer-diagnosis-codes")),  # old cancer: no
        ev(5, D(2022, 1, 1), first(P + "solid-cancer-diagnosis-codes")),  # CAN (new in 5 y)
        ev(6, D(2010, 1, 1), first("efi-hearing-loss")),                # HEL
        ev(7, D(2010, 1, 1), first(P + "ast_cod")),                     # asthma, no inhaler
        ev(8, D(2010, 1, 1), first(P + "ast_cod")),                     # AST with inhaler
    ]
    meds = [med(6, D(2023, m, 1), opioid) for m in (4, 6, 8, 10)]     # PNC: 4 issues
    meds += [med(8, D(2023, 12, 1), salbutamol)]
    df = enriched(tiny_engine, people, clinical_events=events, medications=meds)
    expected = {1: w["ALC"], 2: 0.0, 3: w["ANXDEP"], 4: 0.0, 5: w["CAN"],
                6: round(w["HEL"] + w["PNC"], 2), 7: 0.0, 8: w["AST"]}
    assert {i: float(df.loc[i, "cms_score"]) for i in expected} == pytest.approx(expected)
    assert bool(df.loc[2, "reg_depression"]) and bool(df.loc[7, "reg_asthma"])  # registers differ


# ---- defect 6: age-standardised rates, not crude ones -----------------------------------------
def test_age_standardised_rates_remove_the_age_of_the_list(tiny_engine: Any) -> None:
    """Two practices with the same age-specific admission rates (0.1 a year at 30, 1 a year at
    85) but opposite age structures: crude rates 820 and 280 per 1,000; directly standardised
    to the European Standard Population 2013 both are (6500·0.1 + 1500·1)/8000 = 268.75."""
    from pcn.measures.standardise import standardised_rates

    def people(start: int, n: int, dob: dt.date) -> list[dict[str, Any]]:
        return [patient(i, dob=dob) for i in range(start, start + n)]

    young, old = D(1992, 1, 1), D(1937, 1, 1)  # aged 32 and 87 on the index date
    a = people(1, 10, young) + people(11, 40, old)     # practice A: old list
    b = people(51, 40, young) + people(91, 10, old)    # practice B: young list
    pts = a + b
    regs = [reg(p["patient_id"], "A00001" if p["patient_id"] <= 50 else "A00002") for p in pts]
    admitted = [1, *range(11, 51), *range(51, 55), *range(91, 101)]
    hosp = [{"patient_id": i, "kind": "emergency_admission", "start_date": D(2023, 9, 1),
             "end_date": D(2023, 9, 3), "icd10_code": None} for i in admitted]
    engine = tiny_engine(patients=pts, registrations=regs,
                         practices=[practice("A00001"), practice("A00002")],
                         hospital_activity=hosp)
    profile = compute_profile(RunContext(engine=engine, index_date=INDEX)).to_pandas()
    df = pipeline.enrich(profile, INDEX)
    indicator = load_indicators()["emergency_admissions_per_1000"]
    hospital = pd.DataFrame(hosp)
    crude = compute_indicator(indicator, df, as_of=INDEX, hospital_activity=hospital).by_practice
    crude = crude.set_index("org_code")["value"]
    assert crude["A00001"] == pytest.approx(820.0) and crude["A00002"] == pytest.approx(280.0)
    dsr = standardised_rates(indicator, df, as_of=INDEX, hospital_activity=hospital)
    dsr = dsr.set_index("org_code")
    assert dsr.loc["A00001", "dsr"] == pytest.approx(268.75)
    assert dsr.loc["A00002", "dsr"] == pytest.approx(268.75)
    assert dsr.loc["A00001", "dsr_lower"] < 268.75 < dsr.loc["A00001", "dsr_upper"]


# ---- defect 7: not SLICC; which staff roles count ----------------------------------------------
def test_usual_gp_share_is_not_called_slicc_and_roles_are_as_documented() -> None:
    """SLICC needs the named list GP, which the record lacks: pcn reports the usual-GP share
    (GPs only) and says so; UPC counts every role."""
    from pcn.measures.continuity import patient_continuity

    visits = [("gp1", "gp"), ("gp1", "gp"), ("gp1", "gp"), ("gp2", "gp"),
              ("n1", "practice_nurse"), ("n1", "practice_nurse")]
    appointments = pd.DataFrame({
        "patient_id": [1] * len(visits), "practice_code": ["A00001"] * len(visits),
        "clinician_id": [c for c, _ in visits], "role": [r for _, r in visits],
        "start_at": pd.date_range("2023-06-01", periods=len(visits), freq="7D"),
        "status": ["attended"] * len(visits)})
    out = patient_continuity(appointments).set_index("patient_id")
    assert "slicc" not in out.columns
    assert out.loc[1, "usual_gp_share"] == pytest.approx(3 / 4)  # GP contacts only
    assert out.loc[1, "upc"] == pytest.approx(3 / 6)             # every role
