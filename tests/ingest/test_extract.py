"""Practice extracts through column mappings: checks, links, and the duplicate-registration rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from pcn.ingest.extract import ExtractError, ingest_extract
from pcn.ingest.mapping import MappingError, load_mapping, shipped_layouts
from pcn.ingest.merge import read_table
from pcn.record import open_record
from pcn.record.nhs_number import synthetic_numbers

NHS = [str(n) for n in synthetic_numbers(500, 3)]
PATIENT_HEADERS = ["NHS Number", "Date of Birth", "Gender", "Ethnicity SNOMED", "LSOA",
                   "Date of Death", "Organisation", "Registration Date", "Deduction Date"]


def csv(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    pd.DataFrame(rows, columns=headers).to_csv(path, index=False)
    return path


def emis_patients(path: Path, practice: str, rows: list[tuple[str, str, str]]) -> Path:
    """rows: (nhs, sex, registration date)."""
    return csv(path, PATIENT_HEADERS, [[n, "01-Feb-1970", s, "", "E01012039", "", practice, r, ""]
                                       for n, s, r in rows])


def test_shipped_layouts_load_and_say_they_are_illustrative() -> None:
    assert shipped_layouts() == ["emis_search_v1", "systmone_search_v1"]
    for name in shipped_layouts():
        m = load_mapping(name)
        assert m.illustrative and m.version == 1


def test_a_mapping_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(Path(load_mapping.__code__.co_filename).parent.joinpath(
        "mappings", "emis_search_v1.yaml").read_text() + "colour: blue\n")
    with pytest.raises(MappingError, match="colour"):
        load_mapping(f)


def test_same_nhs_number_at_two_practices_latest_registration_wins(tmp_path: Path) -> None:
    a = emis_patients(tmp_path / "a81016_patients.csv", "A81016",
                      [(NHS[0], "Female", "01-Jan-2010"), (NHS[1], "Male", "05-May-2015")])
    b = emis_patients(tmp_path / "a81020_patients.csv", "A81020",
                      [(NHS[0], "F", "15-Mar-2024")])
    report = ingest_extract([b, a], load_mapping("emis_search_v1"), tmp_path / "rec")
    assert report.rejected == []
    rec = open_record(tmp_path / "rec")
    regs = {(r["practice_code"], r["start_date"], r["end_date"])
            for r in read_table(rec, "registrations").to_pylist()
            if r["patient_id"] == _pid(rec, NHS[0])}
    assert regs == {("A81016", dt.date(2010, 1, 1), dt.date(2024, 3, 14)),
                    ("A81020", dt.date(2024, 3, 15), None)}
    assert read_table(rec, "patients").num_rows == 2
    assert set(read_table(rec, "practices").column("practice_code").to_pylist()) == {
        "A81016", "A81020"}


def _pid(rec, nhs: str) -> int:
    return next(p["patient_id"] for p in read_table(rec, "patients").to_pylist()
                if p["nhs_number"] == nhs)


def test_events_are_checked_row_by_row(tmp_path: Path) -> None:
    pts = emis_patients(tmp_path / "patients.csv", "A81016", [(NHS[0], "Female", "01-Jan-2010")])
    ev = csv(tmp_path / "coded_entries.csv",
             ["NHS Number", "Effective Date", "SNOMED Concept ID", "Value", "Unit of Measure"], [
                 [NHS[0], "05-Mar-2024", "72313002", "140", "mmHg"],      # ok
                 [NHS[0], "05-Mar-2024", "72313002", "18.7", "kPa"],      # wrong unit
                 [NHS[0], "2024-03-05", "72313002", "140", "mmHg"],       # wrong date format
                 [NHS[0], "05-Mar-2024", "72313003", "", ""],             # bad check digit
                 [NHS[1], "05-Mar-2024", "10725009", "", ""],             # unknown patient
                 [NHS[0], "06-Mar-2024", "60621009", "high", "kg/m2"],    # not a number
                 [NHS[0], "07-Mar-2024", "10725009", "", ""],             # ok, no value
             ])
    report = ingest_extract([ev, pts], load_mapping("emis_search_v1"), tmp_path / "rec")
    got = sorted((r.location, r.element) for r in report.rejected)
    assert got == [("row 3", "Unit of Measure"), ("row 4", "Effective Date"),
                   ("row 5", "SNOMED Concept ID"), ("row 6", "NHS Number"), ("row 7", "Value")]
    events = read_table(open_record(tmp_path / "rec"), "clinical_events").to_pylist()
    assert sorted((e["snomed_code"], e["numeric_value"]) for e in events) == [
        ("10725009", None), ("72313002", 140.0)]


def test_invalid_nhs_numbers_and_sexes_are_rejected(tmp_path: Path) -> None:
    pts = emis_patients(tmp_path / "patients.csv", "A81016", [
        ("9990000001", "Female", "01-Jan-2010"), (NHS[2], "Unknown", "01-Jan-2010")])
    report = ingest_extract([pts], load_mapping("emis_search_v1"), tmp_path / "rec")
    assert sorted(r.element for r in report.rejected) == ["Gender", "NHS Number"]
    assert not (tmp_path / "rec" / "current").exists()


def test_same_entry_in_two_practices_extracts_is_loaded_once(tmp_path: Path) -> None:
    pts = emis_patients(tmp_path / "patients.csv", "A81016", [(NHS[0], "Female", "01-Jan-2010")])
    headers = ["NHS Number", "Issue Date", "dm+d Code", "Quantity"]
    row = [NHS[0], "01-Jun-2024", "34953211000001105", "28"]
    a = csv(tmp_path / "a_issues.csv", headers, [row])
    b = csv(tmp_path / "b_issues.csv", headers, [row, row])  # issued twice that day
    ingest_extract([pts, a, b], load_mapping("emis_search_v1"), tmp_path / "rec")
    ingest_extract([pts, a, b], load_mapping("emis_search_v1"), tmp_path / "rec")
    assert read_table(open_record(tmp_path / "rec"), "medications").num_rows == 2


def test_systmone_parquet_layout(tmp_path: Path) -> None:
    df = pd.DataFrame({"NHS number": [NHS[0]], "Date of birth": ["1970-02-01"],
                       "Sex": ["Male"], "Ethnicity (SNOMED)": [None],
                       "Lower Super Output Area": [None], "Date of death": ["2025-01-01"],
                       "Practice ODS": ["A81016"], "Date registered": ["2000-01-01"],
                       "Date deregistered": ["2025-01-01"]})
    df.to_parquet(tmp_path / "demographics.parquet")
    report = ingest_extract([tmp_path / "demographics.parquet"],
                            load_mapping("systmone_search_v1"), tmp_path / "rec",
                            fmt="parquet")
    assert report.rejected == []
    p = read_table(open_record(tmp_path / "rec"), "patients").to_pylist()[0]
    assert (p["sex"], p["date_of_death"]) == ("M", dt.date(2025, 1, 1))


def test_a_file_with_missing_columns_stops_the_load(tmp_path: Path) -> None:
    f = csv(tmp_path / "patients.csv", ["NHS Number"], [[NHS[0]]])
    with pytest.raises(ExtractError, match="Date of Birth"):
        ingest_extract([f], load_mapping("emis_search_v1"), tmp_path / "rec")
