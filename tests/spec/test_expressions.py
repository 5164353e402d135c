"""The Ibis forms of the risk scores agree with the pandas/numpy forms (on DuckDB)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from pcn.risk.cms import cms, cms_definition
from pcn.risk.efi import efi, efi_definition
from pcn.risk.expressions import cms_exprs, efi_exprs, qrisk3_score_expr
from pcn.risk.qrisk3 import FLAG_COLUMNS, qrisk3_scores
from tests.spec import qrisk3_oracle as oracle


def population(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "patient_id": np.arange(rows),
        "sex": rng.choice(np.array(["F", "M"]), rows),
        "age": rng.integers(25, 85, rows),
        "ethrisk": rng.integers(1, 10, rows),
        "town": rng.uniform(-7, 11, rows),
        "smoke_cat": rng.integers(0, 5, rows),
        "bmi": rng.uniform(17, 45, rows),
        "rati": rng.uniform(1, 11, rows),
        "sbp": rng.uniform(80, 210, rows),
        "sbps5": rng.uniform(0, 30, rows),
    })
    for flag in FLAG_COLUMNS:
        frame[flag] = rng.integers(0, 2, rows)
    return frame


def test_ibis_expression_on_duckdb_matches_numpy_and_oracle() -> None:
    frame = population(300)
    con = ibis.duckdb.connect()
    t = ibis.memtable(pa.Table.from_pandas(frame, preserve_index=False))
    result = t.select("patient_id", score=qrisk3_score_expr(t)).order_by("patient_id")
    # via Arrow: the pandas path of ibis trips a pandas 3 deprecation warning
    got = con.to_pyarrow(result)["score"].to_numpy()
    assert np.max(np.abs(got - qrisk3_scores(frame))) < 1e-9
    rows = frame.drop(columns="patient_id").to_dict("records")
    assert np.max(np.abs(got - np.array([oracle.score(r) for r in rows]))) < 1e-6


def test_ibis_expression_gives_null_for_unknown_sex() -> None:
    frame = population(2)
    frame.loc[1, "sex"] = "U"
    t = ibis.memtable(pa.Table.from_pandas(frame, preserve_index=False))
    result = t.select("patient_id", score=qrisk3_score_expr(t)).order_by("patient_id")
    got = result.to_pyarrow()["score"].to_pylist()
    assert got[0] is not None and 0 < got[0] < 100
    assert got[1] is None


def flags_population(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame({"patient_id": np.arange(rows), "age": rng.integers(40, 100, rows)})
    for d in efi_definition().deficits:
        if d.rule == "ever_coded":
            frame[d.column] = (rng.random(rows) < 0.25).astype(np.int64)
    frame["distinct_medications_12m"] = rng.integers(0, 12, rows)
    for c in cms_definition().conditions:
        frame[c.column] = (rng.random(rows) < 0.2).astype(np.int64)
    return frame


def test_efi_and_cms_expressions_match_pandas_forms() -> None:
    frame = flags_population(400)
    t = ibis.memtable(pa.Table.from_pandas(frame, preserve_index=False))
    query = t.select("patient_id", **efi_exprs(t), **cms_exprs(t)).order_by("patient_id")
    got = ibis.duckdb.connect().to_pyarrow(query).to_pydict()
    want_efi = efi(frame)
    want_cms = cms(frame)
    assert got["efi_deficit_count"] == [None if pd.isna(v) else int(v)
                                        for v in want_efi.efi_deficit_count]
    assert got["efi_category"] == [None if pd.isna(v) else v for v in want_efi.efi_category]
    assert got["cms_condition_count"] == want_cms.cms_condition_count.tolist()
    assert got["cms_score"] == want_cms.cms_score.tolist()
    in_scope = frame.age >= 65
    assert sum(v is None for v in got["efi_score"]) == int((~in_scope).sum())
    assert len(set(got["efi_category"]) - {None}) == 4  # every category occurs


def test_joined_labels_equals_a_plain_join_per_row() -> None:
    import pytest

    from pcn.measures.expressions import joined_labels

    rng = np.random.default_rng(5)
    labels = [f"g{i}" for i in range(11)]  # more than 8 columns: patterns span two bytes
    matches = rng.random((500, 11)) < 0.2
    got = joined_labels(matches, labels)
    assert got.tolist() == [";".join(name for name, hit in zip(labels, row, strict=True) if hit)
                            for row in matches]
    wide = rng.random((300, 70)) < 0.5  # beyond one integer per pattern
    wide_labels = [f"w{i}" for i in range(70)]
    assert joined_labels(wide, wide_labels, sep="; ").tolist() == [
        "; ".join(name for name, hit in zip(wide_labels, row, strict=True) if hit) for row in wide
    ]
    assert joined_labels(matches[:0], labels).tolist() == []
    assert joined_labels(np.zeros((3, 0), dtype=bool), []).tolist() == ["", "", ""]
    with pytest.raises(ValueError, match="labels"):
        joined_labels(matches, labels[:3])
