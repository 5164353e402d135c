import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.record import RecordWriter, open_record
from pcn.record.check import check_record


def _record(
    base: Path,
    *,
    nhs: str = "9990000018",
    code: str = "38341003",
    end: dt.date | None = None,
    icd: str = "I500",
) -> Path:
    with RecordWriter(base, source={"kind": "test"}) as w:
        w.write(
            "practices",
            pa.table(
                {
                    "practice_code": ["A81016"],
                    "name": ["Park Surgery"],
                    "pcn_code": ["U55830"],
                    "pcn_name": ["P"],
                    "sub_icb_code": [None],
                    "icb_code": [None],
                    "region_code": [None],
                    "postcode": [None],
                    "lsoa_code": [None],
                }
            ),
        )
        w.write(
            "patients",
            pa.table(
                {
                    "patient_id": pa.array([1, 2], pa.int64()),
                    "nhs_number": [nhs, "9990000026"],
                    "date_of_birth": [dt.date(1950, 1, 1), dt.date(1960, 5, 5)],
                    "sex": ["F", "M"],
                    "ethnicity_code": pa.array([None, None], pa.string()),
                    "lsoa_code": pa.array([None, None], pa.string()),
                    "date_of_death": pa.array([None, None], pa.date32()),
                }
            ),
        )
        w.write(
            "registrations",
            pa.table(
                {
                    "patient_id": pa.array([1, 2], pa.int64()),
                    "practice_code": ["A81016", "A81016"],
                    "start_date": [dt.date(2000, 1, 1), dt.date(2001, 1, 1)],
                    "end_date": pa.array([end, None], pa.date32()),
                }
            ),
        )
        w.write(
            "clinical_events",
            pa.table(
                {
                    "patient_id": pa.array([1, 2, 3], pa.int64()),
                    "date": [dt.date(2020, 1, 1)] * 3,
                    "snomed_code": [code, "72313002", "72313002"],
                    "numeric_value": [None, 120.0, 130.0],
                }
            ),
        )
        w.write(
            "hospital_activity",
            pa.table(
                {
                    "patient_id": pa.array([1], pa.int64()),
                    "kind": ["emergency_admission"],
                    "start_date": [dt.date(2021, 1, 1)],
                    "end_date": [dt.date(2021, 1, 3)],
                    "icd10_code": [icd],
                }
            ),
        )
    return base


def _problems(base: Path) -> list[str]:
    return [str(p) for p in check_record(open_record(base), latest=dt.date(2026, 1, 1)).problems]


def test_orphan_event_is_named_with_its_row(tmp_path: Path) -> None:
    probs = _problems(_record(tmp_path / "r"))
    assert any(
        "clinical_events.patient_id: patient not in patients" in p and "patient_id=3" in p
        for p in probs
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"nhs": "9990000019"}, "patients.nhs_number: fails the modulus 11 check"),
        ({"code": "38341004"}, "clinical_events.snomed_code: not a valid snomed code"),
        ({"end": dt.date(1999, 1, 1)}, "registrations.end_date: ends before it starts"),
        ({"icd": "I50.0"}, "hospital_activity.icd10_code: not a valid icd10 code"),
        ({"end": dt.date(2090, 1, 1)}, "registrations.end_date: date outside"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, kwargs: dict, expected: str) -> None:
    probs = _problems(_record(tmp_path / "r", **kwargs))
    assert any(expected in p for p in probs), probs


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = _record(tmp_path / "bad", nhs="1234567890")
    result = runner.invoke(app, ["record", "check", str(bad)])
    assert result.exit_code == 1
    assert "modulus 11" in result.output
    result = runner.invoke(app, ["record", "info", str(bad)])
    assert result.exit_code == 0 and "patients" in result.output
    result = runner.invoke(app, ["record", "info", str(tmp_path / "missing")])
    assert result.exit_code == 2
