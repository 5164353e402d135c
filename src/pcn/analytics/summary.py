"""The practice summary: per practice and per PCN, list size, age/sex bands, deprivation mix
and, for every register, count, prevalence and Wilson 95% interval.

Prevalence denominators respect each register's age (and sex) conditions, as QOF does: the
diabetes prevalence is the register over the list aged 17 or over, not the whole list.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from pcn.analytics import primitives as p
from pcn.analytics.profile import eligibility
from pcn.analytics.registers import Register


def _band_column(label: str) -> str:
    return "age_" + label.replace("-", "_").replace("+", "_plus")


def summary_schema(registers: Sequence[Register]) -> pa.Schema:
    fields: list[tuple[str, pa.DataType]] = [
        ("level", pa.string()),
        ("pcn_code", pa.string()),
        ("practice_code", pa.string()),
        ("list_size", pa.int64()),
        ("female", pa.int64()),
        ("male", pa.int64()),
    ]
    fields += [(_band_column(b), pa.int64()) for b in p.age_band_labels()]
    fields += [(f"imd_q{q}", pa.int64()) for q in range(1, 6)] + [("imd_unknown", pa.int64())]
    for r in registers:
        fields += [
            (f"reg_{r.id}_count", pa.int64()),
            (f"reg_{r.id}_denominator", pa.int64()),
            (f"reg_{r.id}_prevalence", pa.float64()),
            (f"reg_{r.id}_ci_low", pa.float64()),
            (f"reg_{r.id}_ci_high", pa.float64()),
        ]
    return pa.schema(fields)


def _count(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.ifelse(1, 0).cast("int64").sum()


def build_summary(profile: ir.Table, practices: ir.Table,
                  registers: Sequence[Register]) -> ir.Table:
    """Per-practice rows (``level='practice'``) and one row per PCN (``level='pcn'``)."""
    pr = practices.select(_pc=practices.practice_code, pcn_code=practices.pcn_code)
    t = profile.left_join(pr, profile.practice_code == pr._pc)
    t = t.select(*profile.columns, "pcn_code")
    metrics: dict[str, ir.Value] = {
        "list_size": t.count().cast("int64"),
        "female": _count(t.sex == "F"),
        "male": _count(t.sex == "M"),
    }
    for band in p.age_band_labels():
        metrics[_band_column(band)] = _count(t.age_band == band)
    for q in range(1, 6):
        metrics[f"imd_q{q}"] = _count(t.imd_quintile == q)
    metrics["imd_unknown"] = _count(t.imd_quintile.isnull())
    for r in registers:
        denominator = eligibility(r, t)
        metrics[f"_x_{r.id}"] = _count(t[f"reg_{r.id}"] & denominator)
        metrics[f"_n_{r.id}"] = _count(denominator)

    practice_rows = t.group_by(["pcn_code", "practice_code"]).agg(**metrics)
    # PCN totals from the practice rows: every metric is a count, so sums of sums are exact,
    # and the wide aggregation over patients runs once.
    pcn_rows = practice_rows.group_by("pcn_code").agg(
        **{name: practice_rows[name].sum().cast("int64") for name in metrics}
    )
    rows = ibis.union(
        practice_rows.mutate(level=ibis.literal("practice")),
        pcn_rows.mutate(level=ibis.literal("pcn"), practice_code=ibis.null("string")).select(
            "pcn_code", "practice_code", *metrics, "level"
        ),
        distinct=False,
    )

    derived: dict[str, ir.Value] = {}
    for r in registers:
        x, n = rows[f"_x_{r.id}"], rows[f"_n_{r.id}"]
        low, high = p.wilson_interval(x, n)
        derived[f"reg_{r.id}_count"] = x.cast("int64")
        derived[f"reg_{r.id}_denominator"] = n.cast("int64")
        derived[f"reg_{r.id}_prevalence"] = (n > 0).ifelse(
            x.cast("float64") / n.cast("float64"), ibis.null("float64"))
        derived[f"reg_{r.id}_ci_low"] = low
        derived[f"reg_{r.id}_ci_high"] = high
    keep = [c for c in rows.columns if not c.startswith(("_x_", "_n_"))]
    out = rows.select(*keep, **derived)
    # PCN rows last within each PCN, then practices in code order.
    return out.order_by([out.pcn_code, (out.level == "pcn").ifelse(1, 0), out.practice_code])
