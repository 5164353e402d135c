"""Hypothesis throws malformed bundles at the import: each gets a reason, none crashes, and a
strict load with any rejection writes nothing."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pcn.ingest.fhir import ingest_fhir
from pcn.record.nhs_number import synthetic_numbers

NHS = str(synthetic_numbers(42, 1)[0])


def valid_bundle() -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:p", "resource": {
            "resourceType": "Patient", "id": "p", "gender": "male", "birthDate": "1950-01-01",
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS}]}},
        {"resource": {
            "resourceType": "Observation", "status": "final",
            "subject": {"reference": "urn:uuid:p"},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "72313002"}]},
            "effectiveDateTime": "2024-01-01",
            "valueQuantity": {"value": 120, "code": "mm[Hg]",
                              "system": "http://unitsofmeasure.org"}}},
        {"resource": {
            "resourceType": "MedicationRequest", "status": "completed", "intent": "order",
            "subject": {"reference": "Patient/p"}, "authoredOn": "2024-02-02",
            "medicationCodeableConcept": {"coding": [{"system": "https://dmd.nhs.uk",
                                                      "code": "34953211000001105"}]}}},
    ]}


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


@st.composite
def malformed(draw: st.DrawFn) -> bytes:
    doc = valid_bundle()
    for _ in range(draw(st.integers(1, 3))):
        targets = [p for p in paths(doc) if p]
        if not targets:
            break
        path = draw(st.sampled_from(targets))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(junk)
    text = json.dumps(doc).encode()
    if draw(st.integers(0, 9)) == 0:  # sometimes not even JSON
        text = text[: draw(st.integers(0, len(text) - 1))]
    return text


#: `make test` runs 120 cases; benchmarks/fuzz_fhir.py runs the same test with 10,000 (TRUST 13).
EXAMPLES = int(os.environ.get("PCN_FUZZ_EXAMPLES", "120"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=malformed(), ndjson=st.booleans())
def test_malformed_input_is_reported_never_crashes_and_strict_writes_nothing(
        doc: bytes, ndjson: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        if ndjson:
            try:
                entries = json.loads(doc).get("entry", [])
                lines = [json.dumps(e.get("resource") if isinstance(e, dict) else e)
                         for e in entries] if isinstance(entries, list) else [doc.decode()]
            except (ValueError, AttributeError):
                lines = [doc.decode()]
            src = d / "input.ndjson"
            src.write_text("\n".join(lines) + "\n")
        else:
            src = d / "input.json"
            src.write_bytes(doc)
        for validation in ("fast", "full"):
            report = ingest_fhir([src], d / validation, validation=validation,  # type: ignore[arg-type]
                                 strict=True)
            for r in report.rejected:
                assert r.why and r.element and r.source == src.name
            if report.rejected:
                assert not (d / validation / "current").exists()
