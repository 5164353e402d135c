"""QRISK3-2017: checked against a term-by-term oracle, published reference scores and properties."""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcn.risk import qrisk3 as q
from tests.spec import qrisk3_oracle as oracle

FLAGS = ("b_AF", "b_atypicalantipsy", "b_corticosteroids", "b_impotence2", "b_migraine", "b_ra",
         "b_renal", "b_semi", "b_sle", "b_treatedhyp", "b_type1", "b_type2", "fh_cvd")


def profile(sex: str, age: int, *, flags: tuple[str, ...] = (), **values: float) -> dict:
    base = dict(id=f"{sex}{age}", sex=sex, age=age, ethrisk=1, town=0.0, smoke_cat=0, bmi=26.0,
                rati=4.0, sbp=130.0, sbps5=8.0)
    base.update({f: 0 for f in FLAGS})
    base.update({f: 1 for f in flags})
    base.update(values)
    return base


# 26 hand-picked profiles: both sexes, every flag on its own and in combination, every ethnic
# group and smoking category, the age limits, and extreme-but-valid measurements.
PROFILES = [
    profile("F", 25),
    profile("M", 84),
    profile("F", 64, flags=("b_AF",), ethrisk=2, rati=4, sbp=180, sbps5=20, bmi=25.25),
    profile("M", 64, flags=("b_AF",), ethrisk=2, rati=4, sbp=180, sbps5=20, bmi=25.25),
    profile("F", 45, flags=("b_atypicalantipsy", "b_semi"), ethrisk=3, smoke_cat=4),
    profile("M", 45, flags=("b_atypicalantipsy", "b_semi"), ethrisk=3, smoke_cat=4),
    profile("F", 58, flags=("b_corticosteroids", "b_ra"), ethrisk=4, smoke_cat=1, town=5.2),
    profile("M", 58, flags=("b_corticosteroids", "b_ra", "b_impotence2"), ethrisk=4, town=5.2),
    profile("F", 33, flags=("b_migraine",), ethrisk=5, smoke_cat=2, bmi=19.0),
    profile("M", 33, flags=("b_migraine",), ethrisk=5, smoke_cat=2, bmi=19.0),
    profile("F", 71, flags=("b_renal", "b_treatedhyp"), ethrisk=6, sbp=160, sbps5=15),
    profile("M", 71, flags=("b_renal", "b_treatedhyp"), ethrisk=6, sbp=160, sbps5=15),
    profile("F", 39, flags=("b_sle",), ethrisk=7, town=-4.5, rati=2.5),
    profile("M", 39, flags=("b_sle",), ethrisk=7, town=-4.5, rati=2.5),
    profile("F", 52, flags=("b_type1",), ethrisk=8, smoke_cat=3, bmi=31.5),
    profile("M", 52, flags=("b_type1",), ethrisk=8, smoke_cat=3, bmi=31.5),
    profile("F", 67, flags=("b_type2", "fh_cvd"), ethrisk=9, bmi=38.0, rati=6.1),
    profile("M", 67, flags=("b_type2", "fh_cvd"), ethrisk=9, bmi=38.0, rati=6.1),
    profile("F", 80, flags=FLAGS, smoke_cat=4, town=9.0, bmi=45.0, rati=9.0, sbp=200, sbps5=30),
    profile("M", 80, flags=FLAGS, smoke_cat=4, town=9.0, bmi=45.0, rati=9.0, sbp=200, sbps5=30),
    profile("F", 29, ethrisk=2, bmi=15.0, rati=1.2, sbp=95, sbps5=0.0, town=-7.0),
    profile("M", 29, ethrisk=2, bmi=15.0, rati=1.2, sbp=95, sbps5=0.0, town=-7.0),
    profile("F", 48, flags=("b_impotence2",), smoke_cat=1),  # impotence ignored for women
    profile("M", 48, flags=("b_impotence2",), smoke_cat=1),
    profile("F", 61, flags=("b_AF", "b_sle", "b_type2"), ethrisk=6, smoke_cat=3, sbp=145.5),
    profile("M", 76, flags=("b_treatedhyp", "b_type1", "b_renal"), ethrisk=3, sbp=118.3),
]


def test_profiles_cover_both_sexes_every_flag_ethnicity_and_smoking_category() -> None:
    frame = pd.DataFrame(PROFILES)
    assert set(frame.sex) == {"F", "M"}
    for sex in ("F", "M"):
        on = frame[frame.sex == sex]
        assert all(on[f].sum() >= 2 for f in FLAGS)
    assert set(frame.ethrisk) == set(range(1, 10))
    assert set(frame.smoke_cat) == set(range(5))
    assert len(PROFILES) >= 20


@pytest.mark.parametrize("p", PROFILES, ids=[f"{p['sex']}{p['age']}-{i}"
                                             for i, p in enumerate(PROFILES)])
def test_qrisk3_profile_matches_oracle_to_1e_6(p: dict) -> None:
    expected = oracle.score(p)
    vector = q.qrisk3_scores(pd.DataFrame([p]))[0]
    scalar = q.qrisk3_score(**{k: v for k, v in p.items() if k != "id"})
    assert vector == pytest.approx(expected, abs=1e-6)
    assert scalar == pytest.approx(expected, abs=1e-6)


def test_qrisk3_whole_population_matches_oracle_row_by_row() -> None:
    rng = random.Random(20170523)
    rows = []
    for i in range(400):
        p = profile(rng.choice("FM"), rng.randint(25, 84), ethrisk=rng.randint(1, 9),
                    smoke_cat=rng.randint(0, 4), town=rng.uniform(-7, 11),
                    bmi=rng.uniform(16, 45), rati=rng.uniform(1, 11), sbp=rng.uniform(80, 200),
                    sbps5=rng.uniform(0, 30))
        p.update({f: rng.randint(0, 1) for f in FLAGS})
        p["id"] = str(i)
        rows.append(p)
    got = q.qrisk3_scores(pd.DataFrame(rows))
    expected = np.array([oracle.score(p) for p in rows])
    assert np.max(np.abs(got - expected)) < 1e-6


def test_qrisk3_at_the_centring_values_is_the_baseline_risk() -> None:
    # With every term centred to 0, a = 0 and risk = 100 * (1 - S0): worked by hand from the
    # published baseline survivals 0.988876402378082 (women) and 0.977268040180206 (men).
    # Age and BMI that zero the centred terms: age = 10 / sqrt(0.053274843841791) for women,
    # 10 / 0.234766781330109 for men; BMI = 10 / sqrt(centre of bmi_1).
    women = profile("F", 0, ethrisk=1, smoke_cat=0, town=0.392308831214905)
    women.update(age=10 / math.sqrt(0.053274843841791), bmi=10 / math.sqrt(0.154946178197861),
                    rati=3.476326465606690, sbp=123.130012512207030, sbps5=9.002537727355957)
    men = profile("M", 0, ethrisk=1, smoke_cat=0, town=0.526304900646210)
    men.update(age=10 / 0.234766781330109, bmi=10 / math.sqrt(0.149176135659218),
                  rati=4.300998687744141, sbp=128.571578979492190, sbps5=8.756621360778809)
    got = q.qrisk3_scores(pd.DataFrame([women, men]))
    assert got[0] == pytest.approx(1.1123597621918, abs=1e-4)
    assert got[1] == pytest.approx(2.2731959819794, abs=1e-4)


# Published reference scores: the QRISK_C_algorithm_score column of the QRISK3 R package's test
# data (Li Y, et al. F1000Research 2019; https://doi.org/10.5281/zenodo.3571304), produced by
# ClinRisk's original C code and reported to one decimal. Profiles: age 64, Indian (ethrisk 2),
# non-smoker, cholesterol ratio 4, SBP 180, SBP SD 20, Townsend 0, BMI = weight / height^2.
PUBLISHED = [
    ("F", 80, 178, {}, 17.2),
    ("F", 80, 178, {"b_AF": 1}, 36.0),
    ("F", 80, 178, {"b_corticosteroids": 1}, 24.1),
    ("F", 80, 170, {}, 17.3),
    ("M", 80, 178, {}, 27.1),
    ("M", 80, 178, {"b_type2": 1}, 41.5),
    ("M", 75, 178, {}, 27.2),
]


@pytest.mark.parametrize(("sex", "weight", "height", "extra", "expected"), PUBLISHED)
def test_qrisk3_reproduces_published_clinrisk_scores(sex: str, weight: float, height: float,
                                                     extra: dict, expected: float) -> None:
    got = q.qrisk3_score(sex=sex, age=64, ethrisk=2, smoke_cat=0, rati=4, sbp=180, sbps5=20,
                         town=0, bmi=weight / (height / 100) ** 2, **extra)
    assert round(got, 1) == expected


def test_qrisk3_female_ignores_erectile_dysfunction() -> None:
    a = q.qrisk3_score(sex="F", age=50, bmi=25, rati=4, sbp=130, sbps5=8)
    b = q.qrisk3_score(sex="F", age=50, bmi=25, rati=4, sbp=130, sbps5=8, b_impotence2=1)
    assert a == b


def test_qrisk3_scalar_rejects_invalid_input_naming_the_field() -> None:
    with pytest.raises(ValueError, match="age"):
        q.qrisk3_score(sex="F", age=85, bmi=25, rati=4, sbp=130, sbps5=8)
    with pytest.raises(ValueError, match="sex"):
        q.qrisk3_score(sex="X", age=50, bmi=25, rati=4, sbp=130, sbps5=8)


# --- properties ------------------------------------------------------------------------------

measures = dict(
    sex=st.sampled_from("FM"), age=st.integers(25, 84), ethrisk=st.integers(1, 9),
    smoke_cat=st.integers(0, 4), town=st.floats(-7, 11), bmi=st.floats(15, 50),
    rati=st.floats(1, 12), sbp=st.floats(70, 210), sbps5=st.floats(0, 40),
)


@settings(max_examples=200, deadline=None)
@given(flags=st.lists(st.sampled_from(FLAGS), unique=True), **measures)
def test_qrisk3_is_a_percentage_and_rises_with_sbp(flags: list[str], **p: float) -> None:
    row = profile(str(p.pop("sex")), int(p.pop("age")), flags=tuple(flags), **p)
    higher = dict(row, sbp=row["sbp"] + 5)
    low, high = q.qrisk3_scores(pd.DataFrame([row, higher]))
    assert 0 <= low <= 100 and 0 <= high <= 100
    assert high >= low


# Flags without an age interaction. With AF, SLE, CKD, treated hypertension or diabetes the
# published age interactions make the relative effect fade with age, so QRISK3 can fall with age.
NO_AGE_INTERACTION = ("b_atypicalantipsy", "b_ra", "b_semi")


@settings(max_examples=200, deadline=None)
@given(flags=st.lists(st.sampled_from(NO_AGE_INTERACTION), unique=True),
       **{k: v for k, v in measures.items() if k != "age"}, age=st.integers(25, 83))
def test_qrisk3_rises_with_age_without_age_interacting_conditions(flags: list[str],
                                                                   **p: float) -> None:
    row = profile(str(p.pop("sex")), int(p.pop("age")), flags=tuple(flags), **p)
    older = dict(row, age=row["age"] + 1)
    young, old = q.qrisk3_scores(pd.DataFrame([row, older]))
    assert old >= young


# --- validation and missing values -----------------------------------------------------------


def test_validate_names_row_column_and_reason() -> None:
    good = {k: str(v) for k, v in profile("F", 50).items()}
    rows = [good, dict(good, id="b", age="85"), dict(good, id="c", smoke_cat="5", b_AF="2"),
            dict(good, id="d", bmi=""), dict(good, id="e", sex="f", sbp="abc")]
    problems = q.validate_qrisk3_frame(pd.DataFrame(rows))
    got = [(p.row, p.column, p.row_id) for p in problems]
    assert got == [(2, "age", "b"), (3, "smoke_cat", "c"), (3, "b_AF", "c"), (4, "bmi", "d"),
                   (5, "sex", "e"), (5, "sbp", "e")]
    assert "25 to 84" in problems[0].why
    assert problems[0].message() == ("row 2 (id b), column age: must be a whole number of years "
                                     "from 25 to 84 (got '85')")


def test_validate_accepts_whole_numbers_written_as_decimals() -> None:
    good = {k: str(v) for k, v in profile("M", 50).items()}
    assert q.validate_qrisk3_frame(pd.DataFrame([dict(good, age="50.0", b_AF="1.0")])) == []
    bad = q.validate_qrisk3_frame(pd.DataFrame([dict(good, age="50.5")]))
    assert [(p.row, p.column) for p in bad] == [(1, "age")]


def test_fill_missing_inputs_uses_published_centring_values() -> None:
    rows = pd.DataFrame([profile("F", 50), profile("M", 50), profile("M", 60)])
    rows.loc[0, ["bmi", "rati"]] = np.nan
    rows.loc[1, ["sbp", "sbps5", "town"]] = np.nan
    filled, which = q.fill_missing_inputs(rows)
    # 10 / sqrt(0.154946178197861) = 25.4044...: the BMI whose centred bmi_1 term is 0.
    assert filled.loc[0, "bmi"] == pytest.approx(25.4044, abs=1e-4)
    assert filled.loc[0, "rati"] == 3.476326465606690
    assert filled.loc[1, "sbp"] == 128.571578979492190
    assert filled.loc[1, "sbps5"] == 0.0
    assert filled.loc[1, "town"] == 0.0
    assert list(which) == ["bmi,rati", "sbp,sbps5,town", ""]
    assert filled.loc[2].equals(rows.loc[2])
    assert not filled.isna().any().any()


def test_disclaimer_carries_clinrisk_terms() -> None:
    assert q.QRISK3_DISCLAIMER.startswith("The initial version of this file")
    assert "ClinRisk" in q.QRISK3_DISCLAIMER
    assert "https://qrisk.org" in q.QRISK3_DISCLAIMER
    assert "wrong treatment" in q.QRISK3_DISCLAIMER


def test_ethrisk_from_16_group_ethnicity() -> None:
    # QRISK3's categories: 1 White/not stated, 2 Indian, 3 Pakistani, 4 Bangladeshi,
    # 5 Other Asian, 6 Black Caribbean, 7 Black African, 8 Chinese, 9 Other.
    expected = {1: 1, 2: 1, 3: 1, 4: 9, 5: 9, 6: 9, 7: 9, 8: 2, 9: 3, 10: 4, 11: 5, 12: 6,
                13: 7, 14: 9, 15: 8, 16: 9}
    assert {g: q.ethrisk_from_ethnicity_16(g) for g in range(1, 17)} == expected
    assert q.ethrisk_from_ethnicity_16(None) == 1
    with pytest.raises(ValueError, match="1-16"):
        q.ethrisk_from_ethnicity_16(17)


def test_sbp_variability_uses_readings_in_the_5_years_before_the_index_date() -> None:
    readings = pd.DataFrame({
        "patient_id": [1, 1, 1, 1, 2, 2, 3],
        "date": ["2021-03-31", "2021-06-01", "2024-06-01", "2026-04-01",  # 1st too old, 4th late
                 "2025-01-01", "2025-02-01", "2025-01-01"],
        "value": [300, 120, 140, 999, 150, 150, 130],
    })
    got = q.sbp_variability(readings, index_date="2026-03-31")
    # patient 1: readings 120 and 140 -> mean 130, sample SD sqrt((100 + 100) / 1) = 14.1421
    # patient 2: equal readings -> 0; patient 3: one reading -> no value
    assert got.to_dict() == {1: pytest.approx(14.142136, abs=1e-6), 2: 0.0}


# Two cases entered in the qrisk.org web calculator, as reported with their results by an
# independent implementation's test suite (BMI 65 kg / 1.89 m = 18.2 is held to 20, a blank SBP
# standard deviation counts as 0, no postcode so Townsend 0):
#   man 67, White, non-smoker, BMI 18.2, ratio 1.9, SBP 140, AF -> 18.1 %
#   woman 56, White, light smoker, 84 kg / 1.66 m, ratio 1.9, SBP 140, AF, treated BP -> 17.8 %
def test_calculator_limits_and_defaults_reproduce_reported_qrisk_org_results() -> None:
    rows = pd.DataFrame([
        profile("M", 67, flags=("b_AF",), bmi=65 / 1.89 ** 2, rati=1.9, sbp=140),
        profile("F", 56, flags=("b_AF", "b_treatedhyp"), smoke_cat=2, bmi=84 / 1.66 ** 2,
                rati=1.9, sbp=140),
    ])
    rows["sbps5"] = np.nan
    filled, _ = q.fill_missing_inputs(rows)
    limited, changed = q.apply_calculator_limits(filled)
    assert list(changed) == ["bmi", ""]
    assert limited.loc[0, "bmi"] == 20.0
    assert [round(s, 1) for s in q.qrisk3_scores(limited)] == [18.1, 17.8]


def test_calculator_limits_hold_ratio_to_1_to_11() -> None:
    rows = pd.DataFrame([profile("M", 50, rati=15.0), profile("F", 50, rati=0.6, bmi=45.0)])
    limited, changed = q.apply_calculator_limits(rows)
    assert list(limited.rati) == [11.0, 1.0]
    assert list(limited.bmi) == [26.0, 40.0]
    assert list(changed) == ["rati", "bmi,rati"]


def test_vectorised_scores_refuse_codes_outside_the_coefficient_tables() -> None:
    for column, value in (("ethrisk", 0), ("ethrisk", 10), ("smoke_cat", 5), ("smoke_cat", -1)):
        with pytest.raises(ValueError, match=column):
            q.qrisk3_scores(pd.DataFrame([profile("F", 50, **{column: value})]))
    with pytest.raises(ValueError, match="sex"):
        q.qrisk3_scores(pd.DataFrame([profile("X", 50)]))


def test_vectorised_scores_give_nan_for_a_missing_measure() -> None:
    got = q.qrisk3_scores(pd.DataFrame([profile("M", 50, sbp=np.nan), profile("M", 50)]))
    assert np.isnan(got[0]) and not np.isnan(got[1])


def test_ethrisk_series_matches_the_scalar_mapping() -> None:
    import numpy as np
    import pandas as pd
    import pytest

    from pcn.risk.qrisk3 import ethrisk_from_ethnicity_16, ethrisk_series

    groups = pd.Series([*range(1, 17), None, np.nan], dtype="float64")
    assert ethrisk_series(groups).tolist() == [ethrisk_from_ethnicity_16(g) for g in groups]
    with pytest.raises(ValueError, match="1-16"):
        ethrisk_series(pd.Series([3.0, 17.0]))
