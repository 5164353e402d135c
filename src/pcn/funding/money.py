"""Network Contract DES money: ARRS entitlement and the core PCN funding lines, per year.

Rates are data (``definitions/funding/rates.yaml``, each with its sources). Populations are the
latest published lists (NHS Payments to General Practice 2022-23) for the PCN's member practices
in the QOF 2023-24 mapping; the DES uses lists at 1 January before the year, which are not
published in time, and every figure says which population it used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from pcn import refdata
from pcn.funding.definitions import FundingDefinitionError, rates
from pcn.refdata.funding import PAYMENTS_SOURCE, PAYMENTS_YEAR, published_lists

YEAR = re.compile(r"^(\d{4})/(\d{2})$")
BASE_TEXT = {
    "weighted": f"PCN weighted population (published {PAYMENTS_YEAR} weighted lists)",
    "registered": f"PCN registered list (published {PAYMENTS_YEAR} registered lists)",
    "adjusted": (f"Adjusted Population, stood in for by the PCN weighted population (published "
                 f"{PAYMENTS_YEAR} weighted lists); the DES definition was not verified"),
    "care_home_bed": "CQC care home beds aligned to the PCN",
}


class UnknownYear(LookupError):
    """A financial year with no rate in rates.yaml."""


class UnknownPcn(LookupError):
    """A PCN code not in the reference data."""


class MissingPublishedList(LookupError):
    """A member practice has no published weighted list: a PCN total would be understated."""


def check_year(year: str) -> str:
    m = YEAR.match(year.strip())
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise UnknownYear(f"year {year!r} is not a financial year like 2025/26")
    return year.strip()


def arrs_years() -> list[str]:
    return [str(r["year"]) for r in rates()["arrs"]]


def funding_years() -> list[str]:
    return sorted({str(r["year"]) for r in rates()["lines"]})


@dataclass(frozen=True)
class PcnPopulation:
    pcn_code: str
    pcn_name: str
    practices: pd.DataFrame  # practice_code, practice_name, registered, weighted (None if absent)
    missing: tuple[str, ...] = field(default=())  # member practices with no published list

    @property
    def weighted(self) -> float:
        return float(self.practices["weighted_patients"].sum())

    @property
    def registered(self) -> float:
        return float(self.practices["registered_patients"].sum())


def pcn_population(pcn_code: str) -> PcnPopulation:
    """The PCN's member practices (QOF 2023-24 mapping) with their published 2022-23 lists."""
    try:
        members = refdata.pcn_practices(pcn_code)
    except refdata.UnknownCode as e:
        raise UnknownPcn(str(e).strip("'\"")) from None
    codes = list(members["practice_code"])
    lists = published_lists(codes)
    missing = tuple(sorted(set(codes) - set(lists["practice_code"])))
    if missing:
        raise MissingPublishedList(
            f"member practice(s) {', '.join(missing)} of {pcn_code} have no published "
            f"{PAYMENTS_YEAR} weighted list (NHS Payments to General Practice); a PCN figure "
            "without them would be understated, so none is given")
    return PcnPopulation(pcn_code=str(members["pcn_code"].iloc[0]),
                         pcn_name=str(members["pcn_name"].iloc[0]),
                         practices=lists.sort_values("practice_code", ignore_index=True),
                         missing=missing)


@dataclass(frozen=True)
class Entitlement:
    pcn_code: str
    pcn_name: str
    year: str
    rate: float
    weighted_population: float
    amount: float
    population_text: str
    sources: tuple[str, ...]
    note: str
    missing_practices: tuple[str, ...]


def arrs_rate(year: str) -> dict[str, object]:
    year = check_year(year)
    for row in rates()["arrs"]:
        if str(row["year"]) == year:
            if "rate" not in row or "sources" not in row:
                raise FundingDefinitionError(f"rates.yaml arrs {year}: rate and sources needed")
            return dict(row)
    raise UnknownYear(f"no ARRS rate for {year}; rates are recorded for "
                      f"{', '.join(arrs_years())} (definitions/funding/rates.yaml)")


def arrs_entitlement(pcn_code: str, year: str) -> Entitlement:
    """ARRS sum = rate per weighted patient × the PCN's weighted population."""
    row = arrs_rate(year)
    pop = pcn_population(pcn_code)
    rate = float(row["rate"])  # type: ignore[arg-type]
    weighted = pop.weighted
    return Entitlement(
        pcn_code=pop.pcn_code, pcn_name=pop.pcn_name, year=check_year(year), rate=rate,
        weighted_population=weighted, amount=round(rate * weighted, 2),
        population_text=(f"{BASE_TEXT['weighted']} of {len(pop.practices)} member practices; "
                         f"the DES uses the weighted list at {row.get('population_date')}, "
                         "which is not published"),
        sources=tuple(str(s) for s in list(row["sources"])),  # type: ignore[call-overload]
        note=str(row.get("note", "")), missing_practices=pop.missing)


def funding_lines(pcn_code: str, year: str, care_home_beds: int | None = None) -> pd.DataFrame:
    """Every DES line for the year: rate, base, population, amount (None when a base is not
    available), year and sources. ARRS is the first line."""
    year = check_year(year)
    lines = [r for r in rates()["lines"] if str(r["year"]) == year]
    has_arrs = year in arrs_years()
    if not lines and not has_arrs:
        raise UnknownYear(f"no funding rates for {year}; rates are recorded for "
                          f"{', '.join(sorted(set(funding_years()) | set(arrs_years())))}")
    pop = pcn_population(pcn_code)
    base_values: dict[str, float | None] = {
        "weighted": pop.weighted, "registered": pop.registered, "adjusted": pop.weighted,
        "care_home_bed": float(care_home_beds) if care_home_beds is not None else None}
    rows = []
    if has_arrs:
        e = arrs_entitlement(pcn_code, year)
        rows.append({"stream": "arrs", "title": "Additional Roles Reimbursement Scheme (ARRS)",
                     "year": year, "rate": e.rate, "base": "weighted",
                     "population": e.weighted_population, "amount": e.amount,
                     "population_text": BASE_TEXT["weighted"], "maximum": False,
                     "note": e.note, "sources": "; ".join(e.sources)})
    for r in lines:
        base = str(r["base"])
        value = base_values.get(base)
        share = float(r.get("part_year", 1.0))
        amount = None if value is None else round(float(r["rate"]) * value * share, 2)
        text = BASE_TEXT[base]
        if base == "care_home_bed" and care_home_beds is not None:
            text = ("care home residents coded in the record (a stand-in for CQC beds, "
                    "which are not in the public data pcn has)")
        rows.append({"stream": r["stream"], "title": r["title"], "year": year,
                     "rate": float(r["rate"]), "base": base, "population": value,
                     "amount": amount, "population_text": text,
                     "maximum": bool(r.get("maximum", False)), "note": str(r.get("note", "")),
                     "sources": "; ".join(str(s) for s in r["sources"])})
    return pd.DataFrame(rows)


def population_source() -> str:
    return PAYMENTS_SOURCE
