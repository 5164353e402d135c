"""Spec-test fixtures: tiny hand-made records, and every engine to run them on.

Each spec test builds a small record with ``tiny_record`` and asks the ``engine`` fixture for an
engine reading it; the fixture is parametrised over DuckDB and Spark (marked ``spark``), and all
Spark tests share one local SparkSession.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pcn.analytics.engine import Engine, EngineKind
from pcn.record import RecordWriter, open_record
from pcn.record.schemas import TABLES

D = dt.date
DEFAULT_DOB = D(1960, 6, 15)
DEFAULT_START = D(2000, 1, 1)
_NHS = itertools.count()


def _nhs_number(i: int) -> str:
    """A modulus-11-valid 999-range NHS number for test patient ``i``."""
    base = f"999{i:06d}"
    for _ in range(100):
        total = sum(int(d) * w for d, w in zip(base, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return base + str(check)
        i += 1000
        base = f"999{i:06d}"
    raise AssertionError("no valid NHS number")


def patient(pid: int, dob: dt.date = DEFAULT_DOB, sex: str = "F", lsoa: str | None = None,
            ethnicity: str | None = None, died: dt.date | None = None) -> dict[str, Any]:
    return {"patient_id": pid, "nhs_number": _nhs_number(pid), "date_of_birth": dob, "sex": sex,
            "ethnicity_code": ethnicity, "lsoa_code": lsoa, "date_of_death": died}


def reg(pid: int, practice: str = "A00001", start: dt.date = DEFAULT_START,
        end: dt.date | None = None) -> dict[str, Any]:
    return {"patient_id": pid, "practice_code": practice, "start_date": start, "end_date": end}


def ev(pid: int, date: dt.date, code: str, value: float | None = None) -> dict[str, Any]:
    return {"patient_id": pid, "date": date, "snomed_code": code, "numeric_value": value}


def med(pid: int, date: dt.date, code: str) -> dict[str, Any]:
    return {"patient_id": pid, "date": date, "dmd_code": code, "quantity": None}


def practice(code: str, pcn: str = "U00001") -> dict[str, Any]:
    return {"practice_code": code, "name": f"Practice {code}", "pcn_code": pcn,
            "pcn_name": "Test PCN", "sub_icb_code": None, "icb_code": None, "region_code": None,
            "postcode": None, "lsoa_code": None}


def lsoa_row(code: str, decile: int | None, rural_urban: str | None = "C1") -> dict[str, Any]:
    return {"lsoa_code": code, "imd_decile": decile, "imd_rank": None, "rural_urban": rural_urban,
            "lon": None, "lat": None}


def build_record(base: Path, as_of: dt.date | None = None, **tables: list[dict[str, Any]]):
    """Write a record whose tables hold exactly the given rows (others empty)."""
    source: dict[str, Any] = {"kind": "spec-test"}
    if as_of is not None:
        source["as_of"] = as_of.isoformat()
    with RecordWriter(base, source=source) as w:
        for name, rows in tables.items():
            schema = TABLES[name].schema
            w.write(name, pa.Table.from_pylist(rows, schema=schema))
    return open_record(base)


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def engine_kind(request: pytest.FixtureRequest) -> EngineKind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def tiny_engine(tmp_path: Path, engine_kind: EngineKind) -> Iterator[Callable[..., Engine]]:
    """``tiny_engine(patients=[...], clinical_events=[...])`` → an engine over that record."""
    engines: list[Engine] = []
    counter = itertools.count()

    def make(**tables: list[dict[str, Any]]) -> Engine:
        rec = build_record(tmp_path / f"rec{next(counter)}", **tables)
        e = Engine.for_record(rec, engine_kind)
        engines.append(e)
        return e

    yield make
    for e in engines:
        e.close()
