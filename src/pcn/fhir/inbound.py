"""FHIR R4 resources -> rows of the network record tables.

Each ``map_*`` function takes one resource (a parsed JSON dict) and returns rows for one table, or
raises ``Rejected`` naming the element and why. The mapping is the inverse of ``outbound``: a
record exported by us and imported again gives the same rows (docs/reference/fhir.md lists every
element). Resources from other systems are accepted when they carry what the record needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pcn.fhir import systems as S
from pcn.record.codes import is_digits, is_icd10, is_snomed_id
from pcn.record.nhs_number import is_valid
from pcn.record.vocab import APPOINTMENT_MODES, HOSPITAL_KINDS, ROLES

LONDON = ZoneInfo("Europe/London")
Row = tuple[Any, ...]


class Rejected(Exception):
    """A resource cannot be loaded: ``element`` is the FHIR path, ``why`` the reason."""

    def __init__(self, element: str, why: str) -> None:
        super().__init__(f"{element}: {why}")
        self.element = element
        self.why = why


class Skipped(Rejected):
    """A valid resource deliberately not loaded (e.g. entered-in-error)."""


# --- small typed accessors: each raises Rejected with the path when the shape is wrong --------


def _obj(v: Any, path: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise Rejected(path, "must be a JSON object")
    return v


def _list(v: Any, path: str) -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise Rejected(path, "must be a JSON array")
    return v


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise Rejected(path, "must be a non-empty string")
    return v


def _date(v: Any, path: str, *, required: bool = True) -> dt.date | None:
    """A FHIR date or dateTime, as the calendar date it names (partial dates rejected)."""
    if v is None:
        if required:
            raise Rejected(path, "is required")
        return None
    if not isinstance(v, str) or len(v) < 10:
        raise Rejected(path, f"must be a full date (YYYY-MM-DD), got {v!r}")
    try:
        return dt.date.fromisoformat(v[:10])
    except ValueError:
        raise Rejected(path, f"is not a valid date: {v!r}") from None


def _local_datetime(v: Any, path: str) -> dt.datetime:
    """A FHIR instant as local (Europe/London) wall-clock time without a zone."""
    if not isinstance(v, str):
        raise Rejected(path, "is required (an instant with a time zone)")
    try:
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise Rejected(path, f"is not a valid instant: {v!r}") from None
    if t.tzinfo is not None:
        wall = t.replace(tzinfo=None)
        # written as UK local time (our export, GP systems): keep the wall clock as written, so
        # even times in the spring-forward gap survive; any other offset: convert to UK time
        if wall.replace(tzinfo=LONDON).utcoffset() == t.utcoffset():
            t = wall
        else:
            t = t.astimezone(LONDON).replace(tzinfo=None)
    return t.replace(microsecond=0)


def _number(v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise Rejected(path, f"must be a number, got {v!r}")
    return float(v)


def codings(concept: Any, path: str) -> list[tuple[str | None, str | None]]:
    c = _obj(concept, path)
    out = []
    for i, cd in enumerate(_list(c.get("coding"), f"{path}.coding")):
        cd = _obj(cd, f"{path}.coding[{i}]")
        out.append((cd.get("system"), cd.get("code")))
    return out


@cache
def _snomed_ok(code: str) -> bool:
    return is_snomed_id(code)


def snomed_code(concept: Any, path: str, systems: tuple[str, ...] = (S.SNOMED,)) -> str:
    found = codings(concept, path)
    for system, code in found:
        if system in systems:
            if not isinstance(code, str) or not _snomed_ok(code):
                raise Rejected(f"{path}.coding.code",
                               f"{code!r} is not a valid SNOMED CT identifier (Verhoeff check)")
            return code
    seen = ", ".join(sorted({str(s) for s, _ in found})) or "none"
    raise Rejected(f"{path}.coding", f"no {' or '.join(systems)} coding (systems seen: {seen})")


def _identifier(ids: Any, system: str, path: str) -> str | None:
    for i, ident in enumerate(_list(ids, path)):
        ident = _obj(ident, f"{path}[{i}]")
        if ident.get("system") == system:
            return _str(ident.get("value"), f"{path}[{i}].value")
    return None


def _ext(resource: dict[str, Any], url: str, path: str) -> dict[str, Any] | None:
    for i, e in enumerate(_list(resource.get("extension"), f"{path}.extension")):
        e = _obj(e, f"{path}.extension[{i}]")
        if e.get("url") == url:
            return e
    return None


def _ref_id(ref: Any, rtype: str, path: str) -> str | None:
    """The logical id in a reference like ``Patient/123`` or ``http://x/fhir/Patient/123``."""
    r = _obj(ref, path).get("reference")
    if not isinstance(r, str):
        return None
    parts = r.split("/")
    if len(parts) >= 2 and parts[-2] == rtype:
        return parts[-1]
    return None


def stable_int63(text: str) -> int:
    digest = hashlib.blake2b(text.encode(), digest_size=8, key=b"pcn-fhir-id").digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


# --- the load context: what references resolve to --------------------------------------------


@dataclass
class Context:
    """Lookups built from the first pass (patients, organisations, staff) and the old record."""

    patient_by_ref: dict[str, int] = field(default_factory=dict)  # "Patient/x", fullUrl -> id
    patient_by_nhs: dict[str, int] = field(default_factory=dict)
    patient_ids: set[int] = field(default_factory=set)
    org_by_ref: dict[str, str] = field(default_factory=dict)  # "Organization/x" -> ODS code
    practices: dict[str, str] = field(default_factory=dict)  # practice_code -> pcn_code
    pcn_codes: set[str] = field(default_factory=set)
    clinician_by_ref: dict[str, str] = field(default_factory=dict)  # "Practitioner/x" -> id
    staff: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # id -> (practice, role)

    def patient(self, ref: Any, path: str) -> int:
        r = _obj(ref, path)
        target = r.get("reference")
        if isinstance(target, str):
            if target in self.patient_by_ref:
                return self.patient_by_ref[target]
            pid = _ref_id(r, "Patient", path)
            if pid is not None:
                key = f"Patient/{pid}"
                if key in self.patient_by_ref:
                    return self.patient_by_ref[key]
                if is_digits(pid) and int(pid) in self.patient_ids:
                    return int(pid)
        ident = r.get("identifier")
        if isinstance(ident, dict) and ident.get("system") == S.NHS_NUMBER:
            nhs = ident.get("value")
            if nhs in self.patient_by_nhs:
                return self.patient_by_nhs[nhs]
        raise Rejected(path, f"refers to a patient not in this load or the record ({target!r})")

    def organisation(self, ref: Any, path: str) -> str:
        r = _obj(ref, path)
        ident = r.get("identifier")
        if isinstance(ident, dict) and ident.get("system") == S.ODS_CODE:
            return _str(ident.get("value"), f"{path}.identifier.value")
        target = r.get("reference")
        if isinstance(target, str):
            oid = _ref_id(r, "Organization", path)
            for key in (target, f"Organization/{oid}"):
                if key in self.org_by_ref:
                    return self.org_by_ref[key]
        raise Rejected(path, f"refers to an organisation with no ODS code ({target!r})")

    def clinician(self, ref: Any, path: str) -> str:
        r = _obj(ref, path)
        ident = r.get("identifier")
        if isinstance(ident, dict) and ident.get("system") == S.CLINICIAN_ID:
            return _str(ident.get("value"), f"{path}.identifier.value")
        target = r.get("reference")
        if isinstance(target, str):
            for rtype in ("Practitioner", "PractitionerRole"):
                cid = _ref_id(r, rtype, path)
                if cid is not None:
                    return self.clinician_by_ref.get(target,
                                                     self.clinician_by_ref.get(f"{rtype}/{cid}",
                                                                               cid))
        raise Rejected(path, "refers to no practitioner")


def _skip_status(resource: dict[str, Any], path: str, bad: tuple[str, ...]) -> None:
    status = resource.get("status")
    if isinstance(status, str) and status in bad:
        raise Skipped(f"{path}.status", f"status {status!r} is not loaded")


# --- pass 1: patients, organisations, practitioners -------------------------------------------


@cache
def _refdata_practices() -> dict[str, dict[Any, Any]]:
    from pcn.refdata.places import practices

    p = practices()
    return {str(r["practice_code"]): dict(r) for r in p.to_dict("records")}


def _opt(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def map_organization(r: dict[str, Any]) -> Row:
    """An Organization with an ODS code that is a GP practice -> ``practices`` row."""
    p = "Organization"
    code = _identifier(r.get("identifier"), S.ODS_CODE, f"{p}.identifier")
    if code is None:
        raise Rejected(f"{p}.identifier", f"no ODS code ({S.ODS_CODE})")
    hier = _ext(r, S.EXT_ORG_HIERARCHY, p)
    parts: dict[str, str | None] = {}
    if hier is not None:
        for i, sub in enumerate(_list(hier.get("extension"), f"{p}.extension.extension")):
            sub = _obj(sub, f"{p}.extension.extension[{i}]")
            val = sub.get("valueString") if "valueString" in sub else None
            if "valueIdentifier" in sub:
                val = _obj(sub["valueIdentifier"], f"{p}.extension.extension[{i}]").get("value")
            parts[str(sub.get("url"))] = _opt(val)
    ref = _refdata_practices().get(code)
    pcn_code = parts.get("pcn")
    pcn_name = parts.get("pcnName")
    if pcn_code is None and "partOf" in r:
        part = _obj(r["partOf"], f"{p}.partOf")
        ident = part.get("identifier")
        if isinstance(ident, dict) and ident.get("system") == S.ODS_CODE:
            pcn_code = _opt(ident.get("value"))
            pcn_name = pcn_name or _opt(part.get("display"))
    if pcn_code is None and ref is not None:
        pcn_code, pcn_name = ref["pcn_code"], ref["pcn_name"]
    if pcn_code is None or pcn_name is None:
        raise Skipped(f"{p}.partOf", f"{code} is not a GP practice in a PCN (no partOf PCN and "
                      "not in the reference practice list)")
    name = r.get("name") if isinstance(r.get("name"), str) else (ref or {}).get("practice_name")
    if not name:
        raise Rejected(f"{p}.name", "is required")
    postcode = lsoa = None
    for i, a in enumerate(_list(r.get("address"), f"{p}.address")):
        a = _obj(a, f"{p}.address[{i}]")
        postcode = _opt(a.get("postalCode"))
        e = _ext(a, S.EXT_LSOA, f"{p}.address[{i}]")
        lsoa = _opt(e.get("valueCode")) if e else None
        break
    if hier is None and ref is not None:
        parts = {"subIcb": ref["sub_icb_code"], "icb": ref["icb_code"],
                 "region": ref["region_code"]}
        postcode = postcode or ref["postcode"]
    return (code, name, pcn_code, pcn_name, parts.get("subIcb"), parts.get("icb"),
            parts.get("region"), postcode, lsoa)


def patient_identity(r: dict[str, Any]) -> tuple[str, int | None]:
    """(NHS number, our exported patient_id if present)."""
    p = "Patient"
    nhs = _identifier(r.get("identifier"), S.NHS_NUMBER, f"{p}.identifier")
    if nhs is None:
        raise Rejected(f"{p}.identifier", f"no NHS number ({S.NHS_NUMBER})")
    nhs = nhs.replace(" ", "")
    if not is_valid(nhs):
        raise Rejected(f"{p}.identifier.value", f"NHS number {nhs!r} fails the modulus 11 check")
    explicit = _identifier(r.get("identifier"), S.PATIENT_ID, f"{p}.identifier")
    if explicit is not None and not is_digits(explicit):
        raise Rejected(f"{p}.identifier.value", f"patient-id {explicit!r} is not an integer")
    return nhs, int(explicit) if explicit is not None else None


def map_patient(r: dict[str, Any], patient_id: int, nhs: str) -> Row:
    p = "Patient"
    dob = _date(r.get("birthDate"), f"{p}.birthDate")
    gender = r.get("gender")
    if not isinstance(gender, str) or gender not in S.GENDER_TO_SEX:
        raise Rejected(f"{p}.gender", f"{gender!r} cannot be stored: the record holds sex as "
                       "F or M (female/male)")
    ethnicity = None
    e = _ext(r, S.ETHNIC_CATEGORY_EXT, p)
    if e is not None and "valueCodeableConcept" in e:
        ethnicity = snomed_code(e["valueCodeableConcept"], f"{p}.extension.valueCodeableConcept")
    lsoa = None
    for i, a in enumerate(_list(r.get("address"), f"{p}.address")):
        le = _ext(_obj(a, f"{p}.address[{i}]"), S.EXT_LSOA, f"{p}.address[{i}]")
        if le is not None:
            lsoa = _str(le.get("valueCode"), f"{p}.address[{i}].extension.valueCode")
            break
    death = None
    if "deceasedDateTime" in r:
        death = _date(r["deceasedDateTime"], f"{p}.deceasedDateTime")
    elif r.get("deceasedBoolean") is True:
        raise Rejected(f"{p}.deceasedBoolean", "deceased without a date: the record needs "
                       "deceasedDateTime")
    return (patient_id, nhs, dob, S.GENDER_TO_SEX[gender], ethnicity, lsoa, death)


def practitioner_id(r: dict[str, Any]) -> str:
    cid = _identifier(r.get("identifier"), S.CLINICIAN_ID, f"{r['resourceType']}.identifier")
    if cid is None:
        cid = _str(r.get("id"), f"{r['resourceType']}.id")
    return cid


def map_practitioner_role(r: dict[str, Any], ctx: Context) -> Row:
    p = "PractitionerRole"
    if "practitioner" not in r:
        raise Rejected(f"{p}.practitioner", "is required")
    cid = ctx.clinician(r["practitioner"], f"{p}.practitioner")
    role = None
    for i, c in enumerate(_list(r.get("code"), f"{p}.code")):
        for system, code in codings(c, f"{p}.code[{i}]"):
            if system == S.CS_ROLE:
                role = code
    if role not in ROLES:
        raise Rejected(f"{p}.code", f"no staff role from {S.CS_ROLE} (one of "
                       f"{', '.join(ROLES)})")
    if "organization" not in r:
        raise Rejected(f"{p}.organization", "is required")
    org = ctx.organisation(r["organization"], f"{p}.organization")
    pcn_ext = _ext(r, S.EXT_PCN, p)
    pcn = None
    if pcn_ext is not None:
        pcn = _obj(pcn_ext.get("valueIdentifier"), f"{p}.extension.valueIdentifier").get("value")
    practice = org if org in ctx.practices else None
    if pcn is None:
        pcn = ctx.practices.get(org) if practice else (org if org in ctx.pcn_codes else None)
    if not isinstance(pcn, str):
        raise Rejected(f"{p}.organization", f"{org} is neither a network practice nor a PCN")
    arrs_ext = _ext(r, S.EXT_ARRS, p)
    arrs = arrs_ext.get("valueBoolean") if arrs_ext else ROLES[role]["arrs"]
    if not isinstance(arrs, bool):
        raise Rejected(f"{p}.extension.valueBoolean", "ARRS flag must be true or false")
    wte_ext = _ext(r, S.EXT_WTE, p)
    if wte_ext is None:
        raise Rejected(f"{p}.extension", f"no whole-time equivalent ({S.EXT_WTE})")
    wte = _number(wte_ext.get("valueDecimal"), f"{p}.extension.valueDecimal")
    period = _obj(r.get("period"), f"{p}.period")
    start = _date(period.get("start"), f"{p}.period.start")
    end = _date(period.get("end"), f"{p}.period.end", required=False)
    return (cid, practice, pcn, role, arrs, wte, start, end)


# --- pass 2: everything that refers to a patient ----------------------------------------------


def map_episode_of_care(r: dict[str, Any], ctx: Context) -> list[Row]:
    p = "EpisodeOfCare"
    _skip_status(r, p, ("entered-in-error", "cancelled", "planned", "waitlist"))
    pid = ctx.patient(r.get("patient") or {}, f"{p}.patient")
    org = ctx.organisation(r.get("managingOrganization") or {}, f"{p}.managingOrganization")
    if org not in ctx.practices:
        raise Skipped(f"{p}.managingOrganization", f"{org} is not a network practice")
    period = _obj(r.get("period"), f"{p}.period")
    start = _date(period.get("start"), f"{p}.period.start")
    end = _date(period.get("end"), f"{p}.period.end", required=False)
    return [(pid, org, start, end)]


def map_condition(r: dict[str, Any], ctx: Context) -> list[Row]:
    p = "Condition"
    for field_ in ("verificationStatus",):
        if field_ in r:
            for system, code in codings(r[field_], f"{p}.{field_}"):
                if system == S.CONDITION_VERIFICATION and code in ("entered-in-error", "refuted"):
                    raise Skipped(f"{p}.{field_}", f"{code!r} conditions are not loaded")
    pid = ctx.patient(r.get("subject") or {}, f"{p}.subject")
    code = snomed_code(r.get("code"), f"{p}.code")
    when = r.get("onsetDateTime", r.get("recordedDate"))
    return [(pid, _date(when, f"{p}.onsetDateTime"), code, None)]


def _quantity(q: Any, code: str, path: str) -> float:
    q = _obj(q, path)
    value = _number(q.get("value"), f"{path}.value")
    expected = S.standard_units().get(code)
    if expected is not None:
        unit = S.normalise_unit(q.get("code") or q.get("unit"))
        if unit is None:
            raise Rejected(f"{path}.unit", f"missing; values for {code} are in {expected}")
        if unit != expected:
            raise Rejected(f"{path}.code", f"unit {unit!r} for {code}; expected {expected} "
                           "(values are not converted)")
    return value


def map_observation(r: dict[str, Any], ctx: Context) -> list[Row]:
    p = "Observation"
    _skip_status(r, p, ("entered-in-error", "cancelled", "registered"))
    pid = ctx.patient(r.get("subject") or {}, f"{p}.subject")
    when = r.get("effectiveDateTime", r.get("effectiveInstant"))
    if when is None and isinstance(r.get("effectivePeriod"), dict):
        when = r["effectivePeriod"].get("start")
    date = _date(when if when is not None else r.get("issued"), f"{p}.effectiveDateTime")
    found = set(codings(r.get("code"), f"{p}.code"))
    if found & S.BP_PANEL and "component" in r:
        rows = []
        for i, comp in enumerate(_list(r["component"], f"{p}.component")):
            cp = f"{p}.component[{i}]"
            comp = _obj(comp, cp)
            target = next((S.BP_COMPONENTS[c] for c in codings(comp.get("code"), f"{cp}.code")
                           if c in S.BP_COMPONENTS), None)
            if target is None:
                continue
            value = None
            if "valueQuantity" in comp:
                value = _quantity(comp["valueQuantity"], target, f"{cp}.valueQuantity")
            rows.append((pid, date, target, value))
        if not rows:
            raise Rejected(f"{p}.component", "blood pressure panel without systolic/diastolic "
                           "components (8480-6/8462-4 or SNOMED 72313002/1091811000000102)")
        return rows
    code = snomed_code(r.get("code"), f"{p}.code")
    value = None
    if "valueQuantity" in r:
        value = _quantity(r["valueQuantity"], code, f"{p}.valueQuantity")
    elif "valueInteger" in r:
        value = _number(r["valueInteger"], f"{p}.valueInteger")
    return [(pid, date, code, value)]


def map_medication(r: dict[str, Any], ctx: Context) -> list[Row]:
    rtype = r["resourceType"]
    p = rtype
    _skip_status(r, p, ("entered-in-error", "cancelled", "draft", "not-taken"))
    pid = ctx.patient(r.get("subject") or {}, f"{p}.subject")
    if "medicationCodeableConcept" not in r:
        raise Rejected(f"{p}.medication[x]", "needs medicationCodeableConcept with a dm+d code "
                       "(medicationReference is not supported)")
    code = snomed_code(r["medicationCodeableConcept"], f"{p}.medicationCodeableConcept",
                       (S.DMD, S.SNOMED))
    quantity = None
    if rtype == "MedicationRequest":
        date = _date(r.get("authoredOn"), f"{p}.authoredOn")
        disp = r.get("dispenseRequest")
        if isinstance(disp, dict) and "quantity" in disp:
            q = _obj(disp["quantity"], f"{p}.dispenseRequest.quantity")
            quantity = _number(q.get("value"), f"{p}.dispenseRequest.quantity.value")
    else:
        when = r.get("effectiveDateTime")
        if when is None and isinstance(r.get("effectivePeriod"), dict):
            when = r["effectivePeriod"].get("start")
        date = _date(when if when is not None else r.get("dateAsserted"),
                     f"{p}.effectiveDateTime")
    return [(pid, date, code, quantity)]


def map_encounter(r: dict[str, Any], ctx: Context) -> list[Row]:
    p = "Encounter"
    _skip_status(r, p, ("entered-in-error", "cancelled", "planned"))
    if "serviceProvider" in r:
        try:
            org = ctx.organisation(r["serviceProvider"], f"{p}.serviceProvider")
        except Rejected:
            org = None
        if org in ctx.practices:
            raise Skipped(f"{p}.serviceProvider", "primary-care encounter (GP activity comes "
                          "from Appointment)")
    pid = ctx.patient(r.get("subject") or {}, f"{p}.subject")
    kind = None
    for i, t in enumerate(_list(r.get("type"), f"{p}.type")):
        for system, code in codings(t, f"{p}.type[{i}]"):
            if system == S.CS_HOSPITAL_KIND and code in HOSPITAL_KINDS:
                kind = code
    if kind is None:
        cls = _obj(r.get("class"), f"{p}.class").get("code")
        emergency = any(c == (S.V3_ACT_PRIORITY, "EM") for c in
                        (codings(r["priority"], f"{p}.priority") if "priority" in r else []))
        kind = {"EMER": "ae_attendance", "AMB": "outpatient"}.get(str(cls))
        if cls in ("IMP", "ACUTE", "NONAC", "SS"):
            kind = "emergency_admission" if emergency else "elective"
        if kind is None:
            raise Rejected(f"{p}.class", f"class {cls!r} is not hospital activity we record "
                           "(EMER, IMP, ACUTE, NONAC, SS, AMB)")
    period = _obj(r.get("period"), f"{p}.period")
    start = _date(period.get("start"), f"{p}.period.start")
    end = _date(period.get("end"), f"{p}.period.end", required=False)
    icd = None
    for i, rc in enumerate(_list(r.get("reasonCode"), f"{p}.reasonCode")):
        for system, code in codings(rc, f"{p}.reasonCode[{i}]"):
            if system in (S.ICD10, S.ICD10_UK) and isinstance(code, str):
                icd = code.replace(".", "").upper()
                if not is_icd10(icd):
                    raise Rejected(f"{p}.reasonCode[{i}].coding.code",
                                   f"{code!r} is not an ICD-10 code")
                break
        if icd:
            break
    return [(pid, kind, start, end, icd)]


def map_appointment(r: dict[str, Any], ctx: Context) -> list[Row]:
    p = "Appointment"
    status = r.get("status")
    if not isinstance(status, str) or status not in S.APPOINTMENT_STATUS_IN:
        raise Skipped(f"{p}.status", f"status {status!r} is not stored (the record holds "
                      "fulfilled, noshow and cancelled appointments)")
    aid_s = _identifier(r.get("identifier"), S.APPOINTMENT_ID, f"{p}.identifier")
    if aid_s is not None and is_digits(aid_s):
        aid = int(aid_s)
    elif isinstance(r.get("id"), str) and is_digits(r["id"]) and len(r["id"]) <= 18:
        aid = int(r["id"])
    else:
        aid = stable_int63(f"Appointment/{r.get('id')}/{r.get('start')}")
    pid = clinician = role = None
    for i, part in enumerate(_list(r.get("participant"), f"{p}.participant")):
        pp = f"{p}.participant[{i}]"
        part = _obj(part, pp)
        actor = part.get("actor")
        if not isinstance(actor, dict):
            continue
        ref = str(actor.get("reference", ""))
        if "Patient/" in ref or ref.startswith("urn:") or (
                isinstance(actor.get("identifier"), dict)
                and actor["identifier"].get("system") == S.NHS_NUMBER):
            pid = ctx.patient(actor, f"{pp}.actor")
        elif "Practitioner" in ref or (isinstance(actor.get("identifier"), dict)
                                       and actor["identifier"].get("system") == S.CLINICIAN_ID):
            clinician = ctx.clinician(actor, f"{pp}.actor")
            for j, t in enumerate(_list(part.get("type"), f"{pp}.type")):
                for system, code in codings(t, f"{pp}.type[{j}]"):
                    if system == S.CS_ROLE:
                        role = code
    if pid is None:
        raise Rejected(f"{p}.participant", "no patient participant")
    if clinician is None:
        raise Rejected(f"{p}.participant", "no practitioner participant")
    staff = ctx.staff.get(clinician)
    if role is None and staff is not None:
        role = staff[1]
    if role not in ROLES:
        raise Rejected(f"{p}.participant.type", f"clinician role {role!r} is not known")
    practice = None
    pe = _ext(r, S.EXT_PRACTICE, p)
    if pe is not None:
        practice = _obj(pe.get("valueIdentifier"), f"{p}.extension.valueIdentifier").get("value")
    elif staff is not None:
        practice = staff[0]
    if not isinstance(practice, str):
        raise Rejected(f"{p}.extension", f"no practice ({S.EXT_PRACTICE}) and the clinician "
                       "has no practice")
    me = _ext(r, S.EXT_APPOINTMENT_MODE, p)
    mode = me.get("valueCode") if me else None
    if mode not in APPOINTMENT_MODES:
        raise Rejected(f"{p}.extension", f"appointment mode {mode!r} is not one of "
                       f"{', '.join(APPOINTMENT_MODES)} ({S.EXT_APPOINTMENT_MODE})")
    start = _local_datetime(r.get("start"), f"{p}.start")
    return [(aid, pid, practice, clinician, role, mode, start, S.APPOINTMENT_STATUS_IN[status])]


def map_location(r: dict[str, Any], ctx: Context) -> list[Row]:
    """A Location identified by an LSOA code -> ``lsoa`` reference row (values as carried)."""
    p = "Location"
    code = _identifier(r.get("identifier"), S.ONS_GEOGRAPHY, f"{p}.identifier")
    if code is None or not code.startswith("E01"):
        raise Skipped(f"{p}.identifier", f"not an LSOA (no {S.ONS_GEOGRAPHY} E01… identifier)")

    def ext_value(url: str, key: str) -> Any:
        e = _ext(r, url, p)
        return None if e is None else e.get(key)

    decile, rank = ext_value(S.EXT_IMD_DECILE, "valueInteger"), ext_value(S.EXT_IMD_RANK,
                                                                          "valueInteger")
    for name, v in (("imd-2019-decile", decile), ("imd-2019-rank", rank)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise Rejected(f"{p}.extension[{name}]", f"must be an integer, got {v!r}")
    rural = ext_value(S.EXT_RURAL_URBAN, "valueCode")
    lon = lat = None
    if "position" in r:
        pos = _obj(r["position"], f"{p}.position")
        lon = _number(pos.get("longitude"), f"{p}.position.longitude")
        lat = _number(pos.get("latitude"), f"{p}.position.latitude")
    return [(code, decile, rank, rural if isinstance(rural, str) else None, lon, lat)]


#: resource type -> (record table, mapper) for the second pass.
PASS2: dict[str, tuple[str, Callable[[dict[str, Any], Context], list[Row]]]] = {
    "Location": ("lsoa", map_location),
    "EpisodeOfCare": ("registrations", map_episode_of_care),
    "Condition": ("clinical_events", map_condition),
    "Observation": ("clinical_events", map_observation),
    "MedicationRequest": ("medications", map_medication),
    "MedicationStatement": ("medications", map_medication),
    "Encounter": ("hospital_activity", map_encounter),
    "Appointment": ("appointments", map_appointment),
}
PASS1 = ("Organization", "Patient", "Practitioner", "PractitionerRole")
