"""Cambridge Multimorbidity Score (general outcome, Payne et al. CMAJ 2020), hand-made patients."""

from __future__ import annotations

import pandas as pd
import pytest

from pcn.risk.cms import cms, cms_definition, cms_weights

COLUMNS = [c.column for c in cms_definition().conditions]


def patient(*conditions: str) -> dict[str, int]:
    return {c: int(c in conditions) for c in COLUMNS}


# Weights read off the published general-outcome table (Payne 2020) and added by hand.
CASES = [
    ((), 0, 0.0),
    (("atr", "dem"), 2, 3.84),            # 1.34 + 2.50
    (("hyp", "hel"), 2, 0.17),            # 0.08 + 0.09
    (("cop", "hef", "dib", "can"), 4, 4.92),  # 1.46 + 1.18 + 0.75 + 1.53
    (tuple(COLUMNS), 20, 16.33),          # every condition
]


@pytest.mark.parametrize(("conditions", "count", "score"), CASES)
def test_cms_hand_worked_patients(conditions: tuple[str, ...], count: int, score: float) -> None:
    out = cms(pd.DataFrame([patient(*conditions)]))
    assert out.cms_condition_count.iloc[0] == count
    assert out.cms_score.iloc[0] == score  # exact: summed in hundredths


def test_cms_has_20_conditions_matching_the_weights_file() -> None:
    assert len(COLUMNS) == 20
    assert set(cms_weights().condition_id) == {c.id for c in cms_definition().conditions}


def test_cms_unavailable_conditions_may_be_omitted_but_others_may_not() -> None:
    unavailable = [c.column for c in cms_definition().conditions if c.status == "not_available"]
    assert sorted(unavailable) == ["con", "ibs"]
    rows = pd.DataFrame([patient("dem")]).drop(columns=unavailable)
    assert cms(rows).cms_score.iloc[0] == 2.50
    with pytest.raises(KeyError, match="dem"):
        cms(rows.drop(columns=["dem"]))


def test_cms_accepts_booleans_and_nulls_as_absent() -> None:
    rows = pd.DataFrame([patient("ast"), patient("ast")]).astype(object)
    rows.loc[0, "ast"] = True
    rows.loc[1, "ast"] = None
    assert cms(rows).cms_score.tolist() == [0.19, 0.0]


def test_cms_rejects_non_flag_values_naming_column_and_row() -> None:
    rows = pd.DataFrame([patient(), dict(patient(), epi=3)])
    with pytest.raises(ValueError, match=r"'epi'.*row 2"):
        cms(rows)


def test_every_condition_documents_original_and_pcn_rules() -> None:
    for c in cms_definition().conditions:
        assert c.original_rule and c.pcn_rule
        if c.status != "equivalent":
            assert c.note, f"{c.id} is a {c.status} and must say why"


@pytest.mark.parametrize("dtype", ["boolean", "Int64", "float64", "object"])
def test_cms_reads_flags_of_any_engine_dtype(dtype: str) -> None:
    values = {"boolean": [True, None, False], "Int64": [1, None, 0],
              "float64": [1.0, float("nan"), 0.0], "object": ["1", None, "0"]}[dtype]
    rows = pd.DataFrame({c: pd.array(values, dtype=dtype) for c in COLUMNS})
    assert cms(rows).cms_score.tolist() == [16.33, 0.0, 0.0]
