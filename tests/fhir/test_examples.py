"""FHIR R4 specification examples (abridged, tests/data/fhir_r4_examples) import or are
rejected with a reason — never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pcn.ingest.fhir import ingest_fhir
from pcn.ingest.merge import read_table
from pcn.record import open_record
from pcn.record.nhs_number import synthetic_numbers

EXAMPLES = Path(__file__).parent.parent / "data" / "fhir_r4_examples"
FILES = sorted(EXAMPLES.glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
@pytest.mark.parametrize("validation", ["full", "fast"])
def test_each_example_loads_or_is_rejected_with_a_reason(path: Path, tmp_path: Path,
                                                         validation: str) -> None:
    report = ingest_fhir([path], tmp_path / "rec", validation=validation)  # type: ignore[arg-type]
    assert report.read == 1
    assert sum(report.loaded.values()) + report.skipped == 1
    for r in report.rejected:
        assert r.source == path.name and r.element and len(r.why) > 10


def test_examples_given_an_nhs_number_load_into_the_record(tmp_path: Path) -> None:
    patient = json.loads((EXAMPLES / "patient-example.json").read_text())
    patient["identifier"].append({"system": "https://fhir.nhs.uk/Id/nhs-number",
                                  "value": str(synthetic_numbers(7, 1)[0])})
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "patient.json").write_text(json.dumps(patient))
    for name in ("observation-example-bloodpressure", "condition-example", "encounter-example",
                 "allergyintolerance-example"):
        (tmp_path / "in" / f"{name}.json").write_text((EXAMPLES / f"{name}.json").read_text())
    report = ingest_fhir([tmp_path / "in"], tmp_path / "rec")
    events = read_table(open_record(tmp_path / "rec"), "clinical_events").to_pylist()
    assert sorted((e["snomed_code"], e["numeric_value"], str(e["date"])) for e in events) == [
        ("1091811000000102", 60.0, "2012-09-17"), ("39065001", None, "2012-05-24"),
        ("72313002", 107.0, "2012-09-17")]
    # the in-progress encounter has no period and the allergy type is not loaded: both reasoned
    assert sorted(r.item.split("/")[0] for r in report.rejected) == [
        "AllergyIntolerance", "Encounter"]
