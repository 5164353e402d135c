"""QRISK3-2017 as one Ibis expression, so the analytics engine can score on DuckDB or Spark.

The same published coefficients as :mod:`pcn.risk.qrisk3` (``data/qrisk3_2017.yaml``) and the
same formula; tests check that both give the same scores. Every column and constant is cast to
float64 first (a decimal literal times an integer column becomes fixed-point decimal on Spark).
Inputs must already be valid and complete (see ``fill_missing_inputs`` and
``apply_calculator_limits`` in :mod:`pcn.risk.qrisk3`, or their engine equivalents); rows whose
``sex`` is neither F nor M get null.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from pcn.risk.qrisk3 import Equation, equations


def _f(value: float) -> ir.FloatingScalar:
    return ibis.literal(float(value), type="float64")


def _linear_predictor(t: ir.Table, eq: Equation) -> ir.FloatingValue:
    def col(name: str) -> ir.FloatingValue:
        return t[name].cast("float64")

    dage = col("age") / _f(10.0)
    dbmi = col("bmi") / _f(10.0)
    bmi_inv_sq = dbmi ** _f(-2.0)
    c = eq.centre
    centred = {
        "age_1": dage ** _f(eq.age_powers[0]) - _f(c["age_1"]),
        "age_2": dage ** _f(eq.age_powers[1]) - _f(c["age_2"]),
        "bmi_1": bmi_inv_sq - _f(c["bmi_1"]),
        "bmi_2": bmi_inv_sq * dbmi.ln() - _f(c["bmi_2"]),
        **{name: col(name) - _f(c[name]) for name in ("rati", "sbp", "sbps5", "town")},
    }
    ethrisk = t["ethrisk"].cast("int64")
    smoke = t["smoke_cat"].cast("int64")
    a = ibis.cases(*((ethrisk == k + 1, _f(v)) for k, v in enumerate(eq.ethrisk)),
                   else_=_f(0.0))
    a = a + ibis.cases(*((smoke == k, _f(v)) for k, v in enumerate(eq.smoke_cat)),
                       else_=_f(0.0))
    for name, coef in eq.continuous.items():
        a = a + centred[name] * _f(coef)
    for name, coef in eq.binary.items():
        a = a + col(name) * _f(coef)
    for age_term, terms in eq.interactions.items():
        inner: ir.FloatingValue = _f(0.0)
        for other, coef in terms.items():
            if other.startswith("smoke_"):
                category = int(other.removeprefix("smoke_"))
                inner = inner + ibis.cases((smoke == category, _f(coef)), else_=_f(0.0))
            else:
                inner = inner + (centred[other] if other in centred else col(other)) * _f(coef)
        a = a + centred[age_term] * inner
    return a


def qrisk3_score_expr(t: ir.Table) -> ir.FloatingValue:
    """10-year QRISK3-2017 risk in percent for each row of ``t`` (columns as in the batch
    contract: sex, age, ethrisk, town, smoke_cat, the flags, bmi, rati, sbp, sbps5)."""
    per_sex = []
    for sex, eq in equations().items():
        risk = _f(100.0) * (_f(1.0) - _f(eq.baseline_survival) ** _linear_predictor(t, eq).exp())
        per_sex.append((t["sex"] == sex, risk))
    return ibis.cases(*per_sex, else_=ibis.null("float64"))
