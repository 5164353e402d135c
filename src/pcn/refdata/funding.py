"""Published money and workforce figures: NHS Payments to General Practice 2022-23, PCN workforce.

Both are shipped as Parquet built by ``scripts/build_refdata.py`` (format change only); sources
and licences are in ``data/ATTRIBUTION.md``.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from pcn.refdata.places import _read

#: The financial year of the shipped payments file.
PAYMENTS_YEAR = "2022/23"
PAYMENTS_SOURCE = ("NHS England, NHS Payments to General Practice, England 2022-23 "
                   "(practice-level CSV), OGL v3.0")
WORKFORCE_SOURCE = ("NHS Digital, Primary Care Network Workforce (census years 2020-2025), "
                    "aggregated by the Health Equity Evidence Centre; OGL v3.0")


@cache
def gp_payments() -> pd.DataFrame:
    """Per practice: registered and weighted (Carr-Hill) lists and payment lines, 2022-23."""
    return _read("gp_payments_2022_23.parquet")


@cache
def pcn_workforce() -> pd.DataFrame:
    """PCN-employed FTE by PCN, census year and staff group, with the PCN's IMD quintile."""
    return _read("pcn_workforce_fte.parquet")


def published_lists(practice_codes: list[str]) -> pd.DataFrame:
    """Published registered and weighted lists (2022-23) of these practices (absent: omitted)."""
    pay = gp_payments()
    rows = pay[pay["practice_code"].isin(practice_codes)]
    return rows[["practice_code", "practice_name", "pcn_code", "rurality", "registered_patients",
                 "weighted_patients", "global_sum"]].reset_index(drop=True)
