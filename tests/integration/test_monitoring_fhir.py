"""Home readings as FHIR Observations (issue 22): the BP panel, weight and SpO2 by LOINC, with
the subject by NHS number or record id; a bad resource is named and nothing is written."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.config import get_settings
from pcn.store.database import Store
from pcn.store.models import MonitoringReading
from tests.spec.conftest import _nhs_number, build_record, patient, practice, reg


def bp(subject: dict[str, Any], when: str, sys: float, dia: float) -> dict[str, Any]:
    loinc = "http://loinc.org"
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": loinc, "code": "85354-9"}]},
        "subject": subject,
        "effectiveDateTime": when,
        "component": [
            {
                "code": {"coding": [{"system": loinc, "code": "8480-6"}]},
                "valueQuantity": {"value": sys, "unit": "mmHg"},
            },
            {
                "code": {"coding": [{"system": loinc, "code": "8462-4"}]},
                "valueQuantity": {"value": dia, "unit": "mmHg"},
            },
        ],
    }


def single(
    code: str, subject: dict[str, Any], when: str, value: float, unit: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "subject": subject,
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit},
    }


@pytest.fixture
def world(tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    build_record(
        tmp_path / "record",
        practices=[practice("A00001")],
        patients=[patient(1), patient(2)],
        registrations=[reg(1), reg(2)],
    )
    monkeypatch.setenv("PCN_DATABASE_URL", store.url)
    get_settings.cache_clear()
    yield tmp_path / "record"
    get_settings.cache_clear()


def bundle(path: Path, resources: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": r} for r in resources],
            }
        )
    )
    return path


def test_bp_weight_and_spo2_observations_are_taken_in(
    world: Path, tmp_path: Path, store: Store
) -> None:
    by_nhs = {
        "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": _nhs_number(1)}
    }
    path = bundle(
        tmp_path / "b.json",
        [
            bp(by_nhs, "2026-12-01T08:00:00+00:00", 141, 88),
            bp({"reference": "Patient/2"}, "2026-12-01T09:00:00Z", 190, 100),
            single("29463-7", by_nhs, "2026-12-01T07:00:00Z", 82.4, "kg"),
            single("59408-5", by_nhs, "2026-12-01T07:01:00Z", 96, "%"),
        ],
    )
    result = CliRunner().invoke(
        app, ["monitoring", "import-fhir", "--record", str(world), "--input", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert "1 alert task(s) raised" in result.output  # patient 2's 190/100
    with store.read() as session:
        rows = sorted(
            (r.patient_id, r.kind, r.taken_at, r.systolic, r.diastolic, r.value)
            for r in session.scalars(select(MonitoringReading))
        )
    assert rows == [
        (1, "bp", dt.datetime(2026, 12, 1, 8, 0), 141.0, 88.0, None),
        (1, "spo2", dt.datetime(2026, 12, 1, 7, 1), None, None, 96.0),
        (1, "weight", dt.datetime(2026, 12, 1, 7, 0), None, None, 82.4),
        (2, "bp", dt.datetime(2026, 12, 1, 9, 0), 190.0, 100.0, None),
    ]


def test_a_bad_observation_is_named_and_nothing_is_written(
    world: Path, tmp_path: Path, store: Store
) -> None:
    good = bp({"reference": "Patient/1"}, "2026-12-01T08:00:00Z", 130, 80)
    unknown = bp(
        {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}},
        "2026-12-01T08:00:00Z",
        130,
        80,
    )
    swapped = bp({"reference": "Patient/1"}, "2026-12-02T08:00:00Z", 80, 130)
    path = bundle(tmp_path / "bad.json", [good, unknown, swapped])
    result = CliRunner().invoke(
        app, ["monitoring", "import-fhir", "--record", str(world), "--input", str(path)]
    )
    message = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "resource 2: subject: NHS number not in this record" in message
    assert "resource 3: diastolic: 130 is not below the systolic 80" in message
    with store.read() as session:
        assert session.scalars(select(MonitoringReading)).first() is None
