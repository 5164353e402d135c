"""FHIR import from other systems' shapes: bundles, references, BP panels, rejections."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pcn.ingest.fhir import ingest_fhir
from pcn.ingest.merge import merge_into_record, read_table, rows_to_table
from pcn.ingest.patient_ids import derived_patient_id
from pcn.record import open_record
from pcn.record.nhs_number import synthetic_numbers
from pcn.record.store import RecordError

NHS = [str(n) for n in synthetic_numbers(100, 3)]
PRACTICE = "A81016"  # Park Surgery, in the reference data


def patient(uuid: str, nhs: str, **extra: object) -> dict:
    return {"fullUrl": f"urn:uuid:{uuid}", "resource": {
        "resourceType": "Patient", "id": uuid,
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
        "gender": "female", "birthDate": "1960-02-29", **extra},
        "request": {"method": "POST", "url": "Patient"}}


def entry(resource: dict) -> dict:
    return {"resource": resource, "request": {"method": "POST",
                                              "url": resource["resourceType"]}}


def bundle(*entries: dict, kind: str = "transaction") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def write(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc))
    return path


def bp_panel(subject: str, systolic: object, unit: str = "mm[Hg]") -> dict:
    def comp(loinc: str, value: object) -> dict:
        return {"code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                "valueQuantity": {"value": value, "unit": "mmHg",
                                  "system": "http://unitsofmeasure.org", "code": unit}}
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "subject": {"reference": subject}, "effectiveDateTime": "2024-03-05T10:20:00Z",
            "component": [comp("8480-6", systolic), comp("8462-4", 81)]}


ORG = entry({"resourceType": "Organization", "id": "org1",
             "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code",
                             "value": PRACTICE}], "name": "Park Surgery"})


def test_transaction_bundle_with_uuid_references_loads_bp_panel_as_two_snomed_events(
        tmp_path: Path) -> None:
    doc = bundle(ORG, patient("p1", NHS[0]), entry(bp_panel("urn:uuid:p1", 138)),
                 entry({"resourceType": "EpisodeOfCare", "status": "active",
                        "patient": {"reference": "urn:uuid:p1"},
                        "managingOrganization": {"reference": "Organization/org1"},
                        "period": {"start": "2001-01-01"}}))
    report = ingest_fhir([write(tmp_path / "b.json", doc)], tmp_path / "rec")
    assert report.rejected == []
    rec = open_record(tmp_path / "rec")
    pid = derived_patient_id(NHS[0])
    events = read_table(rec, "clinical_events").to_pylist()
    assert sorted((e["snomed_code"], e["numeric_value"]) for e in events) == [
        ("1091811000000102", 81.0), ("72313002", 138.0)]
    assert {e["patient_id"] for e in events} == {pid}
    # the practice's PCN and hierarchy came from the reference data
    practice = read_table(rec, "practices").to_pylist()[0]
    assert (practice["pcn_code"], practice["icb_code"]) == ("U55830", "QHM")
    assert read_table(rec, "registrations").to_pylist()[0]["practice_code"] == PRACTICE


def test_rejections_name_file_entry_element_and_reason(tmp_path: Path) -> None:
    doc = bundle(
        ORG,
        patient("p1", NHS[0]),
        patient("p2", "9990000001"),  # fails modulus 11
        patient("p3", NHS[2], gender="other"),
        entry(bp_panel("urn:uuid:p1", 138, unit="kPa")),
        entry({"resourceType": "Condition", "code": {"coding": [
            {"system": "http://snomed.info/sct", "code": "10725009"}]},
            "subject": {"reference": "Patient/nobody"}, "onsetDateTime": "2020-01-01"}),
        entry({"resourceType": "Immunization", "status": "completed"}),
        kind="collection")
    report = ingest_fhir([write(tmp_path / "mixed.json", doc)], tmp_path / "rec",
                         validation="fast")
    got = {(r.location, r.element): r.why for r in report.rejected}
    assert set(got) == {
        ("entry 2", "Patient.identifier.value"), ("entry 3", "Patient.gender"),
        ("entry 4", "Observation.component[0].valueQuantity.code"),
        ("entry 5", "Condition.subject"), ("entry 6", "resourceType")}
    assert "modulus 11" in got[("entry 2", "Patient.identifier.value")]
    assert "kPa" in got[("entry 4", "Observation.component[0].valueQuantity.code")]
    assert all(r.source == "mixed.json" for r in report.rejected)
    assert report.loaded["Patient"] == 1


def test_full_validation_rejects_what_the_model_rejects(tmp_path: Path) -> None:
    bad = patient("p1", NHS[0], birthDate="1960-02-30")
    report = ingest_fhir([write(tmp_path / "b.json", bundle(bad))], tmp_path / "rec")
    assert [(r.element) for r in report.rejected] == ["Patient.birthDate"]
    assert not (tmp_path / "rec" / "current").exists()


def test_ndjson_reports_line_numbers_and_keeps_good_lines(tmp_path: Path) -> None:
    good = patient("p1", NHS[0])["resource"]
    f = tmp_path / "Patient.ndjson"
    f.write_text(json.dumps(good) + "\n{not json\n[1, 2]\n")
    report = ingest_fhir([f], tmp_path / "rec")
    assert [(r.location, r.why.split(":")[0]) for r in report.rejected] == [
        ("line 2", "invalid JSON"), ("line 3", "a line must hold one JSON object")]
    assert read_table(open_record(tmp_path / "rec"), "patients").num_rows == 1


def test_strict_load_writes_nothing_when_anything_is_rejected(tmp_path: Path) -> None:
    doc = bundle(patient("p1", NHS[0]), patient("p2", "123"))
    report = ingest_fhir([write(tmp_path / "b.json", doc)], tmp_path / "rec", strict=True)
    assert report.skipped == 1 and not (tmp_path / "rec" / "current").exists()


def test_a_later_load_updates_a_patient_and_keeps_the_id(tmp_path: Path) -> None:
    first = bundle(patient("p1", NHS[0]))
    ingest_fhir([write(tmp_path / "a.json", first)], tmp_path / "rec")
    died = bundle(patient("other-id", NHS[0], deceasedDateTime="2025-01-02"))
    ingest_fhir([write(tmp_path / "b.json", died)], tmp_path / "rec")
    rows = read_table(open_record(tmp_path / "rec"), "patients").to_pylist()
    assert len(rows) == 1
    assert rows[0]["patient_id"] == derived_patient_id(NHS[0])
    assert str(rows[0]["date_of_death"]) == "2025-01-02"


@pytest.mark.parametrize("kind", ["document", "message", "history"])
def test_unsupported_bundle_types_are_refused_with_the_reason(tmp_path: Path, kind: str) -> None:
    report = ingest_fhir([write(tmp_path / "b.json", bundle(patient("p", NHS[0]), kind=kind))],
                         tmp_path / "rec")
    assert [r.element for r in report.rejected] == ["Bundle.type"]
    assert kind in report.rejected[0].why


def test_registration_at_an_unknown_practice_is_skipped_not_published(tmp_path: Path) -> None:
    ingest_fhir([write(tmp_path / "a.json", bundle(patient("p1", NHS[0])))], tmp_path / "rec")
    before = open_record(tmp_path / "rec").manifest.content_hash
    # a registration at a practice the record does not hold: the merge refuses to publish
    orphan = bundle(patient("p2", NHS[1]), entry({
        "resourceType": "EpisodeOfCare", "status": "active",
        "patient": {"reference": "urn:uuid:p2"},
        "managingOrganization": {"identifier": {
            "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y99999"}},
        "period": {"start": "2020-01-01"}}))
    report = ingest_fhir([write(tmp_path / "b.json", orphan)], tmp_path / "rec")
    assert report.rejected and "not a network practice" in report.rejected[0].why
    assert open_record(tmp_path / "rec").manifest.content_hash != before  # p2 itself loaded
    assert read_table(open_record(tmp_path / "rec"), "registrations").num_rows == 0
    assert not list((tmp_path / "rec").glob(".staging-*"))


def test_a_refused_merge_leaves_the_previous_record_and_no_staging(tmp_path: Path) -> None:
    ingest_fhir([write(tmp_path / "a.json", bundle(patient("p1", NHS[0])))], tmp_path / "rec")
    before = open_record(tmp_path / "rec")
    events = rows_to_table("clinical_events", [(12345, dt.date(2020, 1, 1), "10725009", None)])
    with pytest.raises(RecordError, match="patients not in the record"):
        merge_into_record(tmp_path / "rec", {"clinical_events": events}, source={})
    after = open_record(tmp_path / "rec")
    assert after.path == before.path
    assert after.manifest.content_hash == before.manifest.content_hash
    assert not list((tmp_path / "rec").glob(".staging-*"))


@pytest.mark.parametrize(("instant", "local"), [
    ("2025-07-01T08:00:00Z", "2025-07-01 09:00:00"),        # UTC from a foreign system -> BST
    ("2025-07-01T09:00:00+01:00", "2025-07-01 09:00:00"),   # UK local as written
    ("2025-01-06T09:10:00+00:00", "2025-01-06 09:10:00"),
    ("2025-03-30T01:30:00+00:00", "2025-03-30 01:30:00"),   # in the spring-forward gap
    ("2025-01-06T09:10:00", "2025-01-06 09:10:00"),         # no zone: taken as local
])
def test_appointment_instants_become_uk_wall_clock_times(instant: str, local: str) -> None:
    from pcn.fhir.inbound import _local_datetime

    assert str(_local_datetime(instant, "Appointment.start")) == local
