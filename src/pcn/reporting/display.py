"""Values for people: the one formatting layer every page uses (issue 17).

Dates as "4 Dec 2026", times as "4 Dec 2026, 14:05", numbers with thousands separators and
their unit, booleans as "Yes"/"No", SNOMED and dm+d codes with their description, column names
as labels. A missing value is never ``NaT``, ``None`` or ``nan``: it is "Not recorded" (or the
caller's own words, e.g. "not available" for a figure that could not be worked out).
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from typing import Any

NOT_RECORDED = "Not recorded"

#: column → (label, unit). The unit follows the number ("142 mmHg").
COLUMNS: dict[str, tuple[str, str]] = {
    "patient_id": ("Patient", ""),
    "nhs_number": ("NHS number", ""),
    "practice_code": ("Practice", ""),
    "age": ("Age", "years"),
    "age_band": ("Age band", ""),
    "sex": ("Sex", ""),
    "imd_decile": ("IMD decile (1 = most deprived)", ""),
    "imd_quintile": ("IMD quintile (1 = most deprived)", ""),
    "ethnicity_6": ("Ethnic group", ""),
    "core20": ("Core20 (most deprived 20%)", ""),
    "plus_groups": ("PLUS groups", ""),
    "reasons": ("Why on this list", ""),
    "reason": ("Reason", ""),
    "reason_count": ("Number of reasons", ""),
    "priority": ("Priority", ""),
    "care_home": ("Lives in a care home", ""),
    "housebound": ("Housebound", ""),
    "efi_score": ("eFI score", ""),
    "efi_category": ("Frailty (eFI)", ""),
    "ltc_count": ("Long-term conditions", ""),
    "distinct_medicines_12m": ("Medicines in last 12 months", ""),
    "high_risk_prescribing": ("Potentially harmful combination", ""),
    "latest_medication_review_date": ("Last structured medication review", ""),
    "latest_sbp": ("Latest systolic BP", "mmHg"),
    "latest_dbp": ("Latest diastolic BP", "mmHg"),
    "latest_sbp_date": ("Date of latest BP", ""),
    "latest_bmi": ("Latest BMI", "kg/m²"),
    "latest_bmi_date": ("Date of latest BMI", ""),
    "latest_hba1c": ("Latest HbA1c", "mmol/mol"),
    "latest_hba1c_date": ("Date of latest HbA1c", ""),
    "latest_cholesterol_date": ("Date of latest cholesterol", ""),
    "smoking_status": ("Smoking status", ""),
    "smoking_status_date": ("Smoking status recorded", ""),
    "latest_ld_health_check_date": ("Last LD annual health check", ""),
    "on_antihypertensive": ("On antihypertensive", ""),
    "on_anticoagulant": ("On anticoagulant", ""),
    "on_statin": ("On a statin", ""),
    "cha2ds2_vasc": ("CHA₂DS₂-VASc score", ""),
    "qrisk3": ("QRISK3 10-year risk", "%"),
    "qrisk3_imputed": ("QRISK3 uses imputed values", ""),
    "admission_risk": ("Emergency admission risk (12 months)", "%"),
    "admission_risk_rank": ("Admission risk rank", ""),
    "emergency_admissions_12m": ("Emergency admissions in 12 months", ""),
    "status": ("Status", ""),
    "owner": ("Owner", ""),
    "due_date": ("Due", ""),
}
#: Values of coded categories, by column.
CATEGORIES: dict[str, dict[str, str]] = {
    "sex": {"F": "Female", "M": "Male", "U": "Unknown"},
    "efi_category": {"fit": "Fit", "mild": "Mild frailty", "moderate": "Moderate frailty",
                     "severe": "Severe frailty"},
    "smoking_status": {"current": "Current smoker", "ex": "Ex-smoker", "never": "Never smoked"},
}
#: Columns holding a share (0-1) shown as a percentage.
FRACTIONS = frozenset({"admission_risk"})


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    return False


def _as_date(value: Any) -> dt.date | dt.datetime | None:
    if is_missing(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value) if "T" in value or " " in value \
                else dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def date(value: Any, missing: str = NOT_RECORDED) -> str:
    """``4 Dec 2026`` (a timestamp shows its day)."""
    when = _as_date(value)
    if when is None:
        return missing
    return f"{when.day} {when:%b %Y}"


def date_time(value: Any, missing: str = NOT_RECORDED) -> str:
    """``4 Dec 2026, 14:05`` for timestamps (naive UTC in the store)."""
    when = _as_date(value)
    if when is None:
        return missing
    if not isinstance(when, dt.datetime):
        return date(when)
    return f"{when.day} {when:%b %Y}, {when:%H:%M}"


def number(value: Any, digits: int = 0, unit: str = "", missing: str = NOT_RECORDED) -> str:
    if is_missing(value):
        return missing
    if isinstance(value, bool):
        return yes_no(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    text = f"{int(x):,}" if digits == 0 and x.is_integer() else f"{x:,.{digits or 1}f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def yes_no(value: Any, missing: str = NOT_RECORDED) -> str:
    if is_missing(value):
        return missing
    return "Yes" if bool(value) else "No"


def label(column: str) -> str:
    """A column's label for people ("latest_sbp" → "Latest systolic BP")."""
    if column in COLUMNS:
        return COLUMNS[column][0]
    if column.startswith("reg_"):
        return column[4:].replace("_", " ").capitalize() + " register"
    text = column.replace("_12m", " in 12 months").replace("_", " ")
    return text[:1].upper() + text[1:]


def unit(column: str) -> str:
    return COLUMNS.get(column, ("", ""))[1]


@cache
def _terms() -> dict[str, str]:
    """Code → description over every shipped codelist (SNOMED CT and dm+d)."""
    from pcn.refdata.codelists import codelist, codelist_ids

    terms: dict[str, str] = {}
    for cid in codelist_ids():
        try:
            for code, term in codelist(cid).terms.items():
                if term:
                    terms.setdefault(str(code), term)
        except Exception:  # a broken list must not break a page
            continue
    from pcn.tasks.vocabulary import outcomes

    for code, outcome in outcomes().items():
        terms.setdefault(code, outcome.term)
    return terms


def code_term(code: Any) -> str | None:
    """The description of a SNOMED CT or dm+d code, or None when no shipped list has it."""
    if is_missing(code):
        return None
    return _terms().get(str(code))


def coded(code: Any, missing: str = NOT_RECORDED) -> str:
    """``Structured medication review (1239511000000100)``; an unknown code says so."""
    if is_missing(code):
        return missing
    term = code_term(code)
    return f"{term} ({code})" if term else f"Code {code} (description not available)"


def cell(column: str, value: Any, missing: str = NOT_RECORDED) -> str:
    """One value of ``column`` as a person should read it."""
    if is_missing(value):
        return missing
    if column.endswith("_date") or column.endswith("_at"):
        return date(value, missing)
    if isinstance(value, bool) or column in ("care_home", "housebound", "core20") \
            or column.startswith(("on_", "reg_")) or column.endswith("_imputed") \
            or column == "high_risk_prescribing":
        return yes_no(value, missing)
    if column in CATEGORIES:
        return CATEGORIES[column].get(str(value), str(value).replace("_", " ").capitalize())
    if column == "plus_groups":
        text = str(value).strip()
        return text.replace("_", " ").replace(";", ", ") if text else "None"
    if column in FRACTIONS:
        try:
            return number(float(value) * 100, 1, "%", missing)
        except (TypeError, ValueError):
            return str(value)
    if column == "age":
        return number(value, 0, "", missing)
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        digits = 0 if column.endswith(("_count", "_12m", "_rank")) \
            or float(value).is_integer() else 1
        return number(value, digits, unit(column), missing)
    text = str(value)
    if text.lower() in ("nan", "nat", "none", "<na>"):
        return missing
    return text
