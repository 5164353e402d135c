"""The formatting layer for people (issue 17): never NaT, nan or None; dates as "4 Dec 2026";
units; code descriptions; labels."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from pcn.reporting import display


@pytest.mark.parametrize("missing", [None, math.nan, pd.NaT, pd.NA])
def test_missing_values_are_never_raw(missing: object) -> None:
    for column in ("latest_sbp", "latest_medication_review_date", "care_home", "age",
                   "efi_category", "reasons"):
        assert display.cell(column, missing) == "Not recorded"
    assert display.date(missing, "not available") == "not available"


def test_values_read_as_people_write_them() -> None:
    assert display.date(dt.date(2026, 12, 4)) == "4 Dec 2026"
    assert display.date(pd.Timestamp("2025-01-02 13:00")) == "2 Jan 2025"
    assert display.date_time(dt.datetime(2026, 12, 4, 14, 5)) == "4 Dec 2026, 14:05"
    assert display.cell("latest_sbp", 142.0) == "142 mmHg"
    assert display.cell("latest_bmi", 31.25) == "31.2 kg/m²"
    assert display.cell("qrisk3", 12.34) == "12.3%"
    assert display.cell("admission_risk", 0.125) == "12.5%"
    assert display.cell("care_home", True) == "Yes"
    assert display.cell("efi_category", "severe") == "Severe frailty"
    assert display.cell("distinct_medicines_12m", 11) == "11"
    assert display.coded("1239511000000100") == "Structured medication review (1239511000000100)"
    assert display.coded("123") == "Code 123 (description not available)"
    assert display.label("distinct_medicines_12m") == "Medicines in last 12 months"
    assert display.label("reg_heart_failure") == "Heart failure register"
    assert display.number(1234567) == "1,234,567"
