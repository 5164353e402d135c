"""Worklists on tiny hand-made profiles: who is on each list, and why."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pcn.worklists import build_worklist, load_worklists

AS_OF = dt.date(2026, 3, 31)
RECENT = pd.Timestamp("2026-01-10")
OLD = pd.Timestamp("2019-05-01")  # more than 5 years before AS_OF


def profile(rows: list[dict]) -> pd.DataFrame:
    base = {
        "practice_code": "A81016",
        "sex": "F",
        "age": 50,
        "imd_decile": 5,
        "core20": False,
        "plus_groups": "",
        "reg_hypertension": False,
        "reg_palliative_care": False,
        "latest_sbp": None,
        "latest_dbp": None,
        "latest_sbp_date": pd.NaT,
        "on_antihypertensive": False,
    }
    df = pd.DataFrame([{**base, "patient_id": i + 1, **r} for i, r in enumerate(rows)])
    df["latest_sbp_date"] = pd.to_datetime(df["latest_sbp_date"])
    return df


def test_hypertension_case_finding_reasons() -> None:
    df = profile(
        [
            {"age": 45},  # 1: never had BP -> no_bp_5_years
            {
                "age": 45,
                "latest_sbp": 150,
                "latest_dbp": 80,
                "latest_sbp_date": RECENT,
            },  # 2: raised
            {"age": 45, "latest_sbp": 120, "latest_dbp": 70, "latest_sbp_date": RECENT},  # 3: fine
            {"age": 39},  # 4: too young
            {"age": 60, "reg_hypertension": True},  # 5: already diagnosed
            {
                "age": 70,
                "latest_sbp": 160,
                "latest_dbp": 95,
                "latest_sbp_date": OLD,
            },  # 6: old + high
            {"age": 80, "reg_palliative_care": True},  # 7: excluded
        ]
    )
    wl = build_worklist(load_worklists()["hypertension_case_finding"], df, AS_OF)
    got = dict(zip(wl.patient_id, wl.reasons, strict=True))
    assert got == {
        1: "No blood pressure recorded in 5 years",
        2: "Latest reading 140/90 or more without a diagnosis",
        6: "No blood pressure recorded in 5 years",
    }
    # sorted by latest SBP, highest first, missing last
    assert list(wl.patient_id) == [6, 2, 1]


def test_hypertension_uncontrolled_uses_age_specific_targets() -> None:
    df = profile(
        [
            {
                "reg_hypertension": True,
                "age": 60,
                "latest_sbp": 145,
                "latest_dbp": 80,
                "latest_sbp_date": RECENT,
            },  # above 140 under 80
            {
                "reg_hypertension": True,
                "age": 85,
                "latest_sbp": 145,
                "latest_dbp": 80,
                "latest_sbp_date": RECENT,
            },  # fine at 85 (target 150/90)
            {
                "reg_hypertension": True,
                "age": 85,
                "latest_sbp": 152,
                "latest_dbp": 80,
                "latest_sbp_date": RECENT,
            },  # above 150
            {"reg_hypertension": True, "age": 60},  # no recent BP
        ]
    )
    wl = build_worklist(load_worklists()["hypertension_uncontrolled"], df, AS_OF)
    assert sorted(wl.patient_id) == [1, 3, 4]


def test_every_shipped_definition_names_a_source_and_fields() -> None:
    defs = load_worklists()
    assert {
        "hypertension_case_finding",
        "hypertension_uncontrolled",
        "qrisk_statin",
        "af_not_anticoagulated",
        "smr_candidates",
        "ld_health_check_due",
        "smi_health_check_due",
        "anticipatory_care",
        "care_home_residents",
        "high_admission_risk",
    } <= set(defs)
    for d in defs.values():
        assert d.source and d.fields and d.criteria


def test_unknown_column_is_a_clear_error() -> None:
    df = profile([{"age": 45}]).drop(columns=["latest_sbp"])
    with pytest.raises(ValueError, match="latest_sbp"):
        build_worklist(load_worklists()["hypertension_case_finding"], df, AS_OF)
