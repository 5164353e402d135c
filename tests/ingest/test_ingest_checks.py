"""Issue 16, item 9: ingest published what `pcn record check` rejects. Now every row is held to
the same rules before publishing (rejected with file, row, field and why; the whole file under
--strict), a load of nothing but garbage does not exit 0, and the published record passes the
check."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.record import open_record
from pcn.record.check import check_record

HEADER = ("NHS Number,Date of Birth,Gender,Ethnicity SNOMED,LSOA,Date of Death,Organisation,"
          "Registration Date,Deduction Date\n")
GOOD = "9990000018,01-Feb-1970,F,,E01012039,,A81016,01-Jan-2000,\n"
#: (row text, field the rejection must name, words the reason must contain)
ATTACKS = [
    ("9990000026,01-Feb-2090,F,,E01012039,,A81016,01-Jan-2000,\n", "Date of Birth",
     "plausible date of birth"),
    ("9990000034,01-Feb-1970,F,,E01012039,01-Jan-1960,A81016,01-Jan-2000,\n", "Date of Death",
     "before birth"),
    ("9990000042,01-Feb-1970,F,,E01012039,,A81016,01-Jan-1960,\n", "Registration Date",
     "before birth"),
    ('9990000050,01-Feb-1970,F,,"=HYPERLINK(""http://x"",""y"")",,A81016,01-Jan-2000,\n', "LSOA",
     "not an LSOA code"),
    ("0000000000,01-Feb-1970,F,,E01012039,,A81016,01-Jan-2000,\n", "NHS Number",
     "not a valid NHS number"),
]


def _extract(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "a81016_patients.csv"
    path.write_text(HEADER + "".join(rows))
    return path


def _ingest(path: Path, record: Path, *extra: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["ingest", "csv", "-i", str(path), "--mapping",
                                    "emis_search_v1", "--record", str(record), *extra])


def test_rows_record_check_rejects_are_rejected_with_file_row_field_and_why(
        tmp_path: Path) -> None:
    record = tmp_path / "rec"
    result = _ingest(_extract(tmp_path, [GOOD] + [row for row, _, _ in ATTACKS]), record)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for number, (_, field, why) in enumerate(ATTACKS, start=3):  # row 2 is the good one
        assert f"a81016_patients.csv row {number} patients {field}" in text, (field, text)
        assert why in text, why
    published = open_record(record)
    patients = published.read("patients").to_pandas()
    assert list(patients["nhs_number"]) == ["9990000018"]
    assert check_record(published).ok, check_record(published).problems


def test_strict_rejects_the_whole_file(tmp_path: Path) -> None:
    record = tmp_path / "rec"
    result = _ingest(_extract(tmp_path, [GOOD, ATTACKS[0][0]]), record, "--strict")
    assert result.exit_code == 1
    assert not (record / "current").exists()


def test_a_non_strict_load_of_nothing_but_garbage_does_not_exit_0(tmp_path: Path) -> None:
    record = tmp_path / "rec"
    result = _ingest(_extract(tmp_path, [row for row, _, _ in ATTACKS]), record)
    assert result.exit_code == 1 and "nothing loaded" in result.output
    assert not (record / "current").exists()
    garbage = tmp_path / "bundle.json"
    garbage.write_text("this is not FHIR at all")
    fhir = CliRunner().invoke(app, ["ingest", "fhir", "-i", str(garbage), "--record",
                                    str(record)])
    assert fhir.exit_code == 1 and "nothing loaded" in fhir.output


def test_a_load_that_would_fail_record_check_publishes_nothing(tmp_path: Path) -> None:
    """The last line: the same checks run on the staged record before it is published."""
    import pyarrow as pa
    import pytest

    from pcn.ingest.merge import merge_into_record
    from pcn.record.schemas import TABLES
    from pcn.record.store import RecordError

    record = tmp_path / "rec"
    _ingest(_extract(tmp_path, [GOOD]), record)
    before = open_record(record).manifest.content_hash
    patients = open_record(record).read("patients").to_pylist()
    bad = [{**patients[0], "patient_id": patients[0]["patient_id"] + 1,
            "nhs_number": "9990000026", "lsoa_code": "=1+1"}]
    with pytest.raises(RecordError, match="record check"):
        merge_into_record(record, {"patients": pa.Table.from_pylist(
            bad, schema=TABLES["patients"].schema)}, source={"kind": "test"})
    assert open_record(record).manifest.content_hash == before
