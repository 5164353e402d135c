"""Merge newly ingested rows into the network record and publish one new snapshot atomically.

Rules (docs/adr/0061-ingest-merge-rules.md):

- tables with a key (patients, practices, registrations, appointments, staff, opt_outs): a new
  row replaces the existing row with the same key (within one load the last one wins);
- tables without a key (clinical_events, medications, hospital_activity): rows are a multiset;
  the merged count of each distinct row is the larger of its old and new counts. Loading the same
  input twice therefore changes nothing, and genuinely repeated entries (two identical readings
  on one day) survive a round trip;
- registrations: when a patient has two open registrations (same NHS number registered at two
  practices), the one with the latest start wins and each earlier one is ended the day before the
  next one starts (``resolve_registrations``);
- ``lsoa`` is reference data: kept, plus any LSOA now referenced by a patient, looked up in
  ``pcn.refdata``.

The content hash of the result decides whether anything changed: identical content publishes no
new snapshot.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pcn.record.hashing import _mix, column_hashes
from pcn.record.schemas import TABLES
from pcn.record.store import Record, RecordError, RecordWriter, conform, open_record

_SEED = np.uint64(0x9E3779B97F4A7C15)


def existing_record(path: Path) -> Record | None:
    try:
        return open_record(path)
    except RecordError:
        if (Path(path) / "current").exists():
            raise
        return None


def read_table(record: Record | None, name: str) -> pa.Table:
    if record is None or name not in record.manifest.tables:
        return TABLES[name].schema.empty_table()
    return record.read(name)


def rows_to_table(name: str, rows: list[tuple[Any, ...]]) -> pa.Table:
    schema = TABLES[name].schema
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema.names]
    arrays = [pa.array(list(c), type=f.type) for c, f in zip(cols, schema, strict=True)]
    return pa.Table.from_arrays(arrays, schema=schema)


def row_hashes(table: pa.Table) -> np.ndarray:
    h = np.zeros(table.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, name in enumerate(table.column_names):
            h = _mix(h ^ (column_hashes(table.column(name)) + np.uint64(i + 1) * _SEED))
    return h


def _occurrence_rank(h: np.ndarray) -> np.ndarray:
    """For each element, how many equal elements come before it (0 for the first)."""
    order = np.argsort(h, kind="stable")
    sorted_h = h[order]
    starts = np.r_[0, np.flatnonzero(sorted_h[1:] != sorted_h[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(h)]))
    rank = np.empty(len(h), dtype=np.int64)
    rank[order] = np.arange(len(h)) - group_start
    return rank


def merge_multiset(old: pa.Table, new: pa.Table) -> pa.Table:
    if new.num_rows == 0:
        return old
    if old.num_rows == 0:
        return new
    ho, hn = row_hashes(old), row_hashes(new)
    uniq, counts = np.unique(ho, return_counts=True)
    pos = np.clip(np.searchsorted(uniq, hn), 0, len(uniq) - 1)
    old_count = np.where(uniq[pos] == hn, counts[pos], 0)
    keep = _occurrence_rank(hn) >= old_count
    return pa.concat_tables([old, new.filter(pa.array(keep))])


def dedupe_last(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """One row per key, the last one given."""
    if table.num_rows == 0:
        return table
    idx = pa.array(np.arange(table.num_rows))
    last = table.append_column("__i", idx).group_by(list(key)).aggregate([("__i", "max")])
    keep = np.sort(last.column("__i_max").to_numpy())
    return table.take(pa.array(keep))


def merge_keyed(old: pa.Table, new: pa.Table, key: tuple[str, ...]) -> pa.Table:
    new = dedupe_last(new, key)
    if new.num_rows == 0 or old.num_rows == 0:
        return new if old.num_rows == 0 else old
    kept = old.join(new.select(list(key)), keys=list(key), join_type="left anti")
    return pa.concat_tables([kept.select(old.column_names).cast(old.schema), new.cast(old.schema)])


def resolve_registrations(reg: pa.Table) -> pa.Table:
    """End all but the latest-starting open registration of each patient the day before the
    next open one starts (the documented duplicate-registration rule)."""
    if reg.num_rows == 0:
        return reg
    open_mask = pc.is_null(reg.column("end_date")).to_numpy(zero_copy_only=False)
    if open_mask.sum() < 2:
        return reg
    pid = reg.column("patient_id").to_numpy()
    start = reg.column("start_date").cast(pa.int32()).to_numpy()
    end = reg.column("end_date").cast(pa.int32()).to_numpy(zero_copy_only=False)
    end = np.where(open_mask, np.iinfo(np.int32).min, end).astype(np.int64)
    rows = np.flatnonzero(open_mask)
    order = rows[np.lexsort((start[rows], pid[rows]))]
    changed = False
    for a, b in itertools.pairwise(order):
        if pid[a] == pid[b] and start[b] > start[a]:
            end[a] = start[b] - 1
            changed = True
    if not changed:
        return reg
    epoch = dt.date(1970, 1, 1)
    new_end = [None if e == np.iinfo(np.int32).min else epoch + dt.timedelta(days=int(e))
               for e in end]
    return reg.set_column(reg.schema.get_field_index("end_date"), "end_date",
                          pa.array(new_end, type=pa.date32()))


def _lsoa_rows(codes: set[str]) -> pa.Table:
    from pcn.refdata.places import lsoas

    ref = lsoas()
    ref = ref[ref["lsoa_code"].isin(codes)]
    cols = ["lsoa_code", "imd_decile", "imd_rank", "rural_urban", "lon", "lat"]
    return conform(pa.Table.from_pandas(ref[cols], preserve_index=False), "lsoa")


def complete_lsoa(lsoa: pa.Table, patients: pa.Table) -> pa.Table:
    """Add reference rows for every patient's LSOA the table lacks (schemas: the lsoa table
    holds the LSOAs where the record's patients live)."""
    wanted = {c for c in patients.column("lsoa_code").to_pylist() if c}
    missing = wanted - set(lsoa.column("lsoa_code").to_pylist())
    if not missing:
        return lsoa
    return pa.concat_tables([lsoa, _lsoa_rows(missing)])


def merge_into_record(
    record_dir: Path,
    new: dict[str, pa.Table],
    source: dict[str, Any],
    replace: dict[str, pa.Table] | None = None,
) -> tuple[Record, bool]:
    """Merge ``new`` rows per table (``replace``: tables replaced wholesale) and publish."""
    old_rec = existing_record(record_dir)
    merged: dict[str, pa.Table] = {}
    for name, spec in TABLES.items():
        old = read_table(old_rec, name)
        if replace and name in replace:
            merged[name] = conform(replace[name], name)
            continue
        add = new.get(name)
        if add is None or add.num_rows == 0:
            merged[name] = old
            continue
        add = conform(add, name)
        merged[name] = merge_keyed(old, add, spec.key) if spec.key else merge_multiset(old, add)
    merged["registrations"] = resolve_registrations(merged["registrations"])
    merged["lsoa"] = complete_lsoa(merged["lsoa"], merged["patients"])
    check_references(merged)
    writer = RecordWriter(record_dir, source=source, verify=refuse_failing_checks)
    with writer:
        for name, table in merged.items():
            writer.write(name, table)
    assert writer.record is not None
    return writer.record, writer.changed


#: Problems named when a load is refused by the record checks.
SHOWN_PROBLEMS = 5


def refuse_failing_checks(staged: Record) -> None:
    """Publish nothing that ``pcn record check`` would reject: the same checks, run on the
    staged record. Rows are normally rejected one by one before this (with file, row and
    field); this is the last line for anything that got through."""
    from pcn.record.check import check_record

    report = check_record(staged)
    if not report.ok:
        shown = "; ".join(str(p) for p in report.problems[:SHOWN_PROBLEMS])
        raise RecordError(f"nothing published: the loaded record fails `pcn record check` "
                          f"({len(report.problems)} problem(s)): {shown}")


def check_references(tables: dict[str, pa.Table]) -> None:
    """Refuse to publish rows that point at patients or practices the record lacks."""
    pids = tables["patients"].column("patient_id")
    for name, spec in TABLES.items():
        if spec.patient_ref and tables[name].num_rows:
            bad = pc.invert(pc.is_in(tables[name].column("patient_id"), value_set=pids))
            n = pc.sum(bad).as_py() or 0
            if n:
                raise RecordError(f"{name}: {n} row(s) refer to patients not in the record")
    codes = tables["practices"].column("practice_code")
    for name in ("registrations", "appointments"):
        bad = pc.invert(pc.is_in(tables[name].column("practice_code"), value_set=codes))
        n = pc.sum(bad).as_py() or 0
        if n:
            raise RecordError(f"{name}: {n} row(s) refer to practices not in the record")
