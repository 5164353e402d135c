"""The network record -> FHIR R4 (UK Core) resources, streamed as Bulk Data NDJSON.

One file per resource type (``Patient.ndjson``, ``Observation.ndjson`` ...) plus a Bulk Data
style ``manifest.json``. Tables are read batch by batch so memory stays bounded on an ICS-sized
record. ``inbound`` is the exact inverse: docs/reference/fhir.md lists the element for each column.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from pcn.fhir import systems as S
from pcn.record.store import Record

if TYPE_CHECKING:
    from pcn.fhir.deidentify import Deidentifier

LONDON = ZoneInfo("Europe/London")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _meta(rtype: str) -> dict[str, Any]:
    return {"profile": [S.PROFILES[rtype]]}


def fhir_id(value: str) -> str:
    """A valid FHIR logical id for an arbitrary string key (kept as-is when already valid)."""
    if _FHIR_ID.match(value):
        return value
    from pcn.fhir.inbound import stable_int63

    return f"h{stable_int63(value)}"


def _coding(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _patient_ref(pid: int) -> dict[str, str]:
    return {"reference": f"Patient/{pid}"}


def _ods(code: str) -> dict[str, str]:
    return {"system": S.ODS_CODE, "value": code}


def _columns(batch: pa.RecordBatch | pa.Table) -> dict[str, list[Any]]:
    """Columns as Python lists, dates/timestamps already ISO strings (vectorised)."""
    out: dict[str, list[Any]] = {}
    for name in batch.schema.names:
        col = batch.column(name)
        if pa.types.is_date32(col.type):
            col = col.cast(pa.string())
        out[name] = col.to_pylist()
    return out


def _rows(record: Record, table: str,
          exclude: frozenset[int] = frozenset()) -> Iterator[dict[str, list[Any]]]:
    """Column batches of a table; rows of ``exclude``d patients left out (secondary use)."""
    if table not in record.manifest.tables:
        return
    left_out = pa.array(sorted(exclude), pa.int64()) if exclude else None
    for batch in record.iter_batches(table, batch_size=65_536):
        if left_out is not None and "patient_id" in batch.schema.names:
            batch = batch.filter(pc.invert(pc.is_in(batch.column("patient_id"),
                                                    value_set=left_out)))
        yield _columns(batch)


def organizations(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    for c in _rows(record, "practices", exclude):
        for code, name, pcn, pcn_name, sub_icb, icb, region, postcode, lsoa in zip(
                *c.values(), strict=True):
            hier = [{"url": "pcn", "valueIdentifier": _ods(pcn)},
                    {"url": "pcnName", "valueString": pcn_name}]
            for key, val in (("subIcb", sub_icb), ("icb", icb), ("region", region)):
                if val is not None:
                    hier.append({"url": key, "valueIdentifier": _ods(val)})
            org: dict[str, Any] = {
                "resourceType": "Organization", "id": fhir_id(code), "meta": _meta("Organization"),
                "extension": [{"url": S.EXT_ORG_HIERARCHY, "extension": hier}],
                "identifier": [_ods(code)], "active": True, "name": name,
                "partOf": {"identifier": _ods(pcn), "display": pcn_name},
            }
            if postcode is not None or lsoa is not None:
                addr: dict[str, Any] = {}
                if lsoa is not None:
                    addr["extension"] = [{"url": S.EXT_LSOA, "valueCode": lsoa}]
                if postcode is not None:
                    addr["postalCode"] = postcode
                org["address"] = [addr]
            yield org


def patients(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    for c in _rows(record, "patients", exclude):
        for pid, nhs, dob, sex, eth, lsoa, death in zip(*c.values(), strict=True):
            p: dict[str, Any] = {
                "resourceType": "Patient", "id": str(pid), "meta": _meta("Patient"),
                "identifier": [{"system": S.NHS_NUMBER, "value": nhs},
                               {"use": "secondary", "system": S.PATIENT_ID, "value": str(pid)}],
                "gender": S.SEX_TO_GENDER[sex], "birthDate": dob,
            }
            if eth is not None:
                p["extension"] = [{"url": S.ETHNIC_CATEGORY_EXT,
                                   "valueCodeableConcept": _coding(S.SNOMED, eth)}]
            if death is not None:
                p["deceasedDateTime"] = death
            if lsoa is not None:
                p["address"] = [{"extension": [{"url": S.EXT_LSOA, "valueCode": lsoa}]}]
            yield p


def episodes_of_care(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    n = 0
    for c in _rows(record, "registrations", exclude):
        for pid, practice, start, end in zip(*c.values(), strict=True):
            n += 1
            period = {"start": start} if end is None else {"start": start, "end": end}
            yield {
                "resourceType": "EpisodeOfCare", "id": f"reg-{n}", "meta": _meta("EpisodeOfCare"),
                "status": "active" if end is None else "finished",
                "type": [_coding(S.CS_REGISTRATION, S.REGISTRATION_TYPE)],
                "patient": _patient_ref(pid),
                "managingOrganization": {"reference": f"Organization/{fhir_id(practice)}",
                                         "identifier": _ods(practice)},
                "period": period,
            }


def practitioners(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    for c in _rows(record, "staff", exclude):
        for cid in c["clinician_id"]:
            yield {"resourceType": "Practitioner", "id": fhir_id(cid),
                   "meta": _meta("Practitioner"),
                   "identifier": [{"system": S.CLINICIAN_ID, "value": cid}]}


def practitioner_roles(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    for c in _rows(record, "staff", exclude):
        for cid, practice, pcn, role, arrs, wte, start, end in zip(*c.values(), strict=True):
            period = {"start": start} if end is None else {"start": start, "end": end}
            yield {
                "resourceType": "PractitionerRole", "id": fhir_id(cid),
                "meta": _meta("PractitionerRole"),
                "extension": [{"url": S.EXT_PCN, "valueIdentifier": _ods(pcn)},
                              {"url": S.EXT_ARRS, "valueBoolean": arrs},
                              {"url": S.EXT_WTE, "valueDecimal": wte}],
                "active": end is None,
                "period": period,
                "practitioner": {"reference": f"Practitioner/{fhir_id(cid)}",
                                 "identifier": {"system": S.CLINICIAN_ID, "value": cid}},
                "organization": {"identifier": _ods(practice if practice is not None else pcn)},
                "code": [_coding(S.CS_ROLE, role)],
            }


def clinical_events(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    """Diagnosis codes (DIAGNOSIS_CODELISTS) without a value -> Condition; all else Observation."""
    diagnoses = S.diagnosis_codes()
    units = S.standard_units()
    n = 0
    for c in _rows(record, "clinical_events", exclude):
        for pid, date, code, value in zip(*c.values(), strict=True):
            n += 1
            if value is None and code in diagnoses:
                yield {"resourceType": "Condition", "id": f"ev-{n}", "meta": _meta("Condition"),
                       "code": _coding(S.SNOMED, code), "subject": _patient_ref(pid),
                       "onsetDateTime": date}
                continue
            obs: dict[str, Any] = {
                "resourceType": "Observation", "id": f"ev-{n}", "meta": _meta("Observation"),
                "status": "final", "code": _coding(S.SNOMED, code),
                "subject": _patient_ref(pid), "effectiveDateTime": date,
            }
            if value is not None:
                unit = units.get(code)
                q: dict[str, Any] = {"value": value}
                if unit is not None:
                    q.update(unit=unit, system=S.UCUM, code=unit)
                obs["valueQuantity"] = q
            yield obs


def medication_requests(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    n = 0
    for c in _rows(record, "medications", exclude):
        for pid, date, code, qty in zip(*c.values(), strict=True):
            n += 1
            m: dict[str, Any] = {
                "resourceType": "MedicationRequest", "id": f"med-{n}",
                "meta": _meta("MedicationRequest"), "status": "completed", "intent": "order",
                "medicationCodeableConcept": _coding(S.DMD, code),
                "subject": _patient_ref(pid), "authoredOn": date,
            }
            if qty is not None:
                m["dispenseRequest"] = {"quantity": {"value": qty}}
            yield m


def _icd10_dotted(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def encounters(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    n = 0
    for c in _rows(record, "hospital_activity", exclude):
        for pid, kind, start, end, icd in zip(*c.values(), strict=True):
            n += 1
            e: dict[str, Any] = {
                "resourceType": "Encounter", "id": f"hosp-{n}", "meta": _meta("Encounter"),
                "status": "finished",
                "class": {"system": S.V3_ACT_CODE, "code": S.HOSPITAL_CLASS_OUT[kind]},
                "type": [_coding(S.CS_HOSPITAL_KIND, kind)],
                "subject": _patient_ref(pid),
                "period": {"start": start} if end is None else {"start": start, "end": end},
            }
            if kind == "emergency_admission":
                e["priority"] = _coding(S.V3_ACT_PRIORITY, "EM")
            if icd is not None:
                e["reasonCode"] = [_coding(S.ICD10, _icd10_dotted(icd))]
            yield e


def _instant(t: dt.datetime) -> str:
    return t.replace(tzinfo=LONDON).isoformat()


def appointments(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    for c in _rows(record, "appointments", exclude):
        for aid, pid, practice, cid, role, mode, start, status in zip(*c.values(), strict=True):
            yield {
                "resourceType": "Appointment", "id": str(aid), "meta": _meta("Appointment"),
                "extension": [{"url": S.EXT_PRACTICE, "valueIdentifier": _ods(practice)},
                              {"url": S.EXT_APPOINTMENT_MODE, "valueCode": mode}],
                "identifier": [{"system": S.APPOINTMENT_ID, "value": str(aid)}],
                "status": S.APPOINTMENT_STATUS_OUT[status],
                "start": _instant(start),
                "participant": [
                    {"actor": _patient_ref(pid), "status": "accepted"},
                    {"type": [_coding(S.CS_ROLE, role)],
                     "actor": {"reference": f"Practitioner/{fhir_id(cid)}",
                               "identifier": {"system": S.CLINICIAN_ID, "value": cid}},
                     "status": "accepted"},
                ],
            }


def locations(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    """The ``lsoa`` reference table: one Location (kind, area) per LSOA, values carried."""
    for c in _rows(record, "lsoa", exclude):
        for code, decile, rank, rural, lon, lat in zip(*c.values(), strict=True):
            ext = []
            if decile is not None:
                ext.append({"url": S.EXT_IMD_DECILE, "valueInteger": decile})
            if rank is not None:
                ext.append({"url": S.EXT_IMD_RANK, "valueInteger": rank})
            if rural is not None:
                ext.append({"url": S.EXT_RURAL_URBAN, "valueCode": rural})
            loc: dict[str, Any] = {
                "resourceType": "Location", "id": fhir_id(code), "meta": _meta("Location"),
                "identifier": [{"system": S.ONS_GEOGRAPHY, "value": code}],
                "name": code, "mode": "kind",
                "physicalType": _coding(S.LOCATION_PHYSICAL_TYPE, "area"),
            }
            if ext:
                loc["extension"] = ext
            if lon is not None and lat is not None:
                loc["position"] = {"longitude": lon, "latitude": lat}
            yield loc


#: Output files in the order they are written (a reader can load them in this order too).
GENERATORS = (
    ("Location", locations),
    ("Organization", organizations),
    ("Patient", patients),
    ("Practitioner", practitioners),
    ("PractitionerRole", practitioner_roles),
    ("EpisodeOfCare", episodes_of_care),
    ("clinical", clinical_events),
    ("MedicationRequest", medication_requests),
    ("Encounter", encounters),
    ("Appointment", appointments),
)


def iter_resources(record: Record, exclude: frozenset[int] = frozenset()
         ) -> Iterator[dict[str, Any]]:
    for _, gen in GENERATORS:
        yield from gen(record, exclude)


def export_ndjson(record: Record, out_dir: Path, progress: Any = None,
                  exclude: frozenset[int] = frozenset(),
                  deidentify: Deidentifier | None = None,
                  extra: Iterable[dict[str, Any]] = ()) -> dict[str, int]:
    """Write one NDJSON file per resource type into ``out_dir`` (replaced atomically), leaving
    out every resource of the ``exclude``d patients (:mod:`pcn.access.secondary_use`); with
    ``deidentify`` every resource is de-identified for secondary use (ADR 0093). ``extra``:
    further resources written after the record's (e.g. CarePlan and Task from the store)."""
    out_dir = Path(out_dir)
    staging = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    counts: dict[str, int] = {}
    handles: dict[str, IO[bytes]] = {}
    done = 0
    try:
        for gen in [*(g for _, g in GENERATORS), lambda _r, _x: extra]:
            for made in gen(record, exclude):
                res = deidentify.resource(made) if deidentify is not None else made
                if res is None:
                    continue
                rtype = res["resourceType"]
                fh = handles.get(rtype)
                if fh is None:
                    fh = handles[rtype] = (staging / f"{rtype}.ndjson").open("wb")
                fh.write(orjson.dumps(res))
                fh.write(b"\n")
                counts[rtype] = counts.get(rtype, 0) + 1
                done += 1
                if progress is not None and done % 10_000 == 0:
                    progress(10_000)
        if progress is not None:
            progress(done % 10_000)
        for fh in handles.values():
            fh.close()
        manifest = {
            "transactionTime": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "request": f"pcn export fhir (record {record.manifest.content_hash[:16]})",
            "deidentified": None if deidentify is None else {
                "purpose": deidentify.purpose, "pseudonyms": "HMAC-SHA256, keyed",
                "dates": "month", "small_areas": deidentify.small_areas},
            "requiresAccessToken": False,
            "output": [{"type": t, "url": f"{t}.ndjson", "count": n}
                       for t, n in sorted(counts.items())],
            "error": [],
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    except BaseException:
        for fh in handles.values():
            fh.close()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts
