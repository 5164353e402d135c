"""CSV files people open in a spreadsheet: no cell may start a formula (CSV injection).

A text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with
a leading apostrophe, which spreadsheets show as text (OWASP "CSV Injection"). Numbers are
numbers and are left alone. Every CSV the web app offers for download goes through
:func:`csv_text`.
"""

from __future__ import annotations

import io

import pandas as pd

#: First characters that make Excel, LibreOffice or Google Sheets evaluate a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` with a leading apostrophe when it is text that would start a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and column name) neutralised; numeric columns unchanged."""
    out = frame.copy()
    for column in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[column])
                or pd.api.types.is_bool_dtype(out[column])
                or pd.api.types.is_datetime64_any_dtype(out[column])):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    neutralise_frame(frame).to_csv(buffer, index=False)
    return buffer.getvalue()
