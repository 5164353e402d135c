import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcn.record.nhs_number import check_digit, is_valid, synthetic_numbers, valid_mask


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("9434765919", True),  # NHS Data Dictionary worked example
        ("943 476 5919", True),
        ("9434765918", False),  # wrong check digit
        ("9434765910", False),
        ("123456789", False),  # too short
        ("12345678901", False),
        ("abcdefghij", False),
        (None, False),
    ],
)
def test_is_valid_known_numbers(number: str | None, ok: bool) -> None:
    assert is_valid(number) is ok


def test_check_digit_of_ten_means_no_valid_number() -> None:
    # 100000006 weighs to 10*1 + 2*6 = 22 -> 22 % 11 = 0 -> check 11 -> 0
    assert check_digit(100000006) == 0
    stems_with_ten = [s for s in range(999000000, 999000200) if check_digit(s) is None]
    assert stems_with_ten, "some stems must be unusable"
    for s in stems_with_ten:
        assert not any(is_valid(f"{s:09d}{d}") for d in range(10))


def test_synthetic_numbers_valid_distinct_and_in_test_range() -> None:
    nums = synthetic_numbers(0, 50_000)
    strs = np.array([str(n) for n in nums])
    assert valid_mask(strs).all()
    assert len(set(nums.tolist())) == len(nums)
    assert all(s.startswith("999") for s in strs)


def test_synthetic_numbers_continue_past_the_999_range_without_collisions() -> None:
    nums = synthetic_numbers(900_000, 20_000)
    strs = [str(n) for n in nums]
    assert len(set(strs)) == len(strs)
    assert all(is_valid(s) for s in strs)
    assert {s[:3] for s in strs} == {"999", "998"}


@settings(deadline=None)  # the first use of each number range builds a lookup table
@given(st.integers(min_value=0, max_value=2_000_000), st.integers(min_value=1, max_value=50))
def test_synthetic_numbers_are_positional(start: int, count: int) -> None:
    whole = synthetic_numbers(start, count)
    assert whole[0] == synthetic_numbers(start, 1)[0]
    assert whole[-1] == synthetic_numbers(start + count - 1, 1)[0]
