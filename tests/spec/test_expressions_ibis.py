"""The Ibis translation of the filter language agrees with the pandas evaluator (run on DuckDB),
for every filter of every shipped indicator, row by row."""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pcn.measures.expressions import evaluate, parse, to_ibis
from pcn.measures.indicators import load_indicators
from pcn.refdata import codelist
from tests.spec.test_indicators import AS_OF, _appointments, _hospital, _profile


def _codes(codelist_id: str) -> frozenset[str]:
    return codelist(codelist_id).codes


def _filters() -> list[tuple[str, str, str]]:
    out = []
    for ind in load_indicators().values():
        for part in (ind.denominator, ind.numerator):
            out.append((ind.id, part.table, part.where))
    return out


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    profile = _profile()
    rng = np.random.default_rng(5)
    bigger = pd.concat([profile] * 20, ignore_index=True)
    bigger["patient_id"] = range(len(bigger))
    for col in ("age", "latest_sbp", "latest_dbp", "latest_hba1c", "qrisk3", "cha2ds2_vasc"):
        bigger[col] = bigger[col] + rng.integers(-15, 15, len(bigger))
    bigger.loc[rng.random(len(bigger)) < 0.2, "latest_sbp"] = np.nan
    appointments = _appointments()
    hospital = _hospital().merge(bigger[["patient_id", "age", "practice_code"]], on="patient_id")
    return {"patients": bigger, "appointments": appointments, "hospital_activity": hospital}


@pytest.fixture(scope="module")
def duckdb() -> Any:
    return ibis.duckdb.connect()


@pytest.mark.parametrize(("indicator_id", "table", "where"), _filters())
def test_ibis_matches_pandas(indicator_id: str, table: str, where: str,
                             tables: dict[str, pd.DataFrame], duckdb: Any) -> None:
    frame = tables[table]
    expression = parse(where)
    expected = evaluate(expression, frame, as_of=AS_OF, codelist_codes=_codes)
    # via Arrow: ibis's pandas inference trips pandas 3's deprecation warnings
    t = ibis.memtable(pa.Table.from_pandas(frame.assign(_row=range(len(frame))),
                                           preserve_index=False))
    mask = to_ibis(expression, t, as_of=AS_OF, codelist_codes=_codes)
    got = duckdb.to_pyarrow(t.select("_row", m=mask).order_by("_row")).column("m").to_pylist()
    assert [bool(v) for v in got] == expected.tolist(), indicator_id
