"""Indicator definitions: every shipped file loads and evaluates; spec tests with expected rows."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pcn.measures.expressions import ExpressionError, parse
from pcn.measures.indicators import (
    PATIENT_PROFILE_COLUMNS,
    DefinitionError,
    Indicator,
    compute_indicator,
    compute_series,
    indicators_dir,
    load_indicator,
    load_indicators,
)

AS_OF = date(2025, 3, 31)


def _profile() -> pd.DataFrame:
    """Six patients at two practices; every catalogue column present."""
    d = pd.Timestamp
    rows = [
        # id, practice, age, sex, hyp, sbp, dbp, sbp_date, efi, dm, hba1c, hba1c_date
        (1, "A", 60, "F", True, 135, 85, d("2025-01-10"), "fit", True, 55, d("2024-12-01")),
        (2, "A", 75, "M", True, 150, 80, d("2025-02-10"), "mild", False, None, pd.NaT),
        (3, "A", 82, "F", True, 145, 85, d("2024-11-01"), "severe", True, 70, d("2024-06-01")),
        (4, "B", 50, "M", True, 130, 80, d("2023-01-01"), None, True, 50, d("2025-03-01")),
        (5, "B", 40, "F", False, None, None, pd.NaT, None, False, None, pd.NaT),
        (6, "B", 70, "M", True, None, None, pd.NaT, "moderate", True, 80, d("2025-01-01")),
    ]
    cols = ["patient_id", "practice_code", "age", "sex", "reg_hypertension", "latest_sbp",
            "latest_dbp", "latest_sbp_date", "efi_category", "reg_diabetes", "latest_hba1c",
            "latest_hba1c_date"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["latest_sbp"] = frame["latest_sbp"].astype("float64")
    frame["latest_dbp"] = frame["latest_dbp"].astype("float64")
    frame["latest_hba1c"] = frame["latest_hba1c"].astype("float64")
    rng = np.random.default_rng(0)
    for col, desc in PATIENT_PROFILE_COLUMNS.items():
        if col in frame.columns:
            continue
        kind = desc.split(":")[0]
        if kind == "bool":
            frame[col] = rng.random(len(frame)) < 0.5
        elif kind in ("int", "float"):
            frame[col] = rng.integers(0, 15, len(frame)).astype(kind.replace("int", "int64")
                                                                   .replace("float", "float64"))
        elif kind == "date":
            frame[col] = pd.Timestamp("2024-06-01") + pd.to_timedelta(
                rng.integers(0, 400, len(frame)), "D")
        else:
            frame[col] = None
    frame["ethnicity_6"] = ["White", None, "Asian", "White", None, "Black"]
    frame["smoking_status"] = ["never", "current", None, "ex", "never", None]
    return frame


def _appointments() -> pd.DataFrame:
    rows = [
        (1, "A", "gp1", "gp", "2025-01-05", "attended"),
        (1, "A", "cp1", "clinical_pharmacist", "2025-01-20", "did_not_attend"),
        (2, "A", "gp1", "gp", "2025-02-03", "attended"),
        (3, "A", "pn1", "practice_nurse", "2025-02-17", "attended"),
        (4, "B", "cp1", "clinical_pharmacist", "2025-02-21", "attended"),
        (5, "B", "gp2", "gp", "2025-03-02", "did_not_attend"),
        (6, "B", "gp2", "gp", "2025-03-09", "cancelled"),
        (6, "B", "gp2", "gp", "2023-03-09", "attended"),  # outside a 12-month window
    ]
    frame = pd.DataFrame(
        rows, columns=["patient_id", "practice_code", "clinician_id", "role", "start_at", "status"]
    )
    frame["start_at"] = pd.to_datetime(frame["start_at"]) + pd.Timedelta(hours=9)
    frame["appointment_id"] = range(len(frame))
    frame["mode"] = "face_to_face"
    return frame


def _hospital() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": [3, 3, 6, 1, 99],
            "kind": ["emergency_admission", "ae_attendance", "emergency_admission",
                     "emergency_admission", "emergency_admission"],
            "start_date": pd.to_datetime(
                ["2025-01-15", "2025-01-15", "2024-12-01", "2025-02-01", "2025-01-01"]
            ),
            "end_date": pd.NaT,
            "icd10_code": ["J441", "R069", "I10", "S720", "J45"],
        }
    )


@cache
def _all() -> dict[str, Indicator]:
    return load_indicators()


def test_at_least_25_definitions_ship_and_all_load() -> None:
    indicators = _all()
    assert len(indicators) >= 25
    files = sorted(p.stem for p in indicators_dir().glob("*.yaml"))
    assert sorted(indicators) == files


@pytest.mark.parametrize("indicator_id", sorted(p.stem for p in indicators_dir().glob("*.yaml")))
def test_every_definition_evaluates_on_a_small_profile(indicator_id: str) -> None:
    indicator = _all()[indicator_id]
    result = compute_indicator(
        indicator, _profile(), as_of=AS_OF, appointments=_appointments(),
        hospital_activity=_hospital(), pcn_code="U00000",
    )
    table = result.by_practice.set_index("org_code")
    assert set(table.index) == {"A", "B", "U00000"}
    assert (table["numerator"] <= table["denominator"]).all() or indicator.kind == "rate"
    assert table.loc["U00000", "numerator"] == table.loc[["A", "B"], "numerator"].sum()
    assert indicator.source and indicator.review.checked_by


def test_hypertension_under_80_expected_rows() -> None:
    result = compute_indicator(_all()["hyp_bp_140_90_under_80"], _profile(), as_of=AS_OF,
                               pcn_code="U00000")
    got = result.by_practice.set_index("org_code")[["numerator", "denominator"]]
    # A: denominator p1, p2 (p3 is 82); numerator p1 (135/85 in Jan 2025). p2 is 150 systolic.
    # B: denominator p4, p6; p4's reading is from 2023 (too old), p6 has none.
    expected = pd.DataFrame(
        {"numerator": [1, 0, 1], "denominator": [2, 2, 4]}, index=["A", "B", "U00000"]
    )
    expected.index.name = "org_code"
    pd.testing.assert_frame_equal(got, expected)
    assert result.by_practice.set_index("org_code").loc["A", "value"] == pytest.approx(50.0)
    assert result.monthly is None  # patient-based: series come from compute_series


def test_diabetes_frailty_split_handles_missing_frailty() -> None:
    fit = compute_indicator(_all()["dm_hba1c_58_no_frailty"], _profile(), as_of=AS_OF)
    frail = compute_indicator(_all()["dm_hba1c_75_frailty"], _profile(), as_of=AS_OF)
    # diabetes: p1 (fit, 55), p3 (severe, 70 but June 2024 = within 12 months), p4 (no eFI, 50),
    # p6 (moderate, 80)
    f = fit.by_practice.set_index("org_code")
    assert (f.loc["A", "denominator"], f.loc["A", "numerator"]) == (1, 1)
    assert (f.loc["B", "denominator"], f.loc["B", "numerator"]) == (1, 1)  # p4: null eFI counts
    g = frail.by_practice.set_index("org_code")
    assert (g.loc["A", "denominator"], g.loc["A", "numerator"]) == (1, 1)
    assert (g.loc["B", "denominator"], g.loc["B", "numerator"]) == (1, 0)  # p6: 80 > 75


def test_dna_rate_window_and_monthly_series() -> None:
    result = compute_indicator(_all()["dna_rate"], _profile(), as_of=AS_OF,
                               appointments=_appointments(), pcn_code="U00000")
    t = result.by_practice.set_index("org_code")
    # A: attended 3 + DNA 1 -> 1/4; B: attended 1 (Feb) + DNA 1; the 2023 one is outside 12 months
    assert (t.loc["A", "numerator"], t.loc["A", "denominator"]) == (1, 4)
    assert (t.loc["B", "numerator"], t.loc["B", "denominator"]) == (1, 2)
    assert t.loc["U00000", "value"] == pytest.approx(2 / 6 * 100)
    assert result.monthly is not None
    m = result.monthly.set_index(["month", "org_code"])
    assert m.loc[(pd.Period("2025-01", "M"), "A"), "value"] == pytest.approx(50.0)
    assert m.loc[(pd.Period("2025-03", "M"), "B"), "numerator"] == 1
    assert m.loc[(pd.Period("2023-03", "M"), "B"), "denominator"] == 1  # history kept in series
    # months without appointments are present as zeros (no gaps in SPC charts)
    quiet = m.loc[(pd.Period("2024-06", "M"), "B")]
    assert quiet["denominator"] == 0 and pd.isna(quiet["value"])
    assert m.index.get_level_values("month").max() == pd.Period("2025-03", "M")


def test_acsc_admissions_use_codelist_and_patient_practice() -> None:
    result = compute_indicator(
        _all()["acsc_emergency_admissions_per_1000"], _profile(), as_of=AS_OF,
        hospital_activity=_hospital(), pcn_code="U00000",
    )
    t = result.by_practice.set_index("org_code")
    # J441 (COPD) at A via p3; I10 (hypertension) at B via p6; S720 (fracture) not ACSC;
    # patient 99 is not registered, so not attributed.
    assert t.loc["A", "numerator"] == 1 and t.loc["B", "numerator"] == 1
    assert t.loc["A", "value"] == pytest.approx(1 / 3 * 1000)


def test_rate_series_has_every_month_and_list_size_denominator() -> None:
    result = compute_indicator(_all()["emergency_admissions_per_1000"], _profile(), as_of=AS_OF,
                               hospital_activity=_hospital(), pcn_code="U00000")
    assert result.monthly is not None
    m = result.monthly.set_index(["month", "org_code"])
    months = sorted(set(m.index.get_level_values("month")))
    # first emergency admission Dec 2024 (p6), up to as_of (Mar 2025): 4 months, no gaps
    assert months == list(pd.period_range("2024-12", "2025-03", freq="M"))
    assert m.loc[(pd.Period("2025-03", "M"), "A"), "numerator"] == 0
    assert m.loc[(pd.Period("2025-02", "M"), "A"), "numerator"] == 1  # p1, 1 Feb
    assert (m.xs("A", level="org_code")["denominator"] == 3).all()


def test_joined_profile_columns_in_event_filter() -> None:
    result = compute_indicator(
        _all()["emergency_admissions_65_and_over_per_1000"], _profile(), as_of=AS_OF,
        hospital_activity=_hospital(),
    )
    t = result.by_practice.set_index("org_code")
    # 65+: A p2 (75), p3 (82); B p6 (70). Admissions: p3 (A), p6 (B); p1 is 60.
    assert (t.loc["A", "numerator"], t.loc["A", "denominator"]) == (1, 2)
    assert (t.loc["B", "numerator"], t.loc["B", "denominator"]) == (1, 1)


def test_arrs_share() -> None:
    result = compute_indicator(_all()["arrs_share_of_appointments"], _profile(), as_of=AS_OF,
                               appointments=_appointments())
    t = result.by_practice.set_index("org_code")
    assert (t.loc["A", "numerator"], t.loc["A", "denominator"]) == (0, 3)
    assert (t.loc["B", "numerator"], t.loc["B", "denominator"]) == (1, 1)


def test_compute_series_from_monthly_profiles() -> None:
    profile = _profile()
    later = profile.assign(latest_sbp=profile["latest_sbp"] - 20)
    series = compute_series(
        _all()["hyp_bp_140_90_under_80"],
        {date(2025, 2, 28): profile, date(2025, 3, 31): later},
    )
    a = series[series["org_code"] == "A"].set_index("month")
    assert a["numerator"].tolist() == [1, 2]  # p2's 150 becomes 130


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(text)
    return path


def _valid_yaml(**overrides: str) -> str:
    src = (indicators_dir() / "dm_foot_check.yaml").read_text()
    for old, new in overrides.items():
        src = src.replace(old, new)
    return src


def test_unknown_column_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "dm_foot_check",
                  _valid_yaml(**{"where: reg_diabetes": "where: reg_diabetic"}))
    with pytest.raises(DefinitionError, match="unknown column 'reg_diabetic'"):
        load_indicator(path)


def test_extra_field_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "dm_foot_check", _valid_yaml() + "colour: red\n")
    with pytest.raises(DefinitionError, match="colour: Extra inputs are not permitted"):
        load_indicator(path)


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "other_name", _valid_yaml())
    with pytest.raises(DefinitionError, match="differs from the file name"):
        load_indicator(path)


def test_unknown_codelist_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "dm_foot_check", _valid_yaml(
        **{"where: reg_diabetes": "where: reg_diabetes and in_codelist(sex, 'no-such-list')"}))
    with pytest.raises(DefinitionError, match="unknown codelist 'no-such-list'"):
        load_indicator(path)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("__import__('os')", "unknown function"),
        ("age.real > 3", "Attribute is not allowed"),
        ("age + 3 > 5", "BinOp is not allowed"),
        ("age in other_column", "needs a list of constants"),
        ("within_months(latest_sbp_date, 'x')", "whole number of months"),
        ("age >", "cannot parse"),
    ],
)
def test_expression_language_refuses_anything_else(text: str, needle: str) -> None:
    with pytest.raises(ExpressionError, match=needle):
        parse(text)


def test_missing_profile_column_at_run_time_is_named() -> None:
    profile = _profile().drop(columns="latest_foot_check_date")
    with pytest.raises(ExpressionError, match="latest_foot_check_date"):
        compute_indicator(_all()["dm_foot_check"], profile, as_of=AS_OF)


def test_protected_result_hides_small_numbers_and_recomputes_pcn() -> None:
    from pcn.measures.indicators import protect_result

    profile = _profile()
    practice_c = profile[profile["practice_code"] == "A"].assign(practice_code="C")
    big = pd.concat([profile] * 5 + [practice_c] * 10, ignore_index=True)
    big["patient_id"] = range(len(big))
    result = compute_indicator(_all()["hyp_bp_140_90_under_80"], big, as_of=AS_OF,
                               pcn_code="U00000")
    out = protect_result(result).set_index("org_code")
    # A: 5 of 10 -> numerator 5 hidden (1-7); B: 0 of 10 shown; C: 10 of 20. A's numerator alone
    # hidden could be recovered from the PCN total, so the smallest positive other (C) is hidden.
    assert pd.isna(out.loc["A", "numerator"]) and pd.isna(out.loc["A", "value"])
    assert pd.isna(out.loc["C", "numerator"]) and out.loc["C", "denominator"] == 20
    assert (out.loc["B", "numerator"], out.loc["B", "denominator"]) == (0, 10)
    # PCN row rebuilt from shown parts only (B), and flagged incomplete
    assert (out.loc["U00000", "numerator"], out.loc["U00000", "denominator"]) == (0, 10)
    assert out.loc["U00000", "incomplete"]


def test_funnel_and_spc_from_an_indicator_result() -> None:
    from pcn.measures.indicators import funnel_for, spc_for

    result = compute_indicator(_all()["dna_rate"], _profile(), as_of=AS_OF,
                               appointments=_appointments(), pcn_code="U00000")
    points, curve = funnel_for(result)
    p = points.set_index("org_code")
    # per cent, target = PCN value 2/6
    assert p.loc["A", "value"] == pytest.approx(25.0)
    assert p.loc["A", "target"] == pytest.approx(100 * 2 / 6)
    assert (curve["upper_95"] <= 100).all() and (curve["upper_95"] > 100 * 2 / 6).all()
    chart = spc_for(result, "U00000")
    months = [str(m) for m in chart.points["period"]]
    assert months[0] == "2023-03" and months[-1] == "2025-03"
    # Mar 2025: only p5 DNA (B); the cancelled one is not in the denominator -> 1 of 1
    assert chart.points["value"].iloc[-1] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="overlap"):
        spc_for(compute_indicator(_all()["dm_foot_check"], _profile(), as_of=AS_OF), "A")


@pytest.mark.parametrize("indicator_id", ["dna_rate", "ae_attendances_per_1000",
                                          "acsc_emergency_admissions_per_1000"])
def test_no_events_gives_zeros_not_errors(indicator_id: str) -> None:
    result = compute_indicator(_all()[indicator_id], _profile(), as_of=AS_OF,
                               appointments=_appointments().iloc[:0],
                               hospital_activity=_hospital().iloc[:0])
    assert (result.by_practice["numerator"] == 0).all()
    assert result.monthly is not None and result.monthly["numerator"].sum() == 0


def test_cholesterol_target_uses_non_hdl_only_without_ldl() -> None:
    profile = _profile().assign(
        reg_chd=[True, True, True, False, False, False], reg_stroke_tia=False, reg_pad=False,
        latest_cholesterol_date=pd.Timestamp("2025-01-01"),
        # p1: LDL 1.9 -> met; p2: LDL 2.3 but non-HDL 2.0 -> not met (LDL decides);
        # p3: no LDL, non-HDL 2.5 -> met
        latest_ldl_cholesterol=[1.9, 2.3, None, 1.0, 1.0, 1.0],
        latest_non_hdl_cholesterol=[3.0, 2.0, 2.5, 1.0, 1.0, 1.0],
    )
    result = compute_indicator(_all()["cvd_cholesterol_target"], profile, as_of=AS_OF)
    a = result.by_practice.set_index("org_code").loc["A"]
    assert (a["numerator"], a["denominator"]) == (2, 3)
