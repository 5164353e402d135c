"""Pseudonymous ``patient_id`` from the NHS number, deterministically.

Rule (docs/adr/0060-patient-id-from-nhs-number.md), in order:

1. an id we exported ourselves (identifier system ``PATIENT_ID``) is kept, so a record -> FHIR ->
   record round trip reproduces every id;
2. an NHS number already in the record keeps its existing id;
3. otherwise the id is the first 8 bytes of BLAKE2b(NHS number, key=``ID_KEY``), as a
   non-negative int63 (top bit cleared).

The hash is deterministic so the same person gets the same id whichever practice's extract
arrives first and however often it is loaded. It is *not* a privacy control (the record holds the
NHS number anyway); it only keeps ids stable and spread. A collision (two NHS numbers, one id)
is detected and rejected, never merged.
"""

from __future__ import annotations

import hashlib

ID_KEY = b"pcn-patient-id-v1"


def derived_patient_id(nhs_number: str) -> int:
    digest = hashlib.blake2b(nhs_number.encode("ascii"), digest_size=8, key=ID_KEY).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


class PatientIndex:
    """NHS number <-> patient_id for one load, seeded from the existing record."""

    def __init__(self, existing: dict[str, int] | None = None) -> None:
        self.by_nhs: dict[str, int] = dict(existing or {})
        self.by_id: dict[int, str] = {v: k for k, v in self.by_nhs.items()}

    def assign(self, nhs_number: str, explicit_id: int | None = None) -> int:
        """The patient_id for ``nhs_number``; raises ValueError on a conflict."""
        known = self.by_nhs.get(nhs_number)
        if explicit_id is not None:
            if known is not None and known != explicit_id:
                raise ValueError(f"patient-id {explicit_id} conflicts with id {known} already "
                                 "held for this NHS number")
            pid = explicit_id
        elif known is not None:
            pid = known
        else:
            pid = derived_patient_id(nhs_number)
        other = self.by_id.get(pid)
        if other is not None and other != nhs_number:
            raise ValueError(f"patient_id {pid} is already used by another NHS number")
        self.by_nhs[nhs_number] = pid
        self.by_id[pid] = nhs_number
        return pid
