"""Continuity of care and care closer to home on a tiny hand-worked set of appointments."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcn.measures.continuity import (
    ContinuityInputError,
    care_closer_to_home,
    clinician_continuity,
    patient_continuity,
    practice_continuity,
)


def _appointments() -> pd.DataFrame:
    rows = [
        # patient, practice, clinician, role, day (Jan 2024 unless > 31 -> Feb), status
        (1, "X", "gp1", "gp", 2, "attended"),
        (1, "X", "gp1", "gp", 9, "attended"),
        (1, "X", "gp2", "gp", 16, "attended"),
        (2, "X", "gp1", "gp", 3, "attended"),
        (2, "X", "nurse1", "practice_nurse", 10, "attended"),
        (2, "X", "gp3", "gp", 17, "attended"),
        (2, "X", "gp4", "gp", 24, "attended"),
        (3, "X", "gp1", "gp", 4, "attended"),
        (3, "X", "gp1", "gp", 11, "attended"),
        (3, "X", "gp1", "gp", 18, "did_not_attend"),
        (4, "Y", "gp1", "gp", 5, "attended"),
        (4, "Y", "pharm1", "clinical_pharmacist", 12, "attended"),
        (4, "Y", "gp1", "gp", 19, "attended"),
        (4, "Y", "pharm1", "clinical_pharmacist", 26, "attended"),
        (4, "Y", "gp1", "gp", 33, "attended"),
        (4, "Y", "gp1", "gp", 40, "cancelled"),
        (4, "Y", "gp1", "gp", 41, "attended"),
    ]
    frame = pd.DataFrame(
        rows, columns=["patient_id", "practice_code", "clinician_id", "role", "day", "status"]
    )
    frame["start_at"] = pd.Timestamp("2023-12-31 09:00") + pd.to_timedelta(frame["day"], "D")
    frame["appointment_id"] = np.arange(len(frame))
    frame["mode"] = "face_to_face"
    return frame.drop(columns="day").sample(frac=1.0, random_state=3)  # order must not matter


def test_patient_indices_hand_worked() -> None:
    out = patient_continuity(_appointments()).set_index("patient_id")
    assert sorted(out.index) == [1, 2, 4]  # patient 3 has only 2 attended contacts
    # patient 1: gp1, gp1, gp2
    p1 = out.loc[1]
    assert p1["upc"] == pytest.approx(2 / 3)
    assert p1["coc"] == pytest.approx((2**2 + 1**2 - 3) / (3 * 2))  # 1/3
    assert p1["known_provider"] == pytest.approx(1 / 2)
    assert p1["usual_gp_share"] == pytest.approx(2 / 3) and p1["usual_gp_id"] == "gp1"
    # patient 2: four different clinicians; ties go to the most recent (gp4)
    p2 = out.loc[2]
    assert (p2["upc"], p2["coc"], p2["known_provider"]) == (0.25, 0.0, 0.0)
    assert p2["usual_clinician_id"] == "gp4"
    assert p2["gp_contacts"] == 3 and p2["usual_gp_share"] == pytest.approx(1 / 3)
    # patient 4: gp1, pharm1, gp1, pharm1, gp1, gp1 (cancelled one ignored)
    p4 = out.loc[4]
    assert p4["contacts"] == 6 and p4["practice_code"] == "Y"
    assert p4["upc"] == pytest.approx(4 / 6)
    assert p4["coc"] == pytest.approx((16 + 4 - 6) / (6 * 5))
    assert p4["known_provider"] == pytest.approx(4 / 5)
    assert p4["usual_gp_share"] == pytest.approx(1.0)


def test_usual_gp_share_needs_enough_gp_contacts() -> None:
    out = patient_continuity(_appointments(), min_contacts=4).set_index("patient_id")
    assert list(out.index) == [2, 4]
    assert np.isnan(out.loc[2, "usual_gp_share"])  # 3 GP contacts < 4
    assert out.loc[4, "usual_gp_share"] == 1.0


def test_window_limits_contacts() -> None:
    # up to 17 Jan: p1 (2, 9, 16 Jan) and p2 (3, 10, 17 Jan) have 3; p4 (5, 12 Jan) only 2
    out = patient_continuity(_appointments(), start="2024-01-01", end="2024-01-18")
    assert out["patient_id"].tolist() == [1, 2]


def test_practice_and_pcn_means() -> None:
    patients = patient_continuity(_appointments())
    practices = practice_continuity(patients).set_index("practice_code")
    assert practices.loc["X", "patients"] == 2
    assert practices.loc["X", "mean_upc"] == pytest.approx((2 / 3 + 1 / 4) / 2)
    assert practices.loc["ALL", "mean_coc"] == pytest.approx((1 / 3 + 0 + 14 / 30) / 3)


def test_clinician_shares() -> None:
    appts = _appointments()
    clinicians = clinician_continuity(appts, patient_continuity(appts)).set_index("clinician_id")
    gp1 = clinicians.loc["gp1"]
    assert (gp1["contacts"], gp1["patients"]) == (9, 4)
    # usual provider for p1 (2 contacts) and p4 (4); p3 not eligible; p2's usual is gp4
    assert gp1["share_usual"] == pytest.approx(6 / 9)
    pharm = clinicians.loc["pharm1"]
    assert pharm["share_known"] == pytest.approx(1 / 2)
    assert pharm["share_usual"] == 0.0


def test_missing_column_is_named() -> None:
    with pytest.raises(ContinuityInputError, match="clinician_id"):
        patient_continuity(_appointments().drop(columns="clinician_id"))


def test_care_closer_to_home_by_month() -> None:
    registrations = pd.DataFrame(
        {
            "patient_id": [1, 2, 3, 4],
            "practice_code": ["X", "X", "X", "Y"],
            "start_date": pd.to_datetime(["2020-01-01"] * 4),
            "end_date": pd.to_datetime([None, None, None, None]),
        }
    )
    hospital = pd.DataFrame(
        {
            "patient_id": [1, 4, 9],
            "kind": ["ae_attendance", "emergency_admission", "outpatient"],
            "start_date": pd.to_datetime(["2024-01-10", "2024-02-05", "2024-01-20"]),
            "end_date": pd.NaT,
            "icd10_code": None,
        }
    )
    by_month, per_patient = care_closer_to_home(_appointments(), hospital, registrations)
    row = by_month.set_index(["month", "practice_code"])
    jan, feb = pd.Period("2024-01", "M"), pd.Period("2024-02", "M")
    # January, practice X: attended = p1 x3, p2 x4, p3 x2 = 9; hospital = p1's A&E = 1
    assert row.loc[(jan, "X"), "primary_contacts"] == 9
    assert row.loc[(jan, "X"), "hospital_contacts"] == 1
    assert row.loc[(jan, "X"), "registered"] == 3
    assert row.loc[(jan, "X"), "primary_per_1000"] == pytest.approx(9 / 3 * 1000)
    assert row.loc[(jan, "X"), "share_primary"] == pytest.approx(9 / 10)
    # February, Y: p4 attended on Feb 2 and Feb 10 = 2; emergency admission 1
    assert row.loc[(feb, "Y"), "primary_contacts"] == 2
    assert row.loc[(feb, "Y"), "hospital_per_1000"] == pytest.approx(1000.0)
    # network row: January primary = X 9 + Y 4 (p4: Jan 5, 12, 19, 26)
    assert row.loc[(jan, "ALL"), "primary_contacts"] == 13
    pp = per_patient.set_index("patient_id")
    assert pp.loc[9, "hospital_contacts"] == 1 and pp.loc[9, "primary_contacts"] == 0
    assert pp.loc[1, "share_primary"] == pytest.approx(3 / 4)


# --- oracle: a plain-Python recomputation on random appointment books -----------------------

appointment_rows = st.lists(
    st.tuples(
        st.integers(1, 4),  # patient
        st.sampled_from(["c1", "c2", "c3", "n1"]),  # clinician (n1 is a nurse)
        st.sampled_from(["attended", "attended", "did_not_attend"]),
    ),
    min_size=1,
    max_size=40,
)


def _oracle(rows: list[tuple[int, str, str]]) -> dict[int, dict[str, float]]:
    by_patient: dict[int, list[str]] = {}
    for patient, clinician, status in rows:  # rows are in time order
        if status == "attended":
            by_patient.setdefault(patient, []).append(clinician)
    out = {}
    for patient, seen in by_patient.items():
        n = len(seen)
        if n < 3:
            continue
        counts = Counter(seen)
        known = sum(1 for i, c in enumerate(seen) if c in seen[:i])
        gps = [c for c in seen if c != "n1"]
        out[patient] = {
            "upc": max(counts.values()) / n,
            "coc": (sum(v * v for v in counts.values()) - n) / (n * (n - 1)),
            "known_provider": known / (n - 1),
            "usual_gp_share": (max(Counter(gps).values()) / len(gps) if len(gps) >= 3
                               else float("nan")),
        }
    return out


@settings(max_examples=30, deadline=None)
@given(appointment_rows)
def test_indices_match_plain_python_oracle(rows: list[tuple[int, str, str]]) -> None:
    frame = pd.DataFrame(rows, columns=["patient_id", "clinician_id", "status"])
    frame["practice_code"] = "X"
    frame["role"] = np.where(frame["clinician_id"] == "n1", "practice_nurse", "gp")
    frame["start_at"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(frame)), "h")
    got = patient_continuity(frame).set_index("patient_id")
    expected = _oracle(rows)
    assert sorted(got.index) == sorted(expected)
    for patient, values in expected.items():
        for key, value in values.items():
            assert got.loc[patient, key] == pytest.approx(value, nan_ok=True), (patient, key)
