"""Rebuild the reference data shipped inside the package from ``../shared/data``.

Run from the project root: ``python scripts/build_refdata.py [SHARED_DATA_DIR]``. It only changes
format (CSV -> Parquet, joins, column names); every value comes from the public files listed in
``src/pcn/refdata/data/ATTRIBUTION.md``. Codelists are normalised to OpenCodelists ``code,term``
CSVs under ``src/pcn/definitions/codelists``.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "pcn" / "refdata" / "data"
CODELISTS = ROOT / "src" / "pcn" / "definitions" / "codelists"


def _write(df: pd.DataFrame, name: str) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, OUT / name, compression="zstd")
    print(f"{name}: {len(df):,} rows")


def practices(src: Path) -> None:
    mapping_csv = src / "gp_registration/qof2324_practice_to_pcn_subicb_icb_region.csv"
    m = pd.read_csv(mapping_csv, dtype=str)
    df = pd.DataFrame(
        {
            "practice_code": m.PRACTICE_CODE,
            "practice_name": m.PRACTICE_NAME,
            "pcn_code": m.PCN_ODS_CODE,
            "pcn_name": m.PCN_NAME,
            "sub_icb_code": m.SUB_ICB_ODS_CODE,
            "sub_icb_name": m.SUB_ICB_NAME,
            "icb_code": m.ICB_ODS_CODE,
            "icb_name": m.ICB_NAME,
            "region_code": m.REGION_ODS_CODE,
            "region_name": m.REGION_NAME,
        }
    )
    geo = pd.read_csv(src / "gp_registration/ods_practices_geocoded_wylie102.csv.gz", dtype=str)
    geo = geo[["practice_code", "postcode", "lat", "lon"]].drop_duplicates("practice_code")
    df = df.merge(geo, on="practice_code", how="left")
    df["lat"] = pd.to_numeric(df.lat)
    df["lon"] = pd.to_numeric(df.lon)
    ages = pd.read_csv(src / "gp_registration/gp_practice_age_groups_apr2020_hocl.csv")
    ages = ages.rename(
        columns={
            "PRACTICE_CODE": "practice_code",
            "TOTAL": "list_size",
            "16OV": "age_16_over",
            "17OV": "age_17_over",
            "18OV": "age_18_over",
            "30_74": "age_30_74",
            "50OV": "age_50_over",
            "0_64": "age_0_64",
            "65OV": "age_65_over",
        }
    ).drop(columns=["65OV%"])
    demo = pd.read_csv(src / "gp_registration/gp_practice_demographics_apr2020_hocl.csv")
    demo = demo.rename(
        columns={
            "PRACTICE_CODE": "practice_code",
            "Percent_male": "percent_male",
            "AgeAll": "mean_age",
            "AgeMale": "mean_age_male",
            "AgeFemale": "mean_age_female",
        }
    )[["practice_code", "percent_male", "mean_age", "mean_age_male", "mean_age_female"]]
    df = df.merge(ages, on="practice_code", how="left").merge(demo, on="practice_code", how="left")
    for c in [c for c in df.columns if c.startswith("age_") or c == "list_size"]:
        df[c] = df[c].round().astype("Int64")
    _write(df.sort_values("practice_code"), "practices.parquet")


def lsoas(src: Path) -> None:
    with gzip.open(src / "imd/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz", "rt",
                   encoding="utf-8-sig") as f:
        imd = pd.read_csv(f, dtype=str)
    imd.columns = ["lsoa_code", "lsoa_name", "lad_code", "lad_name", "imd_rank", "imd_decile"]
    imd["imd_rank"] = imd.imd_rank.str.replace(",", "").astype("int32")
    imd["imd_decile"] = imd.imd_decile.astype("int8")
    look = pd.read_csv(src / "geography/lsoa11_msoa11_pcon_lad_county_region_imd_lookup_hocl.csv",
                       dtype=str)
    look = look.rename(columns={"LSOA_CODE": "lsoa_code", "MSOA_CODE": "msoa_code",
                                "REGION": "region_name"})[["lsoa_code", "msoa_code", "region_name"]]
    ruc = pd.read_csv(src / "geography/ruc2011_lsoa11_england_wales.csv", dtype=str)
    ruc = ruc.rename(columns={"LSOA11CD": "lsoa_code", "RUC11CD": "rural_urban",
                              "RUC11": "rural_urban_name"})[
        ["lsoa_code", "rural_urban", "rural_urban_name"]]
    cen = pd.read_csv(src / "geography/lsoa11_centroids_lonlat_bsc.csv")
    cen = cen.rename(columns={"lsoa11_code": "lsoa_code", "longitude": "lon", "latitude": "lat"})
    pop = pd.read_csv(src / "population/lsoa11_population_mid2015_sex_broadage_episkills.csv")
    pop = pop.rename(columns={"lsoa": "lsoa_code", "Total": "pop_total"}).drop(columns=["la"])
    rename = {}
    for c in pop.columns:
        if c[0] in "FM" and c not in ("lsoa_code",):
            band = c[1:].replace(" to ", "_").replace(" and over", "_plus")
            rename[c] = f"pop_{c[0].lower()}_{band}"
    pop = pop.rename(columns=rename).drop_duplicates("lsoa_code")
    df = (imd.merge(look, on="lsoa_code", how="left").merge(ruc, on="lsoa_code", how="left")
          .merge(cen, on="lsoa_code", how="left").merge(pop, on="lsoa_code", how="left"))
    for c in [c for c in df.columns if c.startswith("pop_")]:
        df[c] = df[c].astype("Int32")
    _write(df.sort_values("lsoa_code"), "lsoa.parquet")


def qof(src: Path) -> None:
    a = pd.read_csv(src / "qof/qof1920_output_imd_prevalence.csv")
    a = a.rename(columns={"imd_overall": "imd_decile", "list": "list_size"})
    a = a[a.imd_decile != "Wales"].copy()  # English IMD deciles only
    a["imd_decile"] = a.imd_decile.astype("int8")
    _write(a, "qof_prevalence_imd.parquet")
    r = pd.read_csv(src / "qof/qof1920_output_region_prevalence.csv")
    r = r.rename(columns={"region": "region_name", "list": "list_size"})
    _write(r, "qof_prevalence_region.parquet")


def _norm_codelist(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if any(x.strip() for x in r)]
    lower = [h.lower() for h in header]

    def col(*names: str) -> int | None:
        for n in names:
            if n in lower:
                return lower.index(n)
        return None

    ci = col("code", "dmd_id", "id", "snomed_id")
    ti = col("term", "dmd_name", "nm", "ethnicity")
    if ci is None:
        raise ValueError(f"{path}: no code column in {header}")
    extra = [i for i, h in enumerate(lower) if i not in (ci, ti) and h in
             ("grouping_16", "grouping_6", "label_16", "label_6", "bnf_code")]
    out_header = ["code", "term"] + [lower[i] for i in extra]
    out = []
    seen = set()
    for r in body:
        code = r[ci].strip()
        if not code or code in seen:
            continue
        seen.add(code)
        out.append([code, r[ti].strip() if ti is not None else ""] + [r[i].strip() for i in extra])
    return out_header, out


def codelists(src: Path) -> None:
    CODELISTS.mkdir(parents=True, exist_ok=True)
    for old in CODELISTS.glob("*.csv"):
        old.unlink()
    files = sorted((src / "codelists").rglob("*.csv"))
    n = 0
    for p in files:
        rel = p.relative_to(src / "codelists")
        if rel.parts[0] == "efi" or p.name == "qof_ruleset_snomed_cluster_mapping.csv":
            continue
        header, rows = _norm_codelist(p)
        with open(CODELISTS / p.name, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows)
        n += 1
    # eFI deficits: SNOMED codes only (the record is SNOMED coded), one codelist per deficit.
    efi = pd.read_csv(src / "codelists/efi/efi_deficit_codes.csv", dtype=str)
    efi = efi[efi.coding_system == "snomed"]
    for deficit_id, grp in efi.groupby("deficit_id"):
        grp = grp.drop_duplicates("code")
        buf = io.StringIO()
        grp[["code", "term"]].to_csv(buf, index=False, lineterminator="\n")
        (CODELISTS / f"efi-{deficit_id}.csv").write_text(buf.getvalue())
        n += 1
    deficits = pd.read_csv(src / "codelists/efi/efi_deficits.csv", dtype=str)
    deficits[["deficit_id", "deficit", "definition_note"]].to_csv(
        OUT / "efi_deficits.csv", index=False, lineterminator="\n")
    print(f"codelists: {n} files")


#: NHS Payments to General Practice 2022-23: the columns pcn uses (renamed; values unchanged).
PAYMENT_COLUMNS = {
    "Practice Code": "practice_code",
    "Practice Name": "practice_name",
    "Code": "pcn_code",
    "Contract Type": "contract_type",
    "Practice Rurality": "rurality",
    "Number of Registered Patients (Last Known Figure)": "registered_patients",
    "Number of Weighted Patients (Last Known Figure)": "weighted_patients",
    "Global Sum": "global_sum",
    "PCN Participation": "pcn_participation",
    "PCN Leadership": "pcn_leadership",
    "PCN Support": "pcn_support",
    "PCN Workforce": "pcn_workforce",
    "PCN Investment and impact Fund": "pcn_iif",
    "PCN Care Home Premium": "pcn_care_home_premium",
    "PCN Enhanced Access": "pcn_enhanced_access",
    "PCN Extended Hours Access": "pcn_extended_hours_access",
}


def funding(src: Path) -> None:
    pay = pd.read_csv(src / "funding/nhs_payments_to_general_practice_2022_23.csv",
                      encoding="utf-8-sig", dtype={"Practice Code": str, "Code": str})
    missing = sorted(set(PAYMENT_COLUMNS) - set(pay.columns))
    if missing:
        raise SystemExit(f"payments file lacks columns {missing}")
    df = pay[list(PAYMENT_COLUMNS)].rename(columns=PAYMENT_COLUMNS)
    _write(df, "gp_payments_2022_23.parquet")
    wf = pd.read_csv(src / "workforce/pcn_workforce_fte_by_staff_group.csv",
                     dtype={"PCN_CODE": str})
    wf = wf.rename(columns={"PCN_CODE": "pcn_code", "Year": "year", "PCN_NAME": "pcn_name",
                            "ICB_NAME": "icb_name", "STAFF_GROUP": "staff_group", "FTE": "fte",
                            "IMD": "imd_score", "IMD_quintile": "imd_quintile"})
    _write(wf, "pcn_workforce_fte.parquet")


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
    OUT.mkdir(parents=True, exist_ok=True)
    practices(src)
    lsoas(src)
    qof(src)
    codelists(src)
    funding(src)


if __name__ == "__main__":
    main()
