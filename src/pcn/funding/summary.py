"""A PCN's funding summary for a year: every DES line with its year and source (CLI and web)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pcn.funding.money import funding_lines, pcn_population, population_source
from pcn.reporting.csv_safe import csv_text


@dataclass(frozen=True)
class FundingSummary:
    pcn_code: str
    pcn_name: str
    year: str
    lines: pd.DataFrame
    population_source: str
    notes: tuple[str, ...]

    @property
    def total(self) -> float | None:
        known = self.lines["amount"].dropna()
        return float(known.sum()) if len(known) else None

    def csv(self) -> str:
        out = self.lines[["stream", "title", "year", "rate", "base", "population", "amount",
                          "maximum", "population_text", "note", "sources"]].copy()
        out.insert(0, "pcn_code", self.pcn_code)
        buffer = io.StringIO()
        buffer.write(csv_text(out))
        return buffer.getvalue()


def care_home_residents(record_dir: Path, pcn_code: str) -> int | None:
    """Coded care home residents in the record, when the record is this PCN's (else None)."""
    from pcn.funding.weighted import record_population

    pop = record_population(record_dir)
    pcns = set(pop.practices.get("pcn_code", pd.Series(dtype=str)).dropna().astype(str))
    if pcns != {pcn_code.strip().upper()}:
        return None
    return int(pop.patients["care_home"].sum())


def funding_summary(pcn_code: str, year: str, record_dir: Path | None = None, *,
                    care_home_beds: int | None = None) -> FundingSummary:
    pop = pcn_population(pcn_code)
    beds = care_home_beds
    if beds is None and record_dir is not None:
        beds = care_home_residents(record_dir, pop.pcn_code)
    lines = funding_lines(pop.pcn_code, year, care_home_beds=beds)
    notes = [
        "Populations are the published 2022/23 lists; the DES pays on lists at 1 January "
        "before the year, which are not published in time.",
        "Adjusted Population: the DES definition was not verified; the weighted population "
        "stands in for it.",
        "CAIP is the maximum payable; it depends on the PCN's improvement plan.",
    ]
    if beds is None:
        notes.append("Care home premium: not available (CQC beds are not in the public data "
                     "pcn has; give a record of this PCN to count coded residents).")
    return FundingSummary(pcn_code=pop.pcn_code, pcn_name=pop.pcn_name, year=lines["year"].iloc[0],
                          lines=lines, population_source=population_source(),
                          notes=tuple(notes))
