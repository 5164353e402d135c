"""De-identifying the FHIR extract for secondary use (planning, evaluation, research).

Following the ICO's anonymisation code of practice (pseudonymisation with a secret key, removal
of direct identifiers, generalisation of quasi-identifiers) and ISB 1523 (Anonymisation Standard
for Publishing Health and Social Care Data), ADR 0093:

- **keyed pseudonyms**: every patient id becomes ``HMAC-SHA256(key, purpose, kind, id)``, written
  as a FHIR id; stable for one purpose (the same project gets the same pseudonyms on every
  extract, so extracts can be linked over time), unlinkable between purposes, and not reversible
  without the key (``PCN_PSEUDONYM_KEY``, never written into the extract). Appointment and
  clinician ids, which could be looked up in a practice system, are pseudonymised the same way;
- **no direct identifiers**: no NHS number, no patient id, no source-system identifiers;
- **generalised dates**: every date and time is cut to its month (``YYYY-MM``); an appointment's
  exact start becomes the month in an extension;
- **small areas only when the purpose allows**: without ``small_areas`` a patient's LSOA is
  replaced by its IMD 2019 decile, practices carry no address and the LSOA table is left out.

Opted-out patients are removed before this (:mod:`pcn.access.secondary_use`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from pcn.fhir import systems as S
from pcn.fhir.outbound import fhir_id

#: The FHIR id alphabet allows lower-case base32 directly; 26 characters = 130 bits.
PSEUDONYM_CHARS = 26
PURPOSE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
#: Elements that hold a date or a dateTime in the resources :mod:`pcn.fhir.outbound` writes.
DATE_ELEMENTS = frozenset({"birthDate", "deceasedDateTime", "effectiveDateTime", "onsetDateTime",
                           "authoredOn", "start", "end"})
_REFERENCE = re.compile(r"^(Patient|Practitioner|PractitionerRole|Appointment)/(.+)$")


class PurposeError(ValueError):
    """A secondary-use purpose name that is not a short lower-case word."""


def pseudonym(key: bytes, purpose: str, kind: str, value: object) -> str:
    digest = hmac.new(key, f"{purpose}\0{kind}\0{value}".encode(), hashlib.sha256).digest()
    return "p" + base64.b32encode(digest).decode().lower()[:PSEUDONYM_CHARS - 1]


@dataclass
class Deidentifier:
    """Rewrites each outbound resource for one secondary-use ``purpose``."""

    key: bytes
    purpose: str
    small_areas: bool = False
    #: LSOA code -> IMD 2019 decile, for the patient's area when LSOAs are not allowed
    imd_deciles: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not PURPOSE_PATTERN.match(self.purpose):
            raise PurposeError(f"purpose {self.purpose!r}: use a short lower-case name such as "
                               "'planning' or 'evaluation-2026'")

    @property
    def identifier_system(self) -> str:
        return S.PSEUDONYM + self.purpose

    def _id(self, kind: str, value: object) -> str:
        return pseudonym(self.key, self.purpose, kind, value)

    def resource(self, res: dict[str, Any]) -> dict[str, Any] | None:
        """The de-identified resource, or None when it must not be in the extract at all."""
        kind = res["resourceType"]
        if kind == "Location" and not self.small_areas:
            return None  # the list of LSOAs where the patients live
        out = self._walk(res)
        if kind == "Patient":
            out["id"] = self._id("Patient", res["id"])
            out["identifier"] = [{"system": self.identifier_system, "value": out["id"]}]
            lsoa = _lsoa_of(res)
            if not self.small_areas:
                out.pop("address", None)
                decile = self.imd_deciles.get(lsoa or "")
                if decile is not None:
                    out.setdefault("extension", []).append(
                        {"url": S.EXT_IMD_DECILE, "valueInteger": int(decile)})
        elif kind in ("Practitioner", "PractitionerRole"):
            out["id"] = self._id("Practitioner", res["id"])  # references use the same id
            out.pop("identifier", None)
        elif kind == "Appointment":
            out["id"] = self._id("Appointment", res["id"])
            out.pop("identifier", None)
            start = out.pop("start", None)
            if start:
                out.setdefault("extension", []).append(
                    {"url": S.EXT_APPOINTMENT_MONTH, "valueDate": str(start)[:7]})
        elif kind == "Organization" and not self.small_areas:
            out.pop("address", None)  # the practice's postcode and LSOA
        return out

    def _walk(self, node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            if node.get("system") in (S.CLINICIAN_ID, S.APPOINTMENT_ID, S.PATIENT_ID) \
                    and "value" in node:
                kind = {S.CLINICIAN_ID: "Practitioner", S.APPOINTMENT_ID: "Appointment",
                        S.PATIENT_ID: "Patient"}[node["system"]]
                value = fhir_id(str(node["value"])) if kind == "Practitioner" else node["value"]
                return {"system": self.identifier_system, "value": self._id(kind, value)}
            return {k: self._walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            return [self._walk(v, key) for v in node]
        if isinstance(node, str):
            if key == "reference":
                match = _REFERENCE.match(node)
                if match:
                    kind = "Practitioner" if match.group(1) == "PractitionerRole" \
                        else match.group(1)
                    return f"{match.group(1)}/{self._id(kind, match.group(2))}"
            if key in DATE_ELEMENTS and len(node) > 7:
                return node[:7]  # YYYY-MM
        return node


def _lsoa_of(patient: dict[str, Any]) -> str | None:
    for address in patient.get("address", []):
        for ext in address.get("extension", []):
            if ext.get("url") == S.EXT_LSOA:
                return str(ext.get("valueCode"))
    return None
