"""The read operations an API will serve, over a small record."""

from __future__ import annotations

import pytest

from pcn.fhir.read import FhirError, FhirReader
from pcn.fhir.validation import validation_error
from pcn.record.nhs_number import synthetic_numbers
from tests.fhir.records import NHS, small_tables, write_record


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> FhirReader:
    return FhirReader(write_record(tmp_path_factory.mktemp("r") / "rec", small_tables()))


def test_patient_by_id(reader: FhirReader) -> None:
    p = reader.patient("2")
    assert (p["resourceType"], p["id"], p["deceasedDateTime"]) == ("Patient", "2", "2025-07-14")
    assert validation_error(p) is None


@pytest.mark.parametrize("pid", ["999", "abc", "1; DROP TABLE patients", ""])
def test_unknown_patient_is_404_with_operation_outcome(reader: FhirReader, pid: str) -> None:
    with pytest.raises(FhirError) as e:
        reader.patient(pid)
    assert e.value.status == 404
    assert e.value.outcome["issue"][0]["code"] == "not-found"
    assert validation_error(e.value.outcome) is None


def test_search_by_nhs_number(reader: FhirReader) -> None:
    found = reader.search_patients(f"https://fhir.nhs.uk/Id/nhs-number|{NHS[3]}")
    assert [e["resource"]["id"] for e in found["entry"]] == ["40"]
    absent = str(synthetic_numbers(1000, 1)[0])
    assert reader.search_patients(f"https://fhir.nhs.uk/Id/nhs-number|{absent}")["total"] == 0
    assert validation_error(found) is None


def test_search_by_unsupported_system_is_400(reader: FhirReader) -> None:
    with pytest.raises(FhirError) as e:
        reader.search_patients("urn:oid:1.2.3|42")
    assert e.value.status == 400


def test_everything_holds_only_that_patients_data(reader: FhirReader) -> None:
    bundle = reader.everything("1")
    assert validation_error(bundle) is None
    kinds: dict[str, int] = {}
    for e in bundle["entry"]:
        r = e["resource"]
        kinds[r["resourceType"]] = kinds.get(r["resourceType"], 0) + 1
        for ref in (r.get("subject"), r.get("patient")):
            if ref:
                assert ref["reference"] == "Patient/1"
    assert kinds == {"Patient": 1, "Organization": 1, "EpisodeOfCare": 1, "Condition": 1,
                     "Observation": 3, "MedicationRequest": 2, "Encounter": 1,
                     "Appointment": 1}
    assert bundle["entry"][0]["resource"]["resourceType"] == "Patient"


def test_observation_search_by_patient_and_code(reader: FhirReader) -> None:
    found = reader.observations("Patient/1", "http://snomed.info/sct|72313002")
    assert [e["resource"]["valueQuantity"]["value"] for e in found["entry"]] == [142.0, 142.0]
    assert reader.observations("1")["total"] == 3  # the hypertension diagnosis is a Condition
    with pytest.raises(FhirError) as e:
        reader.observations("Patient/1", "http://loinc.org|8480-6")
    assert e.value.status == 400


def test_an_import_report_becomes_a_valid_operation_outcome(tmp_path) -> None:
    from pcn.fhir.outcome import rejections_outcome
    from pcn.ingest.fhir import ingest_fhir

    f = tmp_path / "Patient.ndjson"
    f.write_text('{"resourceType": "Patient", "gender": "female"}\nnot json\n')
    report = ingest_fhir([f], tmp_path / "rec", validation="fast")
    outcome = rejections_outcome(report.rejected)
    assert validation_error(outcome) is None
    assert [i["expression"] for i in outcome["issue"]] == [["Patient.identifier"], ["$"]]
    assert "line 2" in outcome["issue"][1]["diagnostics"]
