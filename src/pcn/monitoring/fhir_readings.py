"""Home readings from FHIR R4 Observations (vital-signs profile): the blood pressure panel
(LOINC 85354-9 with components 8480-6 systolic and 8462-4 diastolic, optionally 8867-4 heart
rate), body weight (29463-7, kg) and oxygen saturation (59408-5, %). Each resource is validated
with ``fhir.resources`` (R4B) before anything is taken in; the subject is the NHS number (matched
to the record) or ``Patient/<record id>``."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pcn.fhir.systems import LOINC, NHS_NUMBER
from pcn.monitoring.readings import OtherReading, ReadingError, parse_row, parse_taken_at
from pcn.monitoring.series import BpReading
from pcn.record.store import Record

BP_PANEL, SYSTOLIC, DIASTOLIC, HEART_RATE = "85354-9", "8480-6", "8462-4", "8867-4"
WEIGHT, SPO2 = "29463-7", "59408-5"


def _loinc(concept: dict[str, Any] | None) -> set[str]:
    return {
        c.get("code", "") for c in (concept or {}).get("coding", []) if c.get("system") == LOINC
    }


def _resources(data: dict[str, Any]) -> list[dict[str, Any]]:
    if data.get("resourceType") == "Bundle":
        return [e.get("resource", {}) for e in data.get("entry", [])]
    return [data]


def _patient(obs: dict[str, Any], by_nhs: dict[str, int]) -> int:
    subject = obs.get("subject") or {}
    ident = subject.get("identifier") or {}
    if ident.get("system") == NHS_NUMBER:
        number = str(ident.get("value", "")).replace(" ", "")
        if number not in by_nhs:
            raise ValueError("subject: NHS number not in this record")
        return by_nhs[number]
    ref = str(subject.get("reference", ""))
    if ref.startswith("Patient/") and ref.removeprefix("Patient/").isdigit():
        return int(ref.removeprefix("Patient/"))
    raise ValueError("subject: give the NHS number identifier or Patient/<id>")


def parse_observations(
    data: dict[str, Any], record: Record
) -> tuple[list[BpReading], list[OtherReading]]:
    from fhir.resources.R4B.observation import Observation

    people = record.read("patients", ["patient_id", "nhs_number"])
    by_nhs = dict(
        zip(people["nhs_number"].to_pylist(), people["patient_id"].to_pylist(), strict=True)
    )
    bps: list[BpReading] = []
    others: list[OtherReading] = []
    problems: list[str] = []
    for number, obs in enumerate(_resources(data), start=1):
        label = f"resource {number}"
        if obs.get("resourceType") != "Observation":
            problems.append(f"{label}: resourceType: expected Observation")
            continue
        try:
            Observation.model_validate(obs)
        except ValidationError as e:
            first = e.errors()[0]
            problems.append(f"{label}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
            continue
        try:
            if obs.get("status") in ("entered-in-error", "cancelled"):
                continue
            pid = _patient(obs, by_nhs)
            when_text = obs.get("effectiveDateTime")
            if not when_text:
                raise ValueError("effectiveDateTime: missing")
            taken = parse_taken_at(str(when_text))
            codes = _loinc(obs.get("code"))
            if BP_PANEL in codes:
                parts = {
                    c: comp.get("valueQuantity", {}).get("value")
                    for comp in obs.get("component", [])
                    for c in _loinc(comp.get("code"))
                }
                bps.append(
                    parse_row(
                        {
                            "patient_id": str(pid),
                            "taken_at": taken.isoformat(),
                            "systolic": str(parts.get(SYSTOLIC) or ""),
                            "diastolic": str(parts.get(DIASTOLIC) or ""),
                            "pulse": str(parts.get(HEART_RATE) or ""),
                        }
                    )
                )
            elif codes & {WEIGHT, SPO2}:
                value = (obs.get("valueQuantity") or {}).get("value")
                if value is None:
                    raise ValueError("valueQuantity: missing")
                kind = "weight" if WEIGHT in codes else "spo2"
                bounds = (20, 400) if kind == "weight" else (50, 100)
                if not bounds[0] <= float(value) <= bounds[1]:
                    raise ValueError(f"valueQuantity: {value} is outside {bounds[0]}–{bounds[1]}")
                others.append(OtherReading(pid, kind, taken, Fraction(str(value))))
            else:
                raise ValueError(f"code: not one of LOINC {BP_PANEL}, {WEIGHT}, {SPO2}")
        except ValueError as e:
            problems.append(f"{label}: {e}")
    if problems:
        raise ReadingError("nothing imported; " + "; ".join(problems[:10]))
    return bps, others


def read_fhir_file(path: Path, record: Record) -> tuple[list[BpReading], list[OtherReading]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ReadingError(f"cannot read {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise ReadingError(f"{path.name} is not JSON (line {e.lineno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise ReadingError(f"{path.name}: expected a FHIR Bundle or Observation")
    return parse_observations(data, record)
