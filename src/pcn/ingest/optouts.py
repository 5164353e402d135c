"""Opt-outs: who must be left out of secondary use (planning, research, analytics exports).

Two sources, both kept in the record:

- **type 1 opt-out**: SNOMED CT codes recorded in the GP record (``clinical_events``), defined in
  ``pcn/definitions/optouts/type1.yaml``; the latest code decides, and on the same day dissent
  wins over withdrawal (the cautious reading);
- **national data opt-out**: a list of NHS numbers (CSV, one ``nhs_number`` column) received from
  NHS England, stored in the ``opt_outs`` table. Each list received replaces the previous one
  (people can withdraw), keeping the date each number was first received.

Direct care is not affected: the web app's patient views do not call this module.
"""

from __future__ import annotations

import csv
import datetime as dt
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict

from pcn.ingest.merge import existing_record, merge_into_record, read_table
from pcn.ingest.report import IngestReport
from pcn.record.nhs_number import is_valid
from pcn.record.store import Record

NATIONAL = "national_data_opt_out"


class Type1Definition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    dissent: dict[str, str]
    withdrawn: dict[str, str]
    authored_by: str
    checked_by: str | None
    date_reviewed: dt.date | None
    next_review: dt.date | None


@cache
def type1_definition() -> Type1Definition:
    text = (resources.files("pcn.definitions") / "optouts" / "type1.yaml").read_text()
    return Type1Definition.model_validate(yaml.safe_load(text))


class OptOutError(Exception):
    """The opt-out list cannot be read (nothing is written)."""


def read_opt_out_list(path: Path, report: IngestReport) -> list[str]:
    numbers: list[str] = []
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "nhs_number" not in reader.fieldnames:
                raise OptOutError(f"{path}: needs a header row with an nhs_number column "
                                  f"(found {reader.fieldnames})")
            for n, row in enumerate(reader, 2):
                value = (row.get("nhs_number") or "").replace(" ", "")
                if not is_valid(value):
                    report.reject(Path(path).name, f"row {n}", "opt-out", "nhs_number",
                                  f"{value!r} is not a valid NHS number (modulus 11)")
                    continue
                numbers.append(value)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise OptOutError(f"{path}: cannot read: {e}") from e
    return numbers


def ingest_opt_out_list(path: Path, record_dir: Path,
                        received: dt.date | None = None) -> IngestReport:
    """Replace the record's national data opt-out list with the one in ``path``."""
    report = IngestReport()
    numbers = read_opt_out_list(path, report)
    report.read = len(numbers) + report.skipped
    if report.rejected:
        report.notes.append("nothing written: fix the invalid NHS numbers and load the list again")
        return report
    received = received or dt.date.today()
    old = read_table(existing_record(record_dir), "opt_outs").to_pydict()
    first_seen = {n: d for n, k, d in zip(old["nhs_number"], old["kind"], old["received_date"],
                                          strict=True) if k == NATIONAL}
    unique = sorted(set(numbers))
    table = pa.table({
        "nhs_number": pa.array(unique, pa.string()),
        "kind": pa.array([NATIONAL] * len(unique), pa.string()),
        "received_date": pa.array([first_seen.get(n, received) for n in unique], pa.date32()),
    })
    kept_other = [i for i, k in enumerate(old["kind"]) if k != NATIONAL]
    if kept_other:
        other = pa.table(old).take(pa.array(kept_other))
        table = pa.concat_tables([other.cast(table.schema), table])
    record, changed = merge_into_record(record_dir, {}, source={"kind": "opt_out_list"},
                                        replace={"opt_outs": table})
    report.loaded["national data opt-outs"] = len(unique)
    report.rows["opt_outs"] = table.num_rows
    report.changed, report.content_hash = changed, record.manifest.content_hash
    return report


def _view(con: duckdb.DuckDBPyConnection, record: Record, name: str) -> None:
    files = [str(f) for f in record.files(name)]
    if files:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r})")
    else:
        con.register(f"{name}_empty", read_table(None, name))
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {name}_empty")


def opted_out_patient_ids(record: Record) -> set[int]:
    """Patients to exclude from secondary use: a current type 1 opt-out or on the national list."""
    d = type1_definition()
    codes = {**{c: 1 for c in d.dissent}, **{c: 0 for c in d.withdrawn}}
    con = duckdb.connect()
    for name in ("patients", "clinical_events", "opt_outs"):
        _view(con, record, name)
    con.register("type1_codes", pa.table({"snomed_code": list(codes),
                                          "dissent": list(codes.values())}))
    rows = con.execute("""
        WITH t1 AS (
            SELECT e.patient_id, c.dissent,
                   row_number() OVER (PARTITION BY e.patient_id
                                      ORDER BY e.date DESC, c.dissent DESC) AS rn
            FROM clinical_events e JOIN type1_codes c USING (snomed_code))
        SELECT patient_id FROM t1 WHERE rn = 1 AND dissent = 1
        UNION
        SELECT p.patient_id FROM patients p JOIN opt_outs o USING (nhs_number)
        WHERE o.kind = ?""", [NATIONAL]).fetchall()
    return {int(r[0]) for r in rows}
