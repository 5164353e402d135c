"""Workforce benchmarks: PCN-employed FTE per 1,000 registered patients by staff group, against
PCNs in the same IMD quintile (NHS Digital PCN Workforce; NHS Payments to General Practice lists).

The workforce file gives FTE by PCN, census year and staff group with the PCN's mean practice IMD
2019 score and quintile (5 = most deprived). The denominator is the PCN's registered list in NHS
Payments to General Practice 2022-23 (summed over practices carrying that PCN code), the one
published list pcn ships for every PCN; for census years other than 2023 that is a stated
approximation. PCNs with no FTE recorded in a staff group count as 0 for it.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from pcn.funding.money import UnknownPcn
from pcn.refdata.funding import gp_payments, pcn_workforce

STAFF_GROUPS = ("Directors", "Other GPs", "Other Nurses", "Other Direct Patient Care staff",
                "Other Admin/Non-clinical staff")


class NoWorkforceData(LookupError):
    """No workforce census for that PCN and year."""


@cache
def workforce_rates(year: int) -> pd.DataFrame:
    """One row per PCN and staff group: FTE, registered list, FTE per 1,000, IMD quintile.

    Cached (the shipped data never changes in a process); callers must not modify the frame."""
    wf = pcn_workforce()
    wf = wf[wf["year"] == year]
    if wf.empty:
        years = ", ".join(str(y) for y in sorted(pcn_workforce()["year"].unique()))
        raise NoWorkforceData(f"no PCN workforce census for {year}; census years are {years}")
    # A few PCNs carry two quintiles in one year (rows from two ICBs): the majority one counts.
    pcns = wf.groupby("pcn_code").agg(
        pcn_name=("pcn_name", "first"),
        imd_quintile=("imd_quintile", lambda q: int(q.value_counts().sort_index().idxmax())))
    fte = wf.pivot_table(index="pcn_code", columns="staff_group", values="fte", aggfunc="sum")
    fte = fte.reindex(columns=list(STAFF_GROUPS)).fillna(0.0)
    lists = gp_payments().groupby("pcn_code")["registered_patients"].sum()
    out = fte.stack().reset_index()
    out.columns = pd.Index(["pcn_code", "staff_group", "fte"])
    out = out.merge(pcns, left_on="pcn_code", right_index=True)
    out["registered"] = out["pcn_code"].map(lists)
    out = out[out["registered"] > 0].copy()
    out["fte_per_1000"] = out["fte"] / out["registered"] * 1000
    return out.reset_index(drop=True)


def benchmark(pcn_code: str, year: int) -> pd.DataFrame:
    """The PCN's FTE per 1,000 by staff group beside its IMD-quintile peers and England."""
    code = pcn_code.strip().upper()
    rates = workforce_rates(year)
    mine = rates[rates["pcn_code"] == code]
    if mine.empty:
        known = pcn_workforce()["pcn_code"]
        if code not in set(known):
            raise UnknownPcn(f"no PCN with code {code!r} in the PCN workforce data")
        raise NoWorkforceData(f"{code} has no workforce census or no published list in {year}")
    quintile = int(mine["imd_quintile"].iloc[0])
    rows = []
    for group in STAFF_GROUPS:
        peers = rates[(rates["staff_group"] == group) & (rates["imd_quintile"] == quintile)]
        everyone = rates[rates["staff_group"] == group]
        own = mine[mine["staff_group"] == group].iloc[0]
        rows.append({
            "staff_group": group, "fte": float(own["fte"]),
            "fte_per_1000": float(own["fte_per_1000"]),
            "peer_median": float(peers["fte_per_1000"].median()),
            "peer_q1": float(peers["fte_per_1000"].quantile(0.25)),
            "peer_q3": float(peers["fte_per_1000"].quantile(0.75)),
            "peers": len(peers), "england_median": float(everyone["fte_per_1000"].median()),
            "imd_quintile": quintile, "year": year,
        })
    return pd.DataFrame(rows)
