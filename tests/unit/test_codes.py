import pytest

from pcn.record.codes import is_icd10, is_snomed_id


@pytest.mark.parametrize(
    "code", ["38341003", "1091811000000102", "72313002", "60621009", "827241000000103"]
)
def test_real_snomed_ids_pass(code: str) -> None:
    assert is_snomed_id(code)


@pytest.mark.parametrize("code", ["38341004", "12345", "0123456", "3834100a", "", None])
def test_malformed_snomed_ids_fail(code: str | None) -> None:
    assert not is_snomed_id(code)


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("I500", True),
        ("J441", True),
        ("S7200", True),
        ("I50.0", False),
        ("500", False),
        ("i500", False),
    ],
)
def test_icd10_format(code: str, ok: bool) -> None:
    assert is_icd10(code) is ok


def test_is_digits_accepts_only_ascii_digits() -> None:
    from pcn.record.codes import is_digits

    assert is_digits("0123456789")
    for text in ["", "12a", "¹", "1²3", "٣", " 12", "-1"]:
        assert not is_digits(text), text
    assert not is_snomed_id("22298006¹")
