from __future__ import annotations

import datetime as dt

import pandas as pd

from pcn.risk.segments import assign_segments, imd_gradients, inequality_flags

AS_OF = dt.date(2026, 3, 31)

BASE = {
    "age": 40,
    "sex": "F",
    "reg_palliative_care": False,
    "reg_dementia": False,
    "efi_category": None,
    "care_home": False,
    "reg_heart_failure": False,
    "reg_copd": False,
    "reg_ckd": False,
    "latest_egfr": None,
    "reg_learning_disability": False,
    "reg_smi": False,
    "housebound": False,
    "ltc_count": 0,
    "pregnant": False,
    "emergency_admissions_12m": 0,
    "ae_attendances_3m": 0,
}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{**BASE, **r} for r in rows])


def test_each_patient_gets_exactly_one_segment_by_priority() -> None:
    df = _frame(
        [
            {"reg_palliative_care": True, "reg_dementia": True},  # EoL beats frailty
            {"reg_dementia": True, "reg_copd": True},  # frailty beats organ failure
            {"reg_copd": True, "ltc_count": 1},  # organ failure
            {"reg_ckd": True, "latest_egfr": 25.0, "ltc_count": 1},  # advanced CKD
            {"reg_ckd": True, "latest_egfr": 45.0, "ltc_count": 1},  # CKD 3: stable chronic
            {"reg_learning_disability": True, "ltc_count": 1},  # disability
            {"age": 0},  # infant
            {"emergency_admissions_12m": 1},  # acutely ill
            {},  # healthy
            {"efi_category": "severe", "age": 85},
        ]
    )
    seg = assign_segments(df, AS_OF)
    assert list(seg) == [
        "short_decline_before_dying",
        "long_decline_frailty_dementia",
        "limited_reserve_organ_failure",
        "limited_reserve_organ_failure",
        "stable_chronic",
        "serious_disability",
        "maternal_and_infant",
        "acutely_ill",
        "healthy",
        "long_decline_frailty_dementia",
    ]


def test_core20_and_plus_groups() -> None:
    df = pd.DataFrame(
        {
            "age": [30, 10, 70],
            "imd_decile": [1, 3, 2],
            "ethnicity_6": ["Asian or Asian British", "White", None],
            "reg_learning_disability": [False, True, False],
            "reg_smi": [False, False, True],
            "homeless": [False, False, False],
            "carer": [True, False, False],
            "pregnant": [True, False, False],
            "reg_copd": [False, False, True],
            "reg_asthma": [False, True, False],
            "reg_cancer": [False, False, False],
            "reg_hypertension": [False, False, True],
            "qrisk3": [None, None, 12.0],
            "reg_chd": [False] * 3,
            "reg_stroke_tia": [False] * 3,
            "reg_pad": [False] * 3,
            "smoking_status": ["current", None, "ex"],
            "reg_diabetes": [False] * 3,
            "reg_epilepsy": [False] * 3,
            "reg_depression": [False] * 3,
        }
    )
    f = inequality_flags(df, AS_OF)
    assert list(f.core20) == [True, False, True]
    assert list(f.plus_groups) == ["ethnic_minority;carer", "learning_disability", "smi"]
    assert list(f.c5_maternity) == [True, False, False]
    assert list(f.c5_hypertension_lipids) == [False, False, True]
    assert list(f.cyp5_asthma) == [False, True, False]  # children's area only under 18
    assert list(f.c5_smoking_cessation) == [True, False, False]


def test_imd_gradient_slope_sign() -> None:
    # outcome achieved more often in less deprived quintiles -> positive slope
    rows = []
    for decile in range(1, 11):
        q = (decile + 1) // 2
        for i in range(20):
            rows.append(
                {"practice_code": "A1", "imd_decile": decile, "reg_x": True, "good": i < 4 * q}
            )
    df = pd.DataFrame(rows)
    g = imd_gradients(df, {"x_good": ("reg_x", "good")}, AS_OF)
    pcn = g[(g.unit == "PCN")].set_index("imd_quintile")
    assert pcn.loc[1, "rate"] == 20.0 and pcn.loc[5, "rate"] == 100.0
    assert abs(pcn.slope_per_quintile.iloc[0] - 20.0) < 1e-9
