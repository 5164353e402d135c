"""The Ibis forms of the risk scores give the same results on Spark as the numpy/pandas forms."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from pcn.risk.cms import cms
from pcn.risk.efi import efi
from pcn.risk.expressions import cms_exprs, efi_exprs, qrisk3_score_expr
from pcn.risk.qrisk3 import qrisk3_scores
from tests.spec.test_expressions import flags_population, population

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    # pyspark's pandas conversion sets a pandas option that pandas 3 deprecates; not our code
    pytest.mark.filterwarnings(
        "ignore:The 'future.infer_string' option is deprecated:pandas.errors.Pandas4Warning"),
]


def as_view(session, frame, name: str) -> None:  # type: ignore[no-untyped-def]
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    session.createDataFrame(arrow).createOrReplaceTempView(name)


def test_risk_expressions_on_spark_match_numpy_and_pandas() -> None:
    ibis = pytest.importorskip("ibis")
    pytest.importorskip("pyspark.sql")
    from pcn.analytics.engine import spark_session

    # The process-wide session the engine uses: stopping a private one would stop it too.
    session = spark_session()
    con = ibis.pyspark.connect(session)
    inputs = population(200)
    as_view(session, inputs, "qrisk_inputs")
    t = con.table("qrisk_inputs")
    got = (con.to_pyarrow(t.select("patient_id", score=qrisk3_score_expr(t))
                          .order_by("patient_id"))["score"].to_numpy())
    assert np.max(np.abs(got - qrisk3_scores(inputs))) < 1e-9

    flags = flags_population(200)
    as_view(session, flags, "flag_inputs")
    f = con.table("flag_inputs")
    result = con.to_pyarrow(f.select("patient_id", **efi_exprs(f), **cms_exprs(f))
                            .order_by("patient_id")).to_pydict()
    assert result["efi_category"] == [None if v is None or v != v else v
                                      for v in efi(flags).efi_category]
    assert result["cms_score"] == cms(flags).cms_score.tolist()
