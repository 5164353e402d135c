"""Validate a network record: schemas, keys, dates, NHS numbers, codes and references.

Each problem names the table, the column, why, and the first offending rows, so a data
manager can find and fix them in the source extract.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import cast

import duckdb
import pyarrow.parquet as pq

from pcn.record.codes import CHECKERS
from pcn.record.nhs_number import is_valid
from pcn.record.schemas import TABLES
from pcn.record.store import Record

EARLIEST = dt.date(1880, 1, 1)
MAX_EXAMPLES = 5


@dataclass
class Problem:
    table: str
    column: str
    why: str
    count: int
    examples: list[dict[str, object]] = field(default_factory=list)

    def __str__(self) -> str:
        ex = "; ".join(", ".join(f"{k}={v}" for k, v in e.items()) for e in self.examples)
        return f"{self.table}.{self.column}: {self.why} ({self.count:,} row(s)); first: {ex}"


@dataclass
class CheckReport:
    problems: list[Problem]
    rows: dict[str, int]

    @property
    def ok(self) -> bool:
        return not self.problems


def latest_plausible_date() -> dt.date:
    """The last plausible date in a record (appointments are booked ahead): today + 1 year."""
    return dt.date.today() + dt.timedelta(days=366)


def check_record(record: Record, latest: dt.date | None = None) -> CheckReport:
    """Run every check; ``latest`` is the last plausible date (default: today + 1 year).

    Ingest runs the same checks on what it is about to publish (``pcn.ingest.merge``) and
    refuses to publish a record that fails them."""
    latest = latest or latest_plausible_date()
    problems: list[Problem] = []
    con = duckdb.connect()
    rows: dict[str, int] = {}
    for name, spec in TABLES.items():
        files = record.files(name)
        for f in files:
            schema = pq.read_schema(f)
            for fld in spec.schema:
                if fld.name not in schema.names:
                    problems.append(Problem(name, fld.name, f"missing in {f.name}", 0))
                elif not schema.field(fld.name).type.equals(fld.type):
                    problems.append(
                        Problem(
                            name,
                            fld.name,
                            f"type {schema.field(fld.name).type} in {f.name}, expected {fld.type}",
                            0,
                        )
                    )
        if files:
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM read_parquet({[str(f) for f in files]!r})"
            )
        else:
            cols = ", ".join(f"NULL::{_duck(fld.type)} AS {fld.name}" for fld in spec.schema)
            con.execute(f"CREATE VIEW {name} AS SELECT {cols} WHERE false")
        rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]  # type: ignore[index]
        entry = record.manifest.tables.get(name)  # absent: added by a later minor version
        expected = entry.rows if entry is not None else 0
        if rows[name] != expected:
            problems.append(Problem(name, "*", f"manifest says {expected:,} rows", rows[name]))
    if problems:  # schema problems make the rest meaningless
        return CheckReport(problems, rows)

    def query(table: str, column: str, why: str, where: str, show: str = "*") -> None:
        n = con.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]  # type: ignore[index]
        if n:
            df = con.execute(f"SELECT {show} FROM {table} WHERE {where} LIMIT {MAX_EXAMPLES}").df()
            examples = cast("list[dict[str, object]]", df.to_dict("records"))
            problems.append(Problem(table, column, why, int(n), examples))

    for name, spec in TABLES.items():
        for fld in spec.schema:
            if not fld.nullable:
                query(name, fld.name, "null in a required column", f"{fld.name} IS NULL")
        if spec.key:
            k = ", ".join(spec.key)
            query(
                name,
                k,
                "duplicate key",
                f"({k}) IN (SELECT ({k}) FROM {name} GROUP BY ALL HAVING count(*) > 1)",
                show=k,
            )
        for col in spec.date_columns:
            expr = f"CAST({col} AS DATE)"
            query(
                name,
                col,
                f"date outside {EARLIEST}..{latest}",
                f"{col} IS NOT NULL AND ({expr} < DATE '{EARLIEST}' OR {expr} > DATE '{latest}')",
            )
        if spec.patient_ref:
            query(
                name,
                "patient_id",
                "patient not in patients",
                "patient_id NOT IN (SELECT patient_id FROM patients)",
            )
        for col, kind in spec.code_columns:
            bad = [
                c
                for (c,) in con.execute(
                    f"SELECT DISTINCT {col} FROM {name} WHERE {col} IS NOT NULL"
                ).fetchall()
                if not CHECKERS[kind](c)
            ]
            if bad:
                lit = ", ".join("'" + b.replace("'", "''") + "'" for b in bad[:1000])
                query(name, col, f"not a valid {kind} code", f"{col} IN ({lit})")

    query("patients", "sex", "sex must be F or M", "sex NOT IN ('F', 'M')")
    query("patients", "date_of_birth", "born in the future",
          f"date_of_birth > DATE '{min(latest, dt.date.today())}'")
    query("patients", "date_of_death", "death before birth", "date_of_death < date_of_birth")
    query("registrations", "end_date", "ends before it starts", "end_date < start_date")
    query(
        "registrations",
        "practice_code",
        "practice not in practices",
        "practice_code NOT IN (SELECT practice_code FROM practices)",
    )
    query(
        "appointments",
        "practice_code",
        "practice not in practices",
        "practice_code NOT IN (SELECT practice_code FROM practices)",
    )
    query(
        "patients",
        "lsoa_code",
        "LSOA not in the lsoa table",
        "lsoa_code IS NOT NULL AND lsoa_code NOT IN (SELECT lsoa_code FROM lsoa)",
    )
    query("hospital_activity", "end_date", "ends before it starts", "end_date < start_date")
    query("staff", "end_date", "ends before it starts", "end_date < start_date")
    query(
        "registrations",
        "start_date",
        "registered before birth",
        "start_date < (SELECT date_of_birth FROM patients p WHERE p.patient_id = "
        "registrations.patient_id)",
    )

    numbers = con.execute("SELECT DISTINCT nhs_number FROM patients").fetchall()
    bad_nhs = [n for (n,) in numbers if not is_valid(n)]
    if bad_nhs:
        lit = ", ".join("'" + b.replace("'", "''") + "'" for b in bad_nhs[:1000])
        query(
            "patients",
            "nhs_number",
            "fails the modulus 11 check",
            f"nhs_number IN ({lit})",
            show="patient_id, nhs_number",
        )
    query(
        "patients",
        "nhs_number",
        "same NHS number on two patients",
        "nhs_number IN (SELECT nhs_number FROM patients GROUP BY 1 HAVING count(*) > 1)",
        show="patient_id, nhs_number",
    )
    return CheckReport(problems, rows)


def _duck(t: object) -> str:
    s = str(t)
    return {
        "string": "VARCHAR",
        "int64": "BIGINT",
        "double": "DOUBLE",
        "date32[day]": "DATE",
        "bool": "BOOLEAN",
        "int8": "TINYINT",
        "int32": "INTEGER",
        "timestamp[us]": "TIMESTAMP",
    }.get(s, "VARCHAR")
