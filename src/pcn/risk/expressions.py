"""The risk scores as Ibis expressions, so the analytics engine can score on DuckDB or Spark.

Each uses the same definition data as its pandas/numpy form (:mod:`pcn.risk.qrisk3`,
:mod:`pcn.risk.efi`, :mod:`pcn.risk.cms`); tests check that both forms agree.

QRISK3: the same published coefficients (``data/qrisk3_2017.yaml``) and formula. Every column
and constant is cast to float64 first (on Spark a decimal literal times an integer column
becomes fixed-point decimal). Inputs must already be valid and complete (see
``fill_missing_inputs`` and ``apply_calculator_limits`` in :mod:`pcn.risk.qrisk3`, or their
engine equivalents); rows whose ``sex`` is neither F nor M get null.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from pcn.risk.cms import cms_definition, cms_weights
from pcn.risk.efi import MEDICATION_COUNT_COLUMN, efi_definition
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


def _flag(t: ir.Table, column: str) -> ir.IntegerValue:
    """0/1 from a boolean or 0/1 column; null counts as absent."""
    return t[column].cast("int64").fill_null(0)


def efi_exprs(t: ir.Table, *, min_age: int | None = None) -> dict[str, ir.Value]:
    """``efi_deficit_count``, ``efi_score`` and ``efi_category`` for each row of ``t``; inputs
    as for :func:`pcn.risk.efi.efi` (a ``polypharmacy`` flag or ``distinct_medications_12m``;
    with an ``age`` column, rows under ``min_age`` (default 65) or of unknown age get null)."""
    definition = efi_definition()
    count: ir.IntegerValue = ibis.literal(0, type="int64")
    for deficit in definition.deficits:
        if deficit.rule == "distinct_medications" and deficit.column not in t.columns:
            meds = t[MEDICATION_COUNT_COLUMN].cast("int64").fill_null(0)
            threshold = deficit.min_distinct_medications or 0
            count = count + (meds >= threshold).cast("int64")
        else:
            count = count + _flag(t, deficit.column)
    fit, mild, moderate = definition.cutoff_counts()
    category = ibis.cases((count <= fit, "fit"), (count <= mild, "mild"),
                          (count <= moderate, "moderate"), else_="severe")
    score = count.cast("float64") / _f(definition.denominator)
    if "age" in t.columns:
        threshold_age = definition.default_min_age if min_age is None else min_age
        in_scope = t["age"].notnull() & (t["age"] >= threshold_age)
        null_int = ibis.null("int64")
        count = ibis.cases((in_scope, count), else_=null_int)
        score = ibis.cases((in_scope, score), else_=ibis.null("float64"))
        category = ibis.cases((in_scope, category), else_=ibis.null("string"))
    return {"efi_deficit_count": count, "efi_score": score, "efi_category": category}


def cms_exprs(t: ir.Table) -> dict[str, ir.Value]:
    """``cms_condition_count`` and ``cms_score`` for each row of ``t``; inputs as for
    :func:`pcn.risk.cms.cms` (not_available conditions may be absent)."""
    weights = cms_weights()
    hundredths = {cid: round(float(w) * 100)
                  for cid, w in zip(weights.condition_id, weights.weight_general, strict=True)}
    count: ir.IntegerValue = ibis.literal(0, type="int64")
    total: ir.IntegerValue = ibis.literal(0, type="int64")
    for condition in cms_definition().conditions:
        if condition.column not in t.columns:
            if condition.status == "not_available":
                continue
            raise KeyError(f"CMS inputs missing column: {condition.column}")
        present = _flag(t, condition.column)
        count = count + present
        total = total + present * hundredths[condition.id]
    return {"cms_condition_count": count,
            "cms_score": total.cast("float64") / _f(100.0)}
