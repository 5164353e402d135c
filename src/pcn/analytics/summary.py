"""The practice summary: per practice and per PCN, list size, age/sex bands, deprivation mix
and, for every register, count, prevalence and Wilson 95% interval.

Prevalence denominators respect each register's age (and sex) conditions, as QOF does: the
diabetes prevalence is the register over the list aged 17 or over, not the whole list.

Computed from the patient profile (Arrow, already in memory) with numpy counts per practice: a
few milliseconds for any list size, where the same aggregation as one Ibis query spent ~0.4 s
compiling ~300 expressions. Every engine's profile gives the same summary by construction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from pcn.analytics import primitives as p
from pcn.analytics.profile import eligible
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


def _pcn_of(practices: pa.Table) -> dict[str, str | None]:
    codes = practices.column("practice_code").to_pylist()
    pcns = practices.column("pcn_code").to_pylist()
    seen: dict[str, str | None] = {}
    for code, pcn in zip(codes, pcns, strict=True):
        if code in seen and seen[code] != pcn:
            raise ValueError(f"practices: practice {code} is listed in two PCNs "
                             f"({seen[code]}, {pcn})")
        seen[code] = pcn
    return seen


def compute_summary(
    profile: pa.Table, practices: pa.Table, registers: Sequence[Register]
) -> pa.Table:
    """Per-practice rows (``level='practice'``) and one row per PCN (``level='pcn'``): PCN rows
    last within each PCN, practices in code order; a practice missing from ``practices`` has a
    null PCN, sorted last."""
    column = profile.column("practice_code").combine_chunks()
    if column.null_count:
        raise ValueError("patient_profile: practice_code is missing for some patients")
    # Dictionary-encode (a hash per row), then sort only the few distinct codes: sorting two
    # million strings to find a few practices cost a second.
    encoded = column.dictionary_encode()
    distinct = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    order = np.argsort(distinct.astype(str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    practice_codes = distinct[order]
    group = rank[encoded.indices.to_numpy()]
    k = len(practice_codes)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(group[mask], minlength=k).astype(np.int64)

    age = np.asarray(profile.column("age").to_numpy(zero_copy_only=False), dtype=np.float64)
    sex = np.asarray(profile.column("sex").to_numpy(zero_copy_only=False), dtype=object)
    band = np.asarray(profile.column("age_band").to_numpy(zero_copy_only=False), dtype=object)
    quintile = np.asarray(profile.column("imd_quintile").to_numpy(zero_copy_only=False),
                          dtype=np.float64)
    counts: dict[str, np.ndarray] = {
        "list_size": count(np.ones(len(group), dtype=bool)),
        "female": count(sex == "F"),
        "male": count(sex == "M"),
    }
    for label in p.age_band_labels():
        counts[_band_column(label)] = count(band == label)
    for q in range(1, 6):
        counts[f"imd_q{q}"] = count(quintile == q)
    counts["imd_unknown"] = count(np.isnan(quintile))
    for r in registers:
        denominator = eligible(r, age, sex)
        on = np.asarray(profile.column(f"reg_{r.id}").to_numpy(zero_copy_only=False), dtype=bool)
        counts[f"_x_{r.id}"] = count(on & denominator)
        counts[f"_n_{r.id}"] = count(denominator)

    pcn_of = _pcn_of(practices)
    pcns = [pcn_of.get(str(c)) for c in practice_codes]
    # PCN totals from the practice rows: every metric is a count, so sums are exact.
    rows: list[tuple[str, str | None, str | None, np.ndarray]] = []  # level, pcn, practice, index
    for pcn in sorted(set(pcns), key=lambda x: (x is None, x or "")):
        members = np.array([i for i, q in enumerate(pcns) if q == pcn], dtype=np.int64)
        rows += [("practice", pcn, str(practice_codes[i]), members[j:j + 1])
                 for j, i in enumerate(members)]
        rows.append(("pcn", pcn, None, members))
    columns: dict[str, list[object] | np.ndarray] = {
        "level": [r[0] for r in rows],
        "pcn_code": [r[1] for r in rows],
        "practice_code": [r[2] for r in rows],
    }
    for name, values in counts.items():
        columns[name] = np.array([int(values[r[3]].sum()) for r in rows], dtype=np.int64)
    for r in registers:
        x, n = columns.pop(f"_x_{r.id}"), columns.pop(f"_n_{r.id}")
        assert isinstance(x, np.ndarray) and isinstance(n, np.ndarray)
        low, high = p.wilson_interval_arrays(x, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            prevalence = np.where(n > 0, x / n, np.nan)
        columns.update({
            f"reg_{r.id}_count": x, f"reg_{r.id}_denominator": n,
            f"reg_{r.id}_prevalence": prevalence,
            f"reg_{r.id}_ci_low": low, f"reg_{r.id}_ci_high": high,
        })
    schema = summary_schema(registers)
    return pa.table([pa.array(columns[f.name], f.type, from_pandas=True) for f in schema],
                    schema=schema)
