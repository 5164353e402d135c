"""Type 1 opt-out codes and the national data opt-out list decide who leaves secondary use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from pcn.ingest.optouts import ingest_opt_out_list, opted_out_patient_ids, type1_definition
from pcn.record import open_record
from pcn.record.codes import is_snomed_id
from tests.fhir.records import NHS, small_tables, table, write_record

DISSENT, WITHDRAWN = "827241000000103", "827261000000102"
D = dt.date


def with_events(rows: list[tuple]) -> dict[str, pa.Table]:
    t = small_tables()
    t["clinical_events"] = table("clinical_events", rows)
    return t


def test_type1_definition_codes_are_well_formed() -> None:
    d = type1_definition()
    assert set(d.dissent) == {DISSENT} and set(d.withdrawn) == {WITHDRAWN}
    assert all(is_snomed_id(c) for c in (*d.dissent, *d.withdrawn))


def test_latest_type1_code_decides_and_dissent_wins_a_tie(tmp_path: Path) -> None:
    rec = write_record(tmp_path / "r", with_events([
        (1, D(2020, 1, 1), DISSENT, None),                                 # still dissenting
        (2, D(2020, 1, 1), DISSENT, None), (2, D(2021, 1, 1), WITHDRAWN, None),  # withdrew
        (3, D(2022, 5, 5), WITHDRAWN, None), (3, D(2022, 5, 5), DISSENT, None),  # same day
        (40, D(2019, 1, 1), WITHDRAWN, None), (40, D(2023, 1, 1), DISSENT, None),  # re-dissent
    ]))
    assert opted_out_patient_ids(rec) == {1, 3, 40}


def test_national_list_replaces_the_previous_list(tmp_path: Path) -> None:
    write_record(tmp_path / "r", with_events([]))
    first = tmp_path / "ndoo1.csv"
    first.write_text(f"nhs_number\n{NHS[1]}\n{NHS[3][:3]} {NHS[3][3:6]} {NHS[3][6:]}\n")
    report = ingest_opt_out_list(first, tmp_path / "r", D(2026, 1, 1))
    assert report.rejected == []
    assert opted_out_patient_ids(open_record(tmp_path / "r")) == {2, 40}
    second = tmp_path / "ndoo2.csv"
    second.write_text(f"nhs_number\n{NHS[3]}\n{NHS[5]}\n")  # NHS[5] is not (yet) a patient
    ingest_opt_out_list(second, tmp_path / "r", D(2026, 2, 1))
    rec = open_record(tmp_path / "r")
    assert opted_out_patient_ids(rec) == {40}
    rows = {r["nhs_number"]: r["received_date"] for r in rec.read("opt_outs").to_pylist()}
    assert rows == {NHS[3]: D(2026, 1, 1), NHS[5]: D(2026, 2, 1)}
    again = ingest_opt_out_list(second, tmp_path / "r", D(2026, 3, 1))
    assert not again.changed


def test_a_list_with_an_invalid_number_writes_nothing(tmp_path: Path) -> None:
    rec = write_record(tmp_path / "r", with_events([]))
    bad = tmp_path / "ndoo.csv"
    bad.write_text(f"nhs_number\n{NHS[1]}\n1234567890\n")
    report = ingest_opt_out_list(bad, tmp_path / "r")
    assert [(r.location, r.element) for r in report.rejected] == [("row 3", "nhs_number")]
    assert open_record(tmp_path / "r").manifest.content_hash == rec.manifest.content_hash
