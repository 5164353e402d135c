"""Who lives where: per-practice plans for the twin built from real reference data.

For each real member practice: its registered list size as last published (NHS Payments to General
Practice 2022-23) and its age structure (NHS Digital, Apr 2020),
its % male, the LSOAs around it (by centroid distance, weighted by LSOA population in each broad
age band, ONS mid-2015) and the ethnic mix plausible for those LSOAs (2011 Census region shares,
shifted by deprivation and urbanity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pcn.refdata import lsoas_near, pcn_practices
from pcn.synth.model import AGES, MAX_AGE, OLD_AGE_SCALE

#: Age groups published per practice: (name, first age, last age).
BAND_EDGES = ((0, 15), (16, 16), (17, 17), (18, 29), (30, 49), (50, 64), (65, 74), (75, MAX_AGE))
#: LSOA population bands, used to choose where a person of a given age lives.
LSOA_BANDS = (
    ("0_15", 0, 15),
    ("16_29", 16, 29),
    ("30_44", 30, 44),
    ("45_64", 45, 64),
    ("65_plus", 65, MAX_AGE),
)
#: Male share by age in England (ONS mid-year estimates, rounded): boys slightly outnumber girls,
#: women outlive men. Shifted per practice on the logit scale to match its % male.
MALE_SHARE_KNOTS = (
    (0, 0.512),
    (20, 0.505),
    (40, 0.497),
    (60, 0.492),
    (70, 0.475),
    (80, 0.43),
    (90, 0.33),
    (105, 0.25),
)
#: Nearest LSOAs considered per practice, and distance decay (km) of the catchment weights.
CATCHMENT_LSOAS = 60
DISTANCE_DECAY_KM = 1.5

#: 2011 Census ethnic groups (16, as in the SNOMED "England and Wales ethnic category 2011
#: census" concepts), England shares (%), ONS 2011 Census table KS201EW.
ETHNIC_GROUPS: tuple[tuple[int, str, float], ...] = (
    (1, "976631000000101", 80.5),  # White British
    (2, "976651000000108", 1.0),  # White Irish
    (3, "976691000000100", 4.6),  # Any other White
    (4, "976711000000103", 0.8),  # Mixed White and Black Caribbean
    (5, "976731000000106", 0.3),  # Mixed White and Black African
    (6, "976751000000104", 0.6),  # Mixed White and Asian
    (7, "976771000000108", 0.5),  # Any other Mixed
    (8, "976791000000107", 2.6),  # Indian
    (9, "976811000000108", 2.1),  # Pakistani
    (10, "976831000000100", 0.8),  # Bangladeshi
    (11, "976871000000103", 1.5),  # Any other Asian
    (12, "976911000000101", 1.1),  # Black Caribbean
    (13, "976891000000104", 1.8),  # Black African
    (14, "976931000000109", 0.5),  # Any other Black
    (15, "976851000000107", 0.7),  # Chinese
    (16, "976971000000106", 1.0),  # Any other ethnic group
)
#: White British share by region, 2011 Census (%).
WHITE_BRITISH_BY_REGION = {
    "North East": 93.6,
    "North West": 87.1,
    "Yorkshire and The Humber": 85.8,
    "East Midlands": 85.4,
    "West Midlands": 79.2,
    "East of England": 85.3,
    "London": 44.9,
    "South East": 85.2,
    "South West": 91.8,
}
#: Share of patients with no ethnicity recorded (GP records, about 1 in 12).
ETHNICITY_UNRECORDED = 0.08
URBAN_CODES = {"A1", "B1", "C1", "C2"}


@dataclass
class PracticePlan:
    practice_code: str
    name: str
    pcn_code: str
    pcn_name: str
    sub_icb_code: str
    icb_code: str
    region_code: str
    postcode: str
    lsoa_code: str  # the LSOA the surgery sits in
    list_size: int  # real list size as last published (2022-23; else Apr 2020)
    n_registered: int  # registered patients to generate (scaled list size)
    age_pmf: np.ndarray  # probability of each single year of age
    male_share: np.ndarray  # probability male at each single year of age
    lsoa_codes: np.ndarray
    lsoa_imd: np.ndarray
    lsoa_rural: np.ndarray
    lsoa_cum_by_band: np.ndarray  # (5, K) cumulative catchment weights per LSOA age band
    lsoa_minority: np.ndarray  # probability a resident is not White British
    list_size_imputed: bool


def _band_pmf(lo: int, hi: int) -> np.ndarray:
    w = np.zeros(len(AGES))
    if hi == MAX_AGE:
        w[lo:] = np.exp(-(AGES[lo:] - lo) / OLD_AGE_SCALE)
    else:
        w[lo : hi + 1] = 1.0
    return w / w.sum()


def _band_mean(lo: int, hi: int) -> float:
    return float((_band_pmf(lo, hi) * AGES).sum())


def age_distribution(row: pd.Series) -> np.ndarray:
    """Single-year age distribution reproducing the practice's published age groups and mean age.

    The published groups (0-15, 16, 17, 18-29 implied, 30-74, 50+, 65+) leave one degree of
    freedom: how the 65+ split into 65-74 and 75+. It is chosen so the mean age matches the
    published mean, within 30-70% of the 65+ group.
    """
    total = float(row.list_size)
    n16, n17, n18 = float(row.age_16_over), float(row.age_17_over), float(row.age_18_over)
    n30_74, n50, n65 = float(row.age_30_74), float(row.age_50_over), float(row.age_65_over)

    def counts(x75: float) -> list[float]:
        c65_74 = n65 - x75
        c50_64 = n50 - n65
        c30_49 = n30_74 - c50_64 - c65_74
        c18_29 = n18 - n30_74 - x75
        return [total - n16, n16 - n17, n17 - n18, c18_29, c30_49, c50_64, c65_74, x75]

    means = [_band_mean(lo, hi) for lo, hi in BAND_EDGES]
    lo_x, hi_x = 0.3 * n65, 0.7 * n65
    target = float(row.mean_age) if pd.notna(row.mean_age) else None
    if target is None:
        x = 0.47 * n65
    else:
        f_lo = sum(c * m for c, m in zip(counts(lo_x), means, strict=True)) / total
        f_hi = sum(c * m for c, m in zip(counts(hi_x), means, strict=True)) / total
        x = lo_x if f_hi == f_lo else lo_x + (target - f_lo) * (hi_x - lo_x) / (f_hi - f_lo)
        x = min(max(x, lo_x), hi_x)
    pmf = np.zeros(len(AGES))
    for c, (lo, hi) in zip(counts(x), BAND_EDGES, strict=True):
        pmf += max(c, 0.0) * _band_pmf(lo, hi)
    return pmf / pmf.sum()


def male_share(percent_male: float, age_pmf: np.ndarray) -> np.ndarray:
    ages, shares = zip(*MALE_SHARE_KNOTS, strict=True)
    base = np.interp(AGES, ages, shares)
    logit = np.log(base / (1 - base))
    lo, hi = -2.0, 2.0
    for _ in range(60):  # bisection on the logit shift so the practice's % male is matched
        mid = (lo + hi) / 2
        share = 1 / (1 + np.exp(-(logit + mid)))
        if float((share * age_pmf).sum()) < percent_male:
            lo = mid
        else:
            hi = mid
    return 1 / (1 + np.exp(-(logit + (lo + hi) / 2)))


def _catchment(practice_code: str) -> pd.DataFrame:
    near = lsoas_near(practice_code, n=CATCHMENT_LSOAS).copy()
    pop_cols = [c for c in near.columns if c.startswith("pop_")]
    fallback = near[pop_cols].median(numeric_only=True)
    for c in pop_cols:
        near[c] = (
            near[c].astype("float64").fillna(float(fallback[c]) if pd.notna(fallback[c]) else 100.0)
        )
    decay = np.exp(-near.distance_km.to_numpy() / DISTANCE_DECAY_KM)
    near["decay"] = decay
    return near


def minority_share(region: np.ndarray, imd: np.ndarray, rural: np.ndarray) -> np.ndarray:
    """Probability a resident is not White British: the region's 2011 share, higher in more
    deprived and urban LSOAs (a documented modelling assumption)."""
    base = np.array([1 - WHITE_BRITISH_BY_REGION.get(r, 80.5) / 100 for r in region])
    deprivation = 1.6 - 0.12 * (np.asarray(imd, dtype=float) - 1)  # 1.6 (decile 1) .. 0.52
    urban = np.where(np.isin(rural, list(URBAN_CODES)), 1.15, 0.35)
    return np.clip(base * deprivation * urban, 0.005, 0.9)


def current_list_sizes(practice_codes: list[str]) -> dict[str, int]:
    """Registered patients as last published for these practices (NHS Payments to General
    Practice 2022-23, "Number of Registered Patients (Last Known Figure)"); absent: omitted."""
    from pcn.refdata.funding import published_lists

    lists = published_lists(practice_codes)
    lists = lists[lists["registered_patients"].fillna(0) > 0]
    return {str(c): int(n) for c, n in zip(lists["practice_code"], lists["registered_patients"],
                                            strict=True)}


def practice_plans(pcn_code: str, patients: int | None) -> list[PracticePlan]:
    """Plans for every member practice; ``patients`` scales all list sizes to that total."""
    members = pcn_practices(pcn_code)
    known = members.list_size.notna()
    # Practices opened after Apr 2020 have no published list: use the PCN's median practice.
    typical = (
        members[known].iloc[int(np.argsort(members[known].list_size.to_numpy())[known.sum() // 2])]
        if known.any()
        else None
    )
    real_sizes = []
    rows = []
    current = current_list_sizes(list(members.practice_code))
    for _, row in members.iterrows():
        imputed = pd.isna(row.list_size)
        if imputed:
            if typical is None:
                raise ValueError(f"PCN {pcn_code} has no practice with a published list size")
            row = _fill(row, typical)
        rows.append((row, imputed))
        # The list as last published (NHS Payments to General Practice 2022-23, "last known
        # figure"); the April 2020 list only where the practice is missing there. The age and
        # sex structure stays the April 2020 one (the latest published by single practice).
        real_sizes.append(int(current.get(row.practice_code, row.list_size)))
    total_real = sum(real_sizes)
    target = patients or total_real
    # Largest-remainder scaling so the scaled sizes add up exactly to the target.
    exact = np.array(real_sizes, dtype=float) * target / total_real
    scaled = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - scaled))[: target - int(scaled.sum())]:
        scaled[i] += 1
    plans = []
    for (row, imputed), n in zip(rows, scaled, strict=True):
        pmf = age_distribution(row)
        pm = float(row.percent_male) if pd.notna(row.percent_male) else 0.5
        near = _catchment(row.practice_code)
        cum = []
        for name, _, _ in LSOA_BANDS:
            w = (near[f"pop_f_{name}"] + near[f"pop_m_{name}"]).to_numpy() * near.decay.to_numpy()
            cum.append(np.cumsum(w) / w.sum())
        plans.append(
            PracticePlan(
                practice_code=row.practice_code,
                name=row.practice_name,
                pcn_code=row.pcn_code,
                pcn_name=row.pcn_name,
                sub_icb_code=row.sub_icb_code,
                icb_code=row.icb_code,
                region_code=row.region_code,
                postcode=row.postcode,
                lsoa_code=str(near.lsoa_code.iloc[0]),
                list_size=int(current.get(row.practice_code, row.list_size)),
                n_registered=int(n),
                age_pmf=pmf,
                male_share=male_share(pm, pmf),
                lsoa_codes=near.lsoa_code.to_numpy().astype(str),
                lsoa_imd=near.imd_decile.to_numpy().astype(np.int64),
                lsoa_rural=near.rural_urban.to_numpy().astype(str),
                lsoa_cum_by_band=np.vstack(cum),
                lsoa_minority=minority_share(
                    near.region_name.to_numpy(),
                    near.imd_decile.to_numpy(),
                    near.rural_urban.to_numpy(),
                ),
                list_size_imputed=bool(imputed),
            )
        )
    return plans


def _fill(row: pd.Series, typical: pd.Series) -> pd.Series:
    row = row.copy()
    for c in (
        "list_size",
        "age_16_over",
        "age_17_over",
        "age_18_over",
        "age_30_74",
        "age_50_over",
        "age_0_64",
        "age_65_over",
        "percent_male",
        "mean_age",
    ):
        row[c] = typical[c]
    return row
