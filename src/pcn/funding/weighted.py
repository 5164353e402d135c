"""Weighted populations from the record: the Carr-Hill-style list and the deprivation-adjusted one.

A practice's weighted list is the sum of its registered patients' weights:

- ``carr_hill``: the weight of the patient's age band, plus the rurality weight when the practice
  is classed rural (``definitions/funding/carr_hill.yaml``; components the public data cannot give
  are listed there and reported, never invented);
- ``imd_need``: the ``carr_hill`` weight times the need index of the IMD 2019 decile of the
  patient's LSOA (``definitions/funding/imd_need.yaml``).

Published lists (NHS Payments to General Practice 2022-23) are shown beside the estimates, and the
money each formula would allocate at the 2022-23 Global Sum per weighted patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pcn import refdata
from pcn.access.secondary_use import opted_out
from pcn.funding.definitions import carr_hill, imd_need
from pcn.record import Record, open_record
from pcn.record.schemas import TABLES
from pcn.refdata.funding import PAYMENTS_SOURCE, PAYMENTS_YEAR, gp_payments

FORMULAS = ("carr_hill", "imd_need")
FORMULA_TITLES = {"carr_hill": "Carr-Hill-style", "imd_need": "Deprivation-adjusted (IMD need)"}
CONTRACT_COLUMNS = ["practice_code", "registered", "weighted_estimate", "weighted_published",
                    "formula"]


class FundingInputError(ValueError):
    """Input the weighted-list computation cannot use (names the field and why)."""


@cache
def need_by_decile() -> dict[int, float]:
    """IMD decile (1 = most deprived) → need index, England's list-weighted mean = 1."""
    spec = imd_need()
    q = refdata.qof_prevalence_by_imd()
    q = q[q["group_code"].isin(spec.register_groups)]
    missing = sorted(set(spec.register_groups) - set(q["group_code"]))
    if missing:
        raise FundingInputError(f"QOF prevalence has no rows for register groups {missing}")
    burden = q.groupby("imd_decile")["prevalence"].sum()
    pop = q[q["group_code"] == spec.population_group].set_index("imd_decile")["list_size"]
    national = float((burden * pop).sum() / pop.sum())
    return {int(str(d)): float(v / national) for d, v in burden.items()}


@cache
def global_sum_rate() -> float:
    """£ per weighted patient, 2022-23: England's GMS Global Sum over GMS weighted lists."""
    pay = gp_payments()
    gms = pay[(pay["contract_type"] == "GMS") & (pay["global_sum"] > 0)
              & (pay["weighted_patients"] > 0)]
    return float(gms["global_sum"].sum() / gms["weighted_patients"].sum())


GLOBAL_SUM_RATE_SOURCE = (f"£ per weighted patient {PAYMENTS_YEAR}: England's Global Sum paid to "
                          "GMS practices divided by their weighted lists (" + PAYMENTS_SOURCE + ")")


def patient_weights(patients: pd.DataFrame, rural: Mapping[str, bool]) -> pd.DataFrame:
    """Per patient: ``carr_hill`` and ``imd_need`` weights.

    ``patients`` needs ``practice_code``, ``age`` (whole years, ≥ 0) and ``imd_decile`` (1-10 or
    missing). ``rural`` maps practice code → classed rural (absent = not rural)."""
    for column in ("practice_code", "age", "imd_decile"):
        if column not in patients.columns:
            raise FundingInputError(f"patients: column {column!r} is missing")
    ages = pd.to_numeric(patients["age"], errors="coerce")
    bad = ages.isna() | (ages < 0)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FundingInputError(f"patients row {row}: age {patients['age'].iloc[row]!r} is not "
                                "a whole number of years ≥ 0")
    spec = carr_hill()
    weight = np.zeros(len(patients))
    a = ages.to_numpy(dtype=float)
    for band in spec.age_bands:
        upper = np.inf if band.max_age is None else band.max_age
        weight[(a >= band.min_age) & (a <= upper)] = band.weight
    is_rural = patients["practice_code"].map(lambda c: bool(rural.get(str(c), False)))
    weight = weight + np.where(is_rural.to_numpy(dtype=bool), spec.rural_weight, 0.0)
    needs = need_by_decile()
    decile = pd.to_numeric(patients["imd_decile"], errors="coerce")
    mapped = decile.map(lambda d: needs.get(int(d)) if pd.notna(d) else None)
    need = mapped.fillna(imd_need().missing_decile_need).to_numpy(dtype=float)
    out = pd.DataFrame({"practice_code": patients["practice_code"].astype(str).to_numpy(),
                        "carr_hill": weight, "imd_need": weight * need,
                        "imd_known": decile.notna().to_numpy()})
    return out


def rural_flags(practice_codes: list[str]) -> dict[str, bool]:
    pay = gp_payments()
    rows = pay[pay["practice_code"].isin(practice_codes)]
    return {str(c): str(r) == "Rural" for c, r in zip(rows["practice_code"], rows["rurality"],
                                                    strict=True)}


def weighted_lists(patients: pd.DataFrame, practice_codes: list[str]) -> pd.DataFrame:
    """The contract table: one row per practice and formula (``CONTRACT_COLUMNS``)."""
    codes = sorted(set(practice_codes))
    w = patient_weights(patients, rural_flags(codes))
    grouped = w.groupby("practice_code")
    registered = grouped.size().reindex(codes, fill_value=0)
    published = gp_payments().set_index("practice_code")["weighted_patients"]
    rows = []
    for formula in FORMULAS:
        total = grouped[formula].sum().reindex(codes, fill_value=0.0)
        for code in codes:
            pub = published.get(code)
            rows.append({"practice_code": code, "registered": int(registered[code]),
                         "weighted_estimate": round(float(total[code]), 2),
                         "weighted_published": float(pub) if pub is not None and pd.notna(pub)
                         else None,
                         "formula": formula})
    return pd.DataFrame(rows, columns=CONTRACT_COLUMNS)


@dataclass(frozen=True)
class RecordPopulation:
    patients: pd.DataFrame  # practice_code, age, imd_decile, care_home
    practices: pd.DataFrame  # practice_code, practice_name, pcn_code
    as_of: dt.date
    #: registered patients left out per practice because they opted out (type 1 or national
    #: data opt-out); the published lists count them
    opted_out_by_practice: dict[str, int] = field(default_factory=dict)

    @property
    def opted_out_left_out(self) -> int:
        return sum(self.opted_out_by_practice.values())


CARE_HOME_CODES = ("160734000", "394923006", "248171000000108")


def record_population(record_dir: Path) -> RecordPopulation:
    """Registered, living patients on the record's date with age, IMD decile and care home flag."""
    record = open_record(record_dir)
    source = record.manifest.source or {}
    as_of = dt.date.fromisoformat(str(source["as_of"])) if source.get("as_of") else dt.date.today()
    when = pd.Timestamp(as_of)
    regs = record.read("registrations").to_pandas()
    live = regs[(pd.to_datetime(regs["start_date"]) <= when)
                & (regs["end_date"].isna() | (pd.to_datetime(regs["end_date"]) > when))]
    pats = record.read("patients", columns=["patient_id", "date_of_birth", "date_of_death",
                                            "lsoa_code"]).to_pandas()
    pats = pats[pats["date_of_death"].isna() | (pd.to_datetime(pats["date_of_death"]) > when)]
    frame = live[["patient_id", "practice_code"]].merge(pats, on="patient_id", how="inner")
    # Funding figures are planning (secondary use): opted-out patients are left out, as from
    # every secondary-use output (pcn.access.secondary_use, ADR 0063).
    excluded = opted_out(record)
    gone = frame["patient_id"].isin(sorted(excluded)).to_numpy() if excluded else None
    left_out: dict[str, int] = {}
    if gone is not None:
        left_out = {str(k): int(v) for k, v in
                    frame.loc[gone, "practice_code"].value_counts().items()}
        frame = frame[~gone]
    dob = pd.to_datetime(frame["date_of_birth"])
    had_birthday = (dob.dt.month < as_of.month) | ((dob.dt.month == as_of.month)
                                                   & (dob.dt.day <= as_of.day))
    frame["age"] = as_of.year - dob.dt.year - (~had_birthday).astype(int)
    lsoa = record.read("lsoa", columns=["lsoa_code", "imd_decile"]).to_pandas()
    frame = frame.merge(lsoa, on="lsoa_code", how="left")
    in_home = _coded_patients(record, CARE_HOME_CODES)
    frame["care_home"] = frame["patient_id"].isin(sorted(in_home))
    practices = record.read("practices", columns=["practice_code", "name", "pcn_code"])
    practices = practices.to_pandas().rename(columns={"name": "practice_name"})
    return RecordPopulation(patients=frame[["practice_code", "age", "imd_decile", "care_home"]],
                            practices=practices.sort_values("practice_code", ignore_index=True),
                            as_of=as_of, opted_out_by_practice=left_out)


def _coded_patients(record: Record, codes: tuple[str, ...]) -> set[int]:
    """Patients with any of these SNOMED codes ever (a filtered scan, not the whole table)."""
    files = [str(f) for f in record.files("clinical_events")]
    if not files:
        return set()
    data = ds.dataset(files, format="parquet", schema=TABLES["clinical_events"].schema)
    table = data.to_table(columns=["patient_id"],
                          filter=pc.field("snomed_code").isin(list(codes)))
    return {int(v) for v in table.column("patient_id").to_pylist()}


def comparison(pop: RecordPopulation) -> pd.DataFrame:
    """Per practice and a PCN total: estimates beside published lists, errors and allocations."""
    codes = list(pop.practices["practice_code"])
    lists = weighted_lists(pop.patients, codes)
    ch = lists[lists["formula"] == "carr_hill"].set_index("practice_code")
    dep = lists[lists["formula"] == "imd_need"].set_index("practice_code")
    pay = gp_payments().set_index("practice_code")
    rate = global_sum_rate()
    names = pop.practices.set_index("practice_code")["practice_name"]
    care = pop.patients.groupby("practice_code")["care_home"].sum()
    imd_known = pop.patients["imd_decile"].notna().groupby(pop.patients["practice_code"]).mean()
    rows = []
    for code in codes:
        published = pay.loc[code] if code in pay.index else None
        rows.append({
            "practice_code": code,
            "opted_out_left_out": int(pop.opted_out_by_practice.get(code, 0)),
            "practice_name": str(names[code]) if pd.notna(names[code]) else code,
            "registered": int(ch.loc[code, "registered"]),
            "registered_published": float(published["registered_patients"])
            if published is not None else None,
            "carr_hill": float(ch.loc[code, "weighted_estimate"]),
            "weighted_published": float(published["weighted_patients"])
            if published is not None else None,
            "imd_need": float(dep.loc[code, "weighted_estimate"]),
            "care_home_residents": int(care.get(code, 0)),
            "imd_known_share": float(imd_known.get(code, 0.0)),
            "global_sum_published": float(published["global_sum"])
            if published is not None else None,
        })
    df = pd.DataFrame(rows)
    total = {"practice_code": "PCN", "practice_name": "Whole PCN",
             "opted_out_left_out": int(df["opted_out_left_out"].sum()),
             "registered": int(df["registered"].sum()),
             "registered_published": _sum_or_none(df["registered_published"]),
             "carr_hill": float(df["carr_hill"].sum()),
             "weighted_published": _sum_or_none(df["weighted_published"]),
             "imd_need": float(df["imd_need"].sum()),
             "care_home_residents": int(df["care_home_residents"].sum()),
             "imd_known_share": float(pop.patients["imd_decile"].notna().mean())
             if len(pop.patients) else 0.0,
             "global_sum_published": _sum_or_none(df["global_sum_published"])}
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["error_pct"] = (df["carr_hill"] / df["weighted_published"] - 1) * 100
    df["ratio_estimate"] = df["carr_hill"] / df["registered"]
    df["ratio_published"] = df["weighted_published"] / df["registered_published"]
    df["ratio_error_pct"] = (df["ratio_estimate"] / df["ratio_published"] - 1) * 100
    # Where the error comes from (the four factors multiply to 1 + error): list size (the
    # record's whole list against the published one), opted-out patients left out (secondary
    # use), the record's age mix against the practice's published age mix (both through the same
    # weights), and what the fitted weights miss for this practice: the Carr-Hill components
    # public data cannot give.
    model = _model_ratio_on_published_ages(list(df["practice_code"]))
    df["ratio_model_published_ages"] = df["practice_code"].map(model)
    registered_all = df["registered"] + df["opted_out_left_out"]
    df["list_effect_pct"] = (registered_all / df["registered_published"] - 1) * 100
    df["opt_out_effect_pct"] = (df["registered"] / registered_all - 1) * 100
    df["age_mix_effect_pct"] = (df["ratio_estimate"] / df["ratio_model_published_ages"] - 1) * 100
    df["missing_components_pct"] = (df["ratio_model_published_ages"] / df["ratio_published"]
                                    - 1) * 100
    df["allocation_carr_hill"] = df["carr_hill"] * rate
    df["allocation_imd_need"] = df["imd_need"] * rate
    df["allocation_difference"] = df["allocation_imd_need"] - df["allocation_carr_hill"]
    return df


def _model_ratio_on_published_ages(codes: list[str]) -> dict[str, float]:
    """The fitted weights applied to each practice's published (Apr 2020) age structure."""
    spec = carr_hill()
    weights = {b.id: b.weight for b in spec.age_bands}
    ages = refdata.practices().set_index("practice_code")
    pay = gp_payments().set_index("practice_code")
    out: dict[str, float] = {}
    listed = [c for c in codes if c in ages.index and c in pay.index]
    for code in listed:
        row = ages.loc[code]
        n = float(row["list_size"]) if pd.notna(row["list_size"]) else 0.0  # type: ignore[arg-type]
        if n <= 0 or pd.isna(row["age_16_over"]) or pd.isna(row["age_65_over"]):
            continue
        s0 = (n - float(row["age_16_over"])) / n
        s2 = float(row["age_65_over"]) / n
        rural = spec.rural_weight if pay.loc[code, "rurality"] == "Rural" else 0.0
        out[code] = (weights["age_0_15"] * s0 + weights["age_16_64"] * (1 - s0 - s2)
                     + weights["age_65_plus"] * s2 + rural)
    if listed and all(c in out for c in listed) and len(listed) == len(codes) - 1:
        reg = pay.loc[listed, "registered_patients"]
        out["PCN"] = float(sum(out[c] * reg[c] for c in listed) / reg.sum())
    return out


def _sum_or_none(values: pd.Series) -> float | None:
    """A total only when every part is known (a partial sum would be a wrong number)."""
    if values.isna().any():
        return None
    return float(values.sum())
