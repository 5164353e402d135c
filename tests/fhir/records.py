"""A small hand-made network record with the awkward cases: nulls, numeric values, deaths,
ended registrations, PCN-employed staff, repeated identical readings, every appointment status
and hospital activity kind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from pcn.record.nhs_number import synthetic_numbers
from pcn.record.schemas import TABLES
from pcn.record.store import Record, RecordWriter

D = dt.date
NHS = [str(n) for n in synthetic_numbers(0, 6)]
PCN, PCN_NAME = "U55830", "Central Middlesbrough PCN"
HYPERTENSION = "10725009"  # Benign hypertension (HYP_COD)
SYSTOLIC, DIASTOLIC = "72313002", "1091811000000102"
BMI = "60621009"
HBA1C = "1049321000000109"
TYPE1_OPT_OUT = "827241000000103"
ROSUVASTATIN = "34953211000001105"
ETHNICITY = "10292001"


def table(name: str, rows: list[tuple]) -> pa.Table:
    schema = TABLES[name].schema
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays([pa.array(list(c), type=f.type)
                                 for c, f in zip(cols, schema, strict=True)], schema=schema)


def small_tables() -> dict[str, pa.Table]:
    return {
        "practices": table("practices", [
            ("A81016", "Park Surgery", PCN, PCN_NAME, "16C", "QHM", "Y63", "TS1 3QY",
             "E01012039"),
            ("A81020", "Martonside Medical Centre", PCN, PCN_NAME, None, None, None, None, None),
        ]),
        "patients": table("patients", [
            (1, NHS[0], D(1950, 3, 1), "F", ETHNICITY, "E01012039", None),
            (2, NHS[1], D(1938, 12, 31), "M", None, "E01012078", D(2025, 7, 14)),
            (3, NHS[2], D(2001, 6, 15), "F", None, None, None),
            (40, NHS[3], D(1980, 1, 1), "M", ETHNICITY, "E01012092", None),
        ]),
        "registrations": table("registrations", [
            (1, "A81016", D(1990, 1, 1), None),
            (2, "A81016", D(1960, 5, 5), D(2025, 7, 14)),
            (3, "A81020", D(2001, 6, 20), D(2019, 9, 30)),
            (3, "A81016", D(2019, 10, 1), None),
            (40, "A81020", D(2010, 2, 2), None),
        ]),
        "clinical_events": table("clinical_events", [
            (1, D(2015, 4, 1), HYPERTENSION, None),
            (1, D(2024, 4, 1), SYSTOLIC, 142.0),
            (1, D(2024, 4, 1), DIASTOLIC, 88.0),
            (1, D(2024, 4, 1), SYSTOLIC, 142.0),  # repeated identical reading
            (2, D(2023, 1, 9), BMI, 31.25),
            (2, D(2023, 1, 9), HBA1C, 53.0),
            (3, D(2022, 2, 2), TYPE1_OPT_OUT, None),
            (40, D(2021, 3, 3), BMI, 0.1 + 0.2),  # a float that prints with many digits
        ]),
        "medications": table("medications", [
            (1, D(2024, 5, 1), ROSUVASTATIN, 28.0),
            (1, D(2024, 6, 1), ROSUVASTATIN, None),
            (2, D(2024, 5, 1), ROSUVASTATIN, 56.0),
        ]),
        "appointments": table("appointments", [
            (1001, 1, "A81016", "c-gp-1", "gp", "face_to_face", dt.datetime(2025, 1, 6, 9, 10),
             "attended"),
            (1002, 2, "A81016", "c-pharm", "clinical_pharmacist", "telephone",
             dt.datetime(2025, 7, 1, 14, 30), "did_not_attend"),
            (1003, 40, "A81020", "c-pharm", "clinical_pharmacist", "video",
             dt.datetime(2025, 10, 26, 1, 30), "cancelled"),  # clocks go back: ambiguous
            (1004, 3, "A81016", "c-gp-1", "gp", "home_visit", dt.datetime(2025, 3, 30, 1, 30),
             "attended"),  # clocks go forward: this wall-clock time does not exist
        ]),
        "staff": table("staff", [
            ("c-gp-1", "A81016", PCN, "gp", False, 0.8, D(2010, 1, 1), None),
            ("c-pharm", None, PCN, "clinical_pharmacist", True, 1.0, D(2020, 4, 1), None),
            ("c-old", "A81020", PCN, "practice_nurse", False, 0.5, D(2005, 1, 1),
             D(2019, 3, 31)),
        ]),
        "hospital_activity": table("hospital_activity", [
            (1, "ae_attendance", D(2024, 2, 2), None, None),
            (2, "emergency_admission", D(2025, 7, 1), D(2025, 7, 14), "I500"),
            (2, "elective", D(2022, 3, 3), D(2022, 3, 4), "S7200"),
            (40, "outpatient", D(2023, 8, 8), None, "E11"),
        ]),
    }


def write_record(path: Path, tables: dict[str, pa.Table]) -> Record:
    from pcn.ingest.merge import complete_lsoa

    tables = dict(tables)
    # plus an LSOA where nobody lives yet (a twin keeps the candidate LSOAs around a practice)
    lsoa = complete_lsoa(TABLES["lsoa"].schema.empty_table(), tables["patients"])
    extra = table("lsoa", [("E01012171", None, 5056, "C1", -1.14087, 54.5638)])
    tables["lsoa"] = pa.concat_tables([lsoa, extra])
    w = RecordWriter(path, source={"kind": "test"})
    with w:
        for name, t in tables.items():
            w.write(name, t)
    assert w.record is not None
    return w.record
