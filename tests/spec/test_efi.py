"""Electronic Frailty Index on hand-made patients (Clegg et al. 2016: deficits / 36)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pcn.risk.efi import EfiDefinition, efi, efi_category, efi_definition

CODED = [d.column for d in efi_definition().deficits if d.rule == "ever_coded"]


def patient(deficits: int, meds: int = 0, age: int = 80) -> dict:
    """A patient with the first ``deficits`` coded deficits and ``meds`` distinct medicines."""
    row: dict = {c: int(i < deficits) for i, c in enumerate(CODED)}
    row.update(distinct_medications_12m=meds, age=age)
    return row


def test_definition_has_36_deficits_35_coded_plus_polypharmacy() -> None:
    d = efi_definition()
    assert d.denominator == 36 and len(d.deficits) == 36 and len(CODED) == 35
    poly = [x for x in d.deficits if x.rule == "distinct_medications"]
    assert [(x.id, x.min_distinct_medications, x.window_months) for x in poly] == [
        ("polypharmacy", 5, 12)]


# (coded deficits, distinct medicines, expected count, expected category) - worked by hand:
# fit <= 0.12 (4/36 = 0.111), mild <= 0.24 (8/36 = 0.222), moderate <= 0.36 (12/36 = 0.333).
CASES = [
    (0, 0, 0, "fit"),
    (4, 4, 4, "fit"),        # 4 medicines is not polypharmacy
    (4, 5, 5, "mild"),       # 5 distinct medicines is: 5/36 = 0.139
    (8, 0, 8, "mild"),
    (8, 7, 9, "moderate"),   # 9/36 = 0.25
    (12, 0, 12, "moderate"),
    (12, 5, 13, "severe"),   # 13/36 = 0.361
    (35, 12, 36, "severe"),
]


@pytest.mark.parametrize(("coded", "meds", "count", "category"), CASES)
def test_efi_hand_worked_patients(coded: int, meds: int, count: int, category: str) -> None:
    out = efi(pd.DataFrame([patient(coded, meds)]))
    assert out.efi_deficit_count.iloc[0] == count
    assert out.efi_score.iloc[0] == count / 36
    assert out.efi_category.iloc[0] == category


def test_efi_category_boundaries_on_counts() -> None:
    assert [efi_category(n) for n in (0, 4, 5, 8, 9, 12, 13, 36)] == [
        "fit", "fit", "mild", "mild", "moderate", "moderate", "severe", "severe"]
    with pytest.raises(ValueError, match="0-36"):
        efi_category(37)


def test_a_score_exactly_on_a_cutoff_falls_in_the_lower_category() -> None:
    # With 25 deficits, 3/25 = 0.12, 6/25 = 0.24 and 9/25 = 0.36 exactly: each is <= its cut-off.
    base = efi_definition()
    deficits = tuple(base.deficits[0].model_copy(update={"id": f"d{i}"}) for i in range(25))
    small = EfiDefinition.model_validate(
        base.model_dump() | {"denominator": 25, "deficits": [d.model_dump() for d in deficits]})
    assert small.cutoff_counts() == (3, 6, 9)


def test_efi_polypharmacy_may_be_given_as_a_flag_and_nulls_mean_absent() -> None:
    rows = pd.DataFrame([patient(2), patient(2)]).drop(columns="distinct_medications_12m")
    rows["polypharmacy"] = [True, False]
    rows[CODED[5]] = [None, 1]
    out = efi(rows)
    assert list(out.efi_deficit_count) == [3, 3]


def test_efi_only_scores_the_configured_age_group() -> None:
    rows = pd.DataFrame([patient(6, age=64), patient(6, age=65), patient(6, age=40)])
    rows.loc[2, "age"] = np.nan
    default = efi(rows)
    assert default.efi_deficit_count.isna().tolist() == [True, False, True]
    assert default.efi_category.tolist()[1] == "mild"
    younger = efi(rows, min_age=60)
    assert younger.efi_deficit_count.tolist()[:2] == [6, 6]


def test_efi_keeps_the_patient_index() -> None:
    rows = pd.DataFrame([patient(1), patient(13)], index=pd.Index([1001, 1002], name="patient_id"))
    out = efi(rows)
    assert list(out.index) == [1001, 1002]
    assert out.loc[1002, "efi_category"] == "severe"


def test_efi_missing_or_bad_inputs_are_named() -> None:
    rows = pd.DataFrame([patient(1)]).drop(columns=["falls"])
    with pytest.raises(KeyError, match="falls"):
        efi(rows)
    rows = pd.DataFrame([patient(1), dict(patient(1), falls=2)])
    with pytest.raises(ValueError, match=r"'falls'.*row 2"):
        efi(rows)


def test_efi_reads_nullable_boolean_flags() -> None:
    rows = pd.DataFrame([patient(0), patient(0)])
    for column in CODED[:6]:
        rows[column] = pd.array([True, None], dtype="boolean")
    rows["distinct_medications_12m"] = pd.array([None, 5], dtype="Int64")
    assert efi(rows).efi_deficit_count.tolist() == [6, 1]
