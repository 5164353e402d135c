"""Well-formedness of SNOMED CT / dm+d identifiers and ICD-10 codes."""

from __future__ import annotations

import re

# Verhoeff dihedral-group tables, as used for SNOMED CT identifier check digits
# (SNOMED CT Technical Implementation Guide, "Check-digit").
_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]

_ICD10 = re.compile(r"^[A-Z][0-9]{2}[0-9A-Z]{0,4}$")


def is_digits(text: str) -> bool:
    """Only ASCII 0-9 (``str.isdigit`` also accepts '¹' and other Unicode digits, which ``int``
    then rejects or silently maps to another number)."""
    return text.isascii() and text.isdigit()


def verhoeff_ok(digits: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def is_snomed_id(code: str | None) -> bool:
    """A SNOMED CT identifier: 6-18 digits, no leading zero, valid Verhoeff check digit."""
    if not code or not is_digits(code) or not 6 <= len(code) <= 18 or code[0] == "0":
        return False
    return verhoeff_ok(code)


def is_icd10(code: str | None) -> bool:
    """An ICD-10 code written without the dot (e.g. I500, J441, S7200)."""
    return bool(code) and bool(_ICD10.match(code or ""))


CHECKERS = {"snomed": is_snomed_id, "icd10": is_icd10}
