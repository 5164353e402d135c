"""Practices, PCNs and LSOAs: who is in which network, and the places around them."""

from __future__ import annotations

import difflib
from functools import cache
from importlib import resources
from typing import cast

import numpy as np
import pandas as pd

_DATA = resources.files("pcn.refdata") / "data"

#: LSOA population columns: sex × broad age band (ONS mid-2015 small-area estimates).
POP_BANDS = ("0_15", "16_29", "30_44", "45_64", "65_plus")


class UnknownCode(LookupError):
    """An ODS or LSOA code that is not in the reference data."""


def _read(name: str) -> pd.DataFrame:
    with resources.as_file(_DATA / name) as path:
        return pd.read_parquet(path)


@cache
def practices() -> pd.DataFrame:
    """Every practice in the QOF 2023-24 mapping with its hierarchy, location and list data."""
    return _read("practices.parquet")


@cache
def lsoas() -> pd.DataFrame:
    """Every English LSOA (2011): IMD 2019 rank/decile, rurality, centroid, population."""
    return _read("lsoa.parquet")


@cache
def _lsoa_index() -> pd.DataFrame:
    return lsoas().set_index("lsoa_code")


def pcns() -> pd.DataFrame:
    """One row per PCN code: name, (first) ICB, number of practices and summed list size.

    The code "U" groups practices not allocated to any PCN; a few PCNs span two ICBs.
    """
    p = practices().sort_values(["pcn_code", "practice_code"])
    return (
        p.groupby("pcn_code", as_index=False)
        .agg(pcn_name=("pcn_name", "first"), icb_code=("icb_code", "first"),
             icb_name=("icb_name", "first"), region_name=("region_name", "first"),
             practices=("practice_code", "count"), list_size=("list_size", "sum"))
        .reset_index(drop=True)
    )


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def pcn_practices(pcn_code: str) -> pd.DataFrame:
    """The member practices of a PCN, with list sizes and age structure."""
    code = pcn_code.strip().upper()
    p = practices()
    rows = p[p.pcn_code == code]
    if rows.empty:
        raise UnknownCode(
            f"no PCN with ODS code {code!r} in the QOF 2023-24 mapping"
            + _suggest(code, sorted(p.pcn_code.unique()))
        )
    return rows.reset_index(drop=True)


def practice(practice_code: str) -> pd.Series:
    code = practice_code.strip().upper()
    p = practices()
    rows = p[p.practice_code == code]
    if rows.empty:
        raise UnknownCode(
            f"no practice with ODS code {code!r}" + _suggest(code, list(p.practice_code))
        )
    return rows.iloc[0]


def lsoa(lsoa_code: str) -> pd.Series:
    try:
        return cast(pd.Series, _lsoa_index().loc[lsoa_code.strip().upper()])
    except KeyError:
        raise UnknownCode(f"no English LSOA (2011) with code {lsoa_code!r}") from None


def imd_decile(lsoa_code: str) -> int:
    """IMD 2019 national decile of an LSOA (1 = most deprived 10%)."""
    return int(lsoa(lsoa_code)["imd_decile"])


def haversine_km(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    r = 6371.0088
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(a))


def lsoas_near(practice_code: str, n: int = 40, radius_km: float | None = None) -> pd.DataFrame:
    """LSOAs nearest a practice by centroid distance (``distance_km``), nearest first."""
    p = practice(practice_code)
    if pd.isna(p["lat"]) or pd.isna(p["lon"]):
        raise UnknownCode(f"practice {p['practice_code']} has no known location")
    df = lsoas().dropna(subset=["lat", "lon"]).copy()
    df["distance_km"] = haversine_km(
        float(p["lat"]), float(p["lon"]), df.lat.to_numpy(), df.lon.to_numpy()
    )
    df = df.sort_values(["distance_km", "lsoa_code"])
    if radius_km is not None:
        df = df[df.distance_km <= radius_km]
    return df.head(n).reset_index(drop=True)


@cache
def qof_prevalence_by_imd() -> pd.DataFrame:
    """QOF 2019-20 modelled register, list and prevalence by IMD decile and register group."""
    return _read("qof_prevalence_imd.parquet")


@cache
def qof_prevalence_by_region() -> pd.DataFrame:
    return _read("qof_prevalence_region.parquet")
