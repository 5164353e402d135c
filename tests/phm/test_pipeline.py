"""The population-health stage on hand-made profiles: values worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pcn.risk import pipeline
from pcn.risk.cms_features import input_columns as cms_input_columns
from pcn.risk.features import DATE_TAGS, MEDICATION_TAGS
from pcn.risk.qrisk3 import qrisk3_score

AS_OF = dt.date(2026, 3, 31)
REGISTERS = [
    "hypertension",
    "diabetes",
    "asthma",
    "copd",
    "chd",
    "stroke_tia",
    "af",
    "heart_failure",
    "ckd",
    "dementia",
    "depression",
    "smi",
    "learning_disability",
    "epilepsy",
    "osteoporosis",
    "rheumatoid_arthritis",
    "pad",
    "cancer",
    "palliative_care",
    "ndh",
    "obesity",
]


def patient(**kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "patient_id": 1,
        "practice_code": "A81016",
        "age": 50,
        "sex": "F",
        "ethnicity_6": "White",
        "ethnicity_16": 1,
        "imd_decile": 5,
        "lsoa_code": "E01012000",
        "ltc_count": 0,
        "sbp": np.nan,
        "sbp_date": pd.NaT,
        "dbp": np.nan,
        "dbp_date": pd.NaT,
        "bmi": np.nan,
        "bmi_date": pd.NaT,
        "smoking_status": None,
        "smoking_status_date": pd.NaT,
        "smoking_amount": None,
        "efi_deficits_coded": 0,
        "distinct_medicines_12m": 0,
        "latest_hba1c": np.nan,
        "latest_hba1c_date": pd.NaT,
        "latest_total_cholesterol": np.nan,
        "latest_cholesterol_date": pd.NaT,
        "latest_hdl_cholesterol": np.nan,
        "latest_hdl_date": pd.NaT,
        "latest_egfr": np.nan,
        "latest_egfr_date": pd.NaT,
        "sbp_sd_5y": np.nan,
        "sbp_readings_5y": 0,
        "emergency_admissions_12m": 0,
        "ae_attendances_12m": 0,
        "ae_attendances_3m": 0,
        "gp_appointments_12m": 0,
        "appointments_12m": 0,
        "dna_12m": 0,
    }
    row.update({f"reg_{r}": False for r in REGISTERS})
    row.update(dict.fromkeys(DATE_TAGS, pd.NaT))
    row.update(dict.fromkeys(MEDICATION_TAGS, False))
    row.update({c: 0 if t == pa.int64() else pd.NaT for c, t in cms_input_columns().items()})
    row.update(kw)
    return row


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    df = pd.DataFrame([{**r, "patient_id": i + 1} for i, r in enumerate(rows)])
    for c in df.columns:
        if c.endswith("_date"):
            df[c] = pd.to_datetime(df[c])
    return df


def test_efi_counts_polypharmacy_and_respects_age() -> None:
    df = pipeline.enrich(
        frame(
            patient(age=80, efi_deficits_coded=4, distinct_medicines_12m=5),  # 5 deficits: mild
            patient(age=80, efi_deficits_coded=4, distinct_medicines_12m=4),  # 4: fit
            patient(age=70, efi_deficits_coded=13),  # severe
            patient(age=64, efi_deficits_coded=13),  # out of scope
        ),
        AS_OF,
    )
    assert list(df.efi_category[:3]) == ["mild", "fit", "severe"]
    assert df.efi_score[0] == pytest.approx(5 / 36)
    assert pd.isna(df.efi_category[3]) and np.isnan(df.efi_score[3])


def test_cha2ds2_vasc_by_hand() -> None:
    df = pipeline.enrich(
        frame(
            # F (1) + 76 (2) + hypertension (1) + stroke (2) + diabetes (1) = 7
            patient(
                reg_af=True,
                sex="F",
                age=76,
                reg_hypertension=True,
                reg_stroke_tia=True,
                reg_diabetes=True,
            ),
            # M, 66 (1) + heart failure (1) + CHD (1) = 3
            patient(reg_af=True, sex="M", age=66, reg_heart_failure=True, reg_chd=True),
            patient(reg_af=False, age=90),
        ),
        AS_OF,
    )
    assert df.cha2ds2_vasc[0] == 7 and df.cha2ds2_vasc[1] == 3
    assert pd.isna(df.cha2ds2_vasc[2])


def test_qrisk3_inputs_are_mapped_from_the_profile() -> None:
    df = pipeline.enrich(
        frame(
            patient(
                age=60,
                sex="M",
                ethnicity_16=9,
                imd_decile=5,
                smoking_status="current",
                smoking_amount="heavy",
                reg_hypertension=True,
                on_antihypertensive=True,
                reg_af=True,
                bmi=31.0,
                latest_total_cholesterol=6.0,
                latest_hdl_cholesterol=1.2,
                sbp=150.0,
                sbp_sd_5y=8.0,
                reg_diabetes=True,
                type1_diabetes_date=pd.NaT,
            ),
            patient(age=60, reg_chd=True),  # has CVD: not scored
            patient(age=24),  # too young
        ),
        AS_OF,
    )
    # decile 5 -> Townsend +0.55 (ADR 0031 mapping); Pakistani (16-group 9) -> ethrisk 3
    from pcn.risk.deprivation import townsend_from_imd_decile

    expected = qrisk3_score(
        sex="M",
        age=60,
        ethrisk=3,
        town=townsend_from_imd_decile(5),
        smoke_cat=4,
        b_AF=1,
        b_treatedhyp=1,
        b_type2=1,
        bmi=31.0,
        rati=5.0,
        sbp=150.0,
        sbps5=8.0,
    )
    assert df.qrisk3[0] == pytest.approx(expected, rel=1e-12)
    assert df.qrisk3_imputed[0] == ""
    assert np.isnan(df.qrisk3[1]) and np.isnan(df.qrisk3[2])


def test_qrisk3_smoking_category_from_status_and_amount() -> None:
    statuses = [("current", None, 2), ("current", "light", 2), ("ex", "heavy", 1),
                (None, None, 0), ("never", "heavy", 0)]
    df = pipeline.enrich(
        frame(*(patient(age=60, sex="M", smoking_status=s, smoking_amount=a, bmi=27.0,
                        latest_total_cholesterol=5.0, latest_hdl_cholesterol=1.0, sbp=130.0)
                for s, a, _ in statuses)),
        AS_OF,
    )
    from pcn.risk.deprivation import townsend_from_imd_decile

    expected = [
        qrisk3_score(sex="M", age=60, smoke_cat=cat, town=townsend_from_imd_decile(5),
                     bmi=27.0, rati=5.0, sbp=130.0, sbps5=0.0)
        for _, _, cat in statuses
    ]
    assert df.qrisk3.tolist() == pytest.approx(expected, rel=1e-12)
    assert df.qrisk3_imputed.tolist() == ["sbps5"] * len(statuses)
    assert df.qrisk3_imputed.dtype == object


def test_qrisk3_refuses_an_unknown_smoking_status() -> None:
    with pytest.raises(ValueError, match="smoke_cat"):
        pipeline.enrich(frame(patient(age=60, smoking_status="sometimes")), AS_OF)


def test_qrisk3_imputes_and_says_so() -> None:
    df = pipeline.enrich(frame(patient(age=55, sex="F")), AS_OF)
    assert df.qrisk3[0] > 0
    assert set(df.qrisk3_imputed[0].split(",")) >= {"bmi", "rati", "sbp"}


def test_flags_latest_code_wins() -> None:
    early, late = pd.Timestamp("2020-01-01"), pd.Timestamp("2024-01-01")
    df = pipeline.enrich(
        frame(
            patient(housebound_date=early, not_housebound_date=late),
            patient(housebound_date=late, not_housebound_date=early),
            patient(sex="F", pregnancy_date=pd.Timestamp("2026-01-01")),
            patient(
                sex="F",
                pregnancy_date=pd.Timestamp("2025-10-01"),
                delivery_date=pd.Timestamp("2026-02-01"),
            ),
            patient(on_nsaid=True, age=70, on_ppi=False),
        ),
        AS_OF,
    )
    assert list(df.housebound) == [False, True, False, False, False]
    assert list(df.pregnant) == [False, False, True, False, False]
    assert list(df.high_risk_prescribing) == [False, False, False, False, True]


@pytest.mark.parametrize(
    "values",
    [
        [dt.date(2024, 1, 2), None, dt.date(2020, 5, 6), dt.date(2024, 1, 2)],
        ["2024-01-02", None, "2020-05-06", "2024-01-02"],
        [pd.Timestamp("2024-01-02 10:00"), dt.date(2020, 5, 6), None],
        ["2024-01-02T10:00:00+00:00", "2024-03-02T10:00:00+00:00"],
        [None, None],
        [],
    ],
)
def test_dates_are_converted_as_pandas_converts_them(values: list[object]) -> None:
    column = pd.Series(values, dtype=object, name="x_date", index=range(10, 10 + len(values)))
    got = pipeline._to_datetime(column)
    expected = pd.to_datetime(column)
    assert got.dtype == expected.dtype
    pd.testing.assert_series_equal(got, expected)
