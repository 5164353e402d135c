"""NHS number validation (modulus 11) and the synthetic test ranges.

The check digit is 11 - (sum of the first nine digits weighted 10..2) mod 11; 11 becomes 0 and
10 means the number is invalid (NHS Data Dictionary, "NHS Number"). A number of ten identical
digits (0000000000, 1111111111, ...) passes that check but is a placeholder typed into a
system, never an issued number: it is invalid here too.
Synthetic patients get numbers from the 999 range that NHS England reserves for testing.
"""

from __future__ import annotations

import numpy as np

from pcn.record.codes import is_digits

_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)
#: First nine-digit stem of the 999 test range (999 000 000x) and how many stems it holds.
TEST_STEM_START = 999_000_000
TEST_STEMS = 1_000_000


def check_digit(stem: int) -> int | None:
    """Check digit for a nine-digit stem, or None if no valid number has this stem."""
    digits = [int(c) for c in f"{stem:09d}"]
    total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid(nhs_number: str | None) -> bool:
    if nhs_number is None:
        return False
    s = nhs_number.replace(" ", "")
    if len(s) != 10 or not is_digits(s) or s == s[0] * 10:
        return False
    return check_digit(int(s[:9])) == int(s[9])


def valid_mask(numbers: np.ndarray) -> np.ndarray:
    """Vectorised validity of an array of 10-character digit strings."""
    arr = np.asarray(numbers, dtype="U10")
    ok = np.char.isdigit(arr) & (np.char.str_len(arr) == 10)
    digits = np.zeros((len(arr), 10), dtype=np.int64)
    good = arr[ok]
    if len(good):
        digits[ok] = good.view("<U1").reshape(-1, 10).astype(np.int64)
    total = digits[:, :9] @ _WEIGHTS
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    placeholder = (digits == digits[:, :1]).all(axis=1)  # ten identical digits
    return ok & ~placeholder & (check != 10) & (check == digits[:, 9])


def _range_numbers(prefix: int) -> np.ndarray:
    """All valid NHS numbers whose first three digits are ``prefix`` (ascending, int64)."""
    stems = np.arange(prefix * 1_000_000, (prefix + 1) * 1_000_000, dtype=np.int64)
    total = np.zeros(len(stems), dtype=np.int64)
    rest = stems.copy()
    for weight in range(2, 11):  # last digit of the stem has weight 2, the first weight 10
        rest, digit = np.divmod(rest, 10)
        total += digit * weight
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    numbers = stems * 10 + check
    keep = (check != 10) & (numbers != 9_999_999_999)  # the one placeholder in the 999 range
    return numbers[keep]


_RANGES: dict[int, np.ndarray] = {}


def _range(k: int) -> np.ndarray:
    if k not in _RANGES:
        _RANGES[k] = _range_numbers(999 - k)
    return _RANGES[k]


def synthetic_numbers(start: int, count: int) -> np.ndarray:
    """The ``count`` distinct valid synthetic NHS numbers from position ``start`` (as int64).

    Positions index the valid numbers of the 999 test range in order (909,091 of them); beyond
    that the sequence continues in the 998, 997, ... ranges, which are also not allocated to real
    patients (see docs/adr/0003-synthetic-nhs-numbers.md).
    """
    out = np.empty(count, dtype=np.int64)
    pos, filled, k, offset = start, 0, 0, 0
    while filled < count:
        if k > 99:
            raise ValueError("more synthetic patients than synthetic NHS numbers")
        block = _range(k)
        if pos < offset + len(block):
            take = min(count - filled, offset + len(block) - pos)
            out[filled : filled + take] = block[pos - offset : pos - offset + take]
            filled += take
            pos += take
        offset += len(block)
        k += 1
    return out
