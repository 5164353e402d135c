"""Record -> FHIR -> record is exact; exports validate; loads are idempotent."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pcn.fhir import systems as S
from pcn.fhir.outbound import export_ndjson
from pcn.fhir.validation import validation_error
from pcn.ingest.fhir import ingest_fhir
from pcn.record import open_record
from pcn.record.check import check_record
from tests.fhir.records import small_tables, write_record

FHIR_TABLES = ("practices", "patients", "registrations", "clinical_events", "medications", "lsoa",
               "appointments", "staff", "hospital_activity")


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path]:
    rec = write_record(tmp_path / "source", small_tables())
    export_ndjson(rec, tmp_path / "fhir")
    return tmp_path / "source", tmp_path / "fhir"


@pytest.mark.parametrize("validation", ["full", "fast"])
def test_round_trip_reproduces_every_table_exactly(exported: tuple[Path, Path], tmp_path: Path,
                                                   validation: str) -> None:
    source, fhir = exported
    report = ingest_fhir([fhir], tmp_path / "copy", validation=validation)  # type: ignore[arg-type]
    assert report.rejected == []
    a, b = open_record(source).manifest, open_record(tmp_path / "copy").manifest
    for table in (*FHIR_TABLES, "lsoa"):
        assert a.tables[table].content_hash == b.tables[table].content_hash, table
    assert a.tables["clinical_events"].rows == 8  # the repeated identical reading survived
    # the copy passes every record check the source passes
    copy = check_record(open_record(tmp_path / "copy")).problems
    problems = {str(p).split(":")[0] for p in copy}
    expected = {str(p).split(":")[0] for p in check_record(open_record(source)).problems}
    assert problems == expected


def test_every_exported_resource_validates_and_names_its_uk_core_profile(
        exported: tuple[Path, Path]) -> None:
    _, fhir = exported
    seen = set()
    for f in fhir.glob("*.ndjson"):
        for line in f.read_bytes().splitlines():
            res = orjson.loads(line)
            assert validation_error(res) is None, (f.name, res)
            assert res["meta"]["profile"] == [S.PROFILES[res["resourceType"]]]
            seen.add(res["resourceType"])
    assert seen == {"Organization", "Patient", "Practitioner", "PractitionerRole",
                    "EpisodeOfCare", "Condition", "Observation", "MedicationRequest",
                    "Encounter", "Appointment", "Location"}


def test_export_uses_snomed_dmd_icd10_and_nhs_number_systems(exported: tuple[Path, Path]) -> None:
    _, fhir = exported

    def first(rtype: str) -> dict:
        return orjson.loads((fhir / f"{rtype}.ndjson").read_bytes().splitlines()[0])

    patient = first("Patient")
    assert patient["identifier"][0]["system"] == "https://fhir.nhs.uk/Id/nhs-number"
    assert first("Observation")["code"]["coding"][0]["system"] == "http://snomed.info/sct"
    med = first("MedicationRequest")
    assert med["medicationCodeableConcept"]["coding"][0]["system"] == "https://dmd.nhs.uk"
    encounters = [orjson.loads(x) for x in (fhir / "Encounter.ndjson").read_bytes().splitlines()]
    codes = {c["coding"][0]["code"] for e in encounters for c in e.get("reasonCode", [])}
    assert codes == {"I50.0", "S72.00", "E11"}


def test_blood_pressure_values_carry_ucum_mmhg(exported: tuple[Path, Path]) -> None:
    _, fhir = exported
    obs = [orjson.loads(x) for x in (fhir / "Observation.ndjson").read_bytes().splitlines()]
    bp = [o for o in obs if o["code"]["coding"][0]["code"] == "72313002"]
    assert bp and all(o["valueQuantity"]["code"] == "mm[Hg]" for o in bp)
    assert {o["valueQuantity"]["value"] for o in bp} == {142.0}


def test_loading_the_same_export_twice_changes_nothing(exported: tuple[Path, Path],
                                                      tmp_path: Path) -> None:
    _, fhir = exported
    first = ingest_fhir([fhir], tmp_path / "r", validation="fast")
    snapshots = sorted(p.name for p in (tmp_path / "r" / "snapshots").iterdir())
    second = ingest_fhir([fhir], tmp_path / "r", validation="fast")
    assert first.changed and not second.changed
    assert first.content_hash == second.content_hash
    assert sorted(p.name for p in (tmp_path / "r" / "snapshots").iterdir()) == snapshots


def test_appointment_times_survive_daylight_saving(exported: tuple[Path, Path]) -> None:
    _, fhir = exported
    appts = {a["id"]: a for a in map(orjson.loads,
                                     (fhir / "Appointment.ndjson").read_bytes().splitlines())}
    assert appts["1001"]["start"] == "2025-01-06T09:10:00+00:00"  # GMT
    assert appts["1002"]["start"] == "2025-07-01T14:30:00+01:00"  # BST


def test_parallel_second_pass_over_split_files_gives_the_same_record_and_line_numbers(
        exported: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.ingest import fhir as loader

    source, fhir = exported
    obs = fhir / "Observation.ndjson"
    lines = obs.read_bytes().splitlines()
    obs.write_bytes(b"\n".join([*lines[:5], b"{broken", *lines[5:]]) + b"\n")
    monkeypatch.setattr(loader, "CHUNK_BYTES", 400)  # several jobs per file
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    report = ingest_fhir([fhir], tmp_path / "copy", validation="fast", workers=2)
    assert [(r.source, r.location) for r in report.rejected] == [("Observation.ndjson",
                                                                  "line 6")]
    a, b = open_record(source).manifest, open_record(tmp_path / "copy").manifest
    for table in FHIR_TABLES:
        assert a.tables[table].content_hash == b.tables[table].content_hash, table
