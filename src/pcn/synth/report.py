"""How realistic is a twin? Register prevalence beside its QOF-calibrated expectation.

Registers are counted from the codes in the record (independently of how the twin drew them), with
the QOF register rules that the shipped codelists support; the expectation is what the QOF
calibration predicts for exactly the twin's registered population (its ages, sexes and IMD deciles).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from rich.console import Console
from rich.table import Table

from pcn.record.store import Record, open_record
from pcn.refdata import codelist
from pcn.synth.model import conditions, expectation_frame

P = "nhsd-primary-care-domain-refsets-"
#: Register rules for counting from codes: (codelists, resolved codelist, earliest date).
REGISTER_CODES: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {
    "hypertension": ((P + "hyp_cod",), P + "hypres_cod", None),
    "diabetes": ((P + "dm_cod",), P + "dmres_cod", None),
    "asthma": ((P + "ast_cod",), P + "astres_cod", None),
    "copd": ((P + "copd_cod",), None, None),
    "chd": ((P + "chd_cod",), None, None),
    "stroke_tia": ((P + "strk_cod", P + "tia_cod"), None, None),
    "atrial_fibrillation": ((P + "afib_cod",), None, None),
    "heart_failure": ((P + "hf_cod",), None, None),
    "ckd": ((P + "ckd_cod",), None, None),
    "dementia": ((P + "dem_cod",), None, None),
    "depression": ((P + "depr_cod",), None, "2006-04-01"),
    "smi": ((P + "mh_cod",), None, None),
    "learning_disability": ((P + "ld_cod",), None, None),
    "epilepsy": ((P + "epil_cod",), None, None),
    "osteoporosis": ((P + "osteo_cod",), None, None),
    "rheumatoid_arthritis": ((P + "rarth_cod",), None, None),
    "pad": ((P + "pad_cod",), None, None),
    "cancer": ((P + "solid-cancer-diagnosis-codes",), None, "2003-04-01"),
    "palliative_care": ((P + "palcare_cod",), P + "palcareni_cod", "2008-04-01"),
    "ndh": ((P + "ndh_cod",), None, None),
}
BMI_CODE = "60621009"


def _connect(record: Record) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("patients", "registrations", "clinical_events", "lsoa", "practices"):
        files = [str(f) for f in record.files(name)]
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r})")
    return con


def registered_population(record: Record, as_of: dt.date) -> pd.DataFrame:
    con = _connect(record)
    return con.execute(f"""
        SELECT p.patient_id, r.practice_code, p.sex, l.imd_decile,
               date_diff('year', p.date_of_birth, DATE '{as_of}')
                 - CASE WHEN strftime(DATE '{as_of}', '%m%d') < strftime(p.date_of_birth, '%m%d')
                        THEN 1 ELSE 0 END AS age
        FROM patients p
        JOIN registrations r USING (patient_id)
        LEFT JOIN lsoa l USING (lsoa_code)
        WHERE r.start_date <= DATE '{as_of}'
          AND (r.end_date IS NULL OR r.end_date > DATE '{as_of}')
          AND (p.date_of_death IS NULL OR p.date_of_death > DATE '{as_of}')
    """).df()


def register_members(record: Record, as_of: dt.date) -> dict[str, set[int]]:
    """Patients on each register at ``as_of``, counted from codes alone."""
    con = _connect(record)
    out: dict[str, set[int]] = {}
    for reg, (lists, resolved, earliest) in REGISTER_CODES.items():
        codes = sorted(set().union(*(codelist(c).codes for c in lists)))
        con.execute("CREATE OR REPLACE TEMP TABLE want AS SELECT unnest(?) AS code", [codes])
        since = f"AND date >= DATE '{earliest}'" if earliest else ""
        res_sql = "SELECT NULL::BIGINT AS patient_id, NULL::DATE AS d WHERE false"
        if resolved:
            rcodes = sorted(codelist(resolved).codes)
            con.execute("CREATE OR REPLACE TEMP TABLE res AS SELECT unnest(?) AS code", [rcodes])
            res_sql = f"""SELECT patient_id, max(date) AS d FROM clinical_events
                          WHERE snomed_code IN (SELECT code FROM res)
                            AND date <= DATE '{as_of}' GROUP BY 1"""
        rows = con.execute(f"""
            WITH dx AS (SELECT patient_id, max(date) AS d FROM clinical_events
                        WHERE snomed_code IN (SELECT code FROM want)
                          AND date <= DATE '{as_of}' {since} GROUP BY 1),
                 rs AS ({res_sql})
            SELECT dx.patient_id FROM dx LEFT JOIN rs USING (patient_id)
            WHERE rs.d IS NULL OR dx.d > rs.d
        """).fetchall()
        out[reg] = {r[0] for r in rows}
    # Obesity (QOF OB): BMI >= 30 recorded in the 12 months to the as-of date.
    year_ago = as_of - dt.timedelta(days=365)
    rows = con.execute(f"""
        SELECT patient_id FROM (
          SELECT patient_id, numeric_value,
                 row_number() OVER (PARTITION BY patient_id ORDER BY date DESC,
                                    numeric_value DESC) AS rn
          FROM clinical_events WHERE snomed_code = '{BMI_CODE}'
            AND date > DATE '{year_ago}' AND date <= DATE '{as_of}')
        WHERE rn = 1 AND numeric_value >= 30
    """).fetchall()
    out["obesity"] = {r[0] for r in rows}
    # NDH excludes people on the diabetes register.
    out["ndh"] -= out["diabetes"]
    return out


def prevalence_report(path: str | Path, as_of: dt.date | None = None) -> pd.DataFrame:
    record = open_record(path)
    as_of = as_of or dt.date.fromisoformat(
        str(record.manifest.source.get("as_of") or dt.date.today())
    )
    pop = registered_population(record, as_of)
    members = register_members(record, as_of)
    exp = expectation_frame(
        pop.age.to_numpy(), pop.sex.to_numpy(), pop.imd_decile.fillna(5).astype(int).to_numpy()
    )
    ids_by_age = pop.set_index("patient_id").age
    rows = []
    for _, e in exp.iterrows():
        reg = e.register
        c = conditions()[reg]
        on = members.get(reg, set())
        eligible_ids = set(ids_by_age[ids_by_age >= c.min_age].index)
        count = len(on & eligible_ids)
        prev = count / max(int(e.eligible), 1)
        rows.append(
            {
                "register": reg,
                "qof_group": e.qof_group,
                "min_age": int(e.min_age),
                "count": count,
                "eligible": int(e.eligible),
                "prevalence": prev,
                "expected_prevalence": e.expected_prevalence,
                "ratio": prev / e.expected_prevalence if e.expected_prevalence else float("nan"),
                "qof_by_imd_only": e.qof_by_imd_only,
            }
        )
    df = pd.DataFrame(rows)
    df["within_15pct"] = (df.ratio - 1).abs() <= 0.15
    return df


def render_report(df: pd.DataFrame, console: Console) -> None:
    t = Table(title="Register prevalence: twin vs QOF-calibrated expectation", header_style="bold")
    for col in (
        "register",
        "QOF",
        "count",
        "twin %",
        "expected %",
        "ratio",
        "±15%",
        "QOF by IMD only %",
    ):
        t.add_column(col, justify="left" if col in ("register", "QOF") else "right")
    for _, r in df.iterrows():
        t.add_row(
            r.register,
            r.qof_group or "—",
            f"{r['count']:,}",
            f"{100 * r.prevalence:.2f}",
            f"{100 * r.expected_prevalence:.2f}",
            f"{r.ratio:.3f}",
            "[green]yes[/]" if r.within_15pct else "[red]no[/]",
            f"{100 * r.qof_by_imd_only:.2f}",
        )
    console.print(t)
    console.print(
        "expected = QOF 2019-20 prevalence by IMD decile, adjusted for the twin's own "
        "age/sex mix (pcn.synth.model); QOF by IMD only = the same without the age/sex "
        "adjustment.",
        style="dim",
    )


def record_summary(path: str | Path) -> dict[str, Any]:
    record = open_record(path)
    src = record.manifest.source
    as_of = dt.date.fromisoformat(str(src.get("as_of") or dt.date.today()))
    pop = registered_population(record, as_of)
    practices = record.read("practices").to_pandas()
    counts = (
        pop.groupby("practice_code")
        .agg(
            registered=("patient_id", "count"),
            mean_age=("age", "mean"),
            aged_65_plus=("age", lambda a: int((a >= 65).sum())),
            imd_1_2=("imd_decile", lambda d: int((d <= 2).sum())),
        )
        .reset_index()
    )
    view = practices[["practice_code", "name"]].merge(counts, on="practice_code", how="left")
    view["mean_age"] = view.mean_age.round(1)
    rep = prevalence_report(path, as_of)
    reg = rep[["register", "count", "prevalence", "expected_prevalence"]].copy()
    reg["prevalence"] = (100 * reg.prevalence).round(2)
    reg["expected_prevalence"] = (100 * reg.expected_prevalence).round(2)
    reg = reg.rename(columns={"prevalence": "twin %", "expected_prevalence": "expected %"})
    return {
        "pcn_code": src.get("pcn_code", ""),
        "pcn_name": str(practices.pcn_name.iloc[0]) if len(practices) else "",
        "as_of": as_of.isoformat(),
        "practices": view,
        "registers": reg,
        "registered": len(pop),
    }


# ---- realism against external figures (issue 19) ----------------------------------------------
#: Published figures for England the twin is compared with (never the generator's own
#: parameters): measure → (external value, unit, source).
EXTERNAL_FIGURES: dict[str, tuple[float, str, str]] = {
    "prescription_items_per_patient_year": (
        19.0, "items", "NHSBSA Prescription Cost Analysis England 2022-23: 1.18 billion items "
        "dispensed / 62 million registered patients"),
    "aged_65_plus_on_5_or_more_medicines": (
        0.49, "share", "Health Survey for England 2016, Prescribed medicines: about half of "
        "people aged 65+ take 5 or more"),
    "smoking_status_recorded_12m_ltc": (
        0.90, "share", "QOF 2022-23 SMOK002 (people 15+ with CHD, stroke/TIA, PAD, hypertension, "
        "diabetes, COPD, CKD, asthma or SMI: status recorded in 12 months): over 90%"),
    "elective_admissions_per_1000": (
        150.0, "per 1,000 a year", "Hospital Episode Statistics, admitted patient care England "
        "2022-23: about 8.5 million elective admissions (incl. day cases)"),
    "emergency_admissions_per_1000": (
        110.0, "per 1,000 a year", "Hospital Episode Statistics, admitted patient care England "
        "2022-23: about 6.3 million emergency admissions"),
    "prior_admission_relative_risk": (
        3.5, "ratio", "Wallace E et al., Risk prediction models to predict emergency hospital "
        "admission in community-dwelling adults: a systematic review, Med Care 2014: a previous "
        "admission raises next-year risk 3 to 5-fold"),
    "between_practice_overdispersion_phi": (
        3.0, "phi", "Spiegelhalter 2005 (QSHC 14:347): practice indicators are typically "
        "over-dispersed (phi well above 1); 1 = binomial noise only"),
    "cervical_screening_25_49": (
        0.658, "share", "NHS England, Cervical Screening Programme England 2022-23: coverage "
        "25-49 (3.5 years)"),
}


def realism_report(path: str | Path, as_of: dt.date | None = None) -> pd.DataFrame:
    """The twin's own figures, counted from the record, beside published figures for England.
    ``ratio`` = twin / external; ``plausible`` = within a factor of 1.5 either way."""
    from pcn.measures.funnel import _overdispersion

    record = open_record(path)
    as_of = as_of or dt.date.fromisoformat(
        str(record.manifest.source.get("as_of") or dt.date.today()))
    pop = registered_population(record, as_of)
    con = _connect(record)
    for name in ("medications", "hospital_activity"):
        files = [str(f) for f in record.files(name)]
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r})")
    con.register("pop", pop)
    year_ago = (pd.Timestamp(as_of) - pd.DateOffset(years=1)).date()
    two_ago = (pd.Timestamp(as_of) - pd.DateOffset(years=2)).date()
    n = max(len(pop), 1)
    items = con.execute(f"""SELECT count(*) FROM medications m JOIN pop USING (patient_id)
        WHERE m.date > DATE '{year_ago}' AND m.date <= DATE '{as_of}'""").fetchone()
    meds = con.execute(f"""SELECT pop.patient_id, count(DISTINCT m.dmd_code) AS k FROM pop
        LEFT JOIN medications m ON m.patient_id = pop.patient_id
          AND m.date > DATE '{year_ago}' AND m.date <= DATE '{as_of}'
        WHERE pop.age >= 65 GROUP BY pop.patient_id""").df()
    smoking_codes = sorted(codelist(P + "lsmok_cod").codes | codelist(P + "exsmok_cod").codes
                           | {"266919005"})
    members = register_members(record, as_of)
    ltc = set().union(*(members.get(r, set()) for r in (
        "chd", "stroke_tia", "pad", "hypertension", "diabetes", "copd", "ckd", "asthma", "smi")))
    ltc_pop = pop[(pop.age >= 15) & pop.patient_id.isin(ltc)]
    con.register("ltc_pop", ltc_pop)
    smokers = con.execute(f"""SELECT count(DISTINCT e.patient_id) FROM clinical_events e
        JOIN ltc_pop USING (patient_id) WHERE e.date > DATE '{year_ago}'
        AND e.date <= DATE '{as_of}'
        AND e.snomed_code IN ({", ".join(repr(c) for c in smoking_codes)})""").fetchone()
    adults_15 = len(ltc_pop)
    hosp = con.execute(f"""SELECT h.patient_id, h.kind, h.start_date, pop.practice_code
        FROM hospital_activity h JOIN pop USING (patient_id)
        WHERE h.start_date > DATE '{two_ago}' AND h.start_date <= DATE '{as_of}'""").df()
    hosp["start_date"] = pd.to_datetime(hosp["start_date"])
    last = hosp[hosp["start_date"] > pd.Timestamp(year_ago)]
    prior = hosp[hosp["start_date"] <= pd.Timestamp(year_ago)]
    emerg_last = set(last.loc[last.kind == "emergency_admission", "patient_id"])
    emerg_prior = set(prior.loc[prior.kind == "emergency_admission", "patient_id"])
    ids = set(pop.patient_id)
    with_prior = ids & emerg_prior
    without = ids - emerg_prior
    risk_with = len(emerg_last & with_prior) / max(len(with_prior), 1)
    risk_without = len(emerg_last & without) / max(len(without), 1)
    by_practice = (last[last.kind == "emergency_admission"].groupby("practice_code").size()
                   .reindex(sorted(pop.practice_code.unique()), fill_value=0))
    list_sizes = pop.groupby("practice_code").size().reindex(by_practice.index)
    theta = float(by_practice.sum() / list_sizes.sum()) if list_sizes.sum() else 0.0
    phi, _tau2 = _overdispersion(by_practice.to_numpy(dtype=float),
                                 list_sizes.to_numpy(dtype=float), theta,
                                 lambda d: (theta / d) ** 0.5)
    cervical_codes = sorted(codelist("pcn-cervical-screening-smear_cod-subset").codes)
    women = pop[(pop.sex == "F") & pop.age.between(25, 49)]
    con.register("women", women)
    since = (pd.Timestamp(as_of) - pd.DateOffset(months=42)).date()
    screened = con.execute(f"""SELECT count(DISTINCT e.patient_id) FROM clinical_events e
        JOIN women USING (patient_id) WHERE e.date > DATE '{since}' AND e.date <= DATE '{as_of}'
        AND e.snomed_code IN ({", ".join(repr(c) for c in cervical_codes)})""").fetchone()
    twin = {
        "prescription_items_per_patient_year": (items[0] if items else 0) / n,
        "aged_65_plus_on_5_or_more_medicines": float((meds.k >= 5).mean()) if len(meds) else 0,
        "smoking_status_recorded_12m_ltc": (smokers[0] if smokers else 0) / max(adults_15, 1),
        "elective_admissions_per_1000": int((last.kind == "elective").sum()) / n * 1000,
        "emergency_admissions_per_1000": int((last.kind == "emergency_admission").sum())
        / n * 1000,
        "prior_admission_relative_risk": risk_with / risk_without if risk_without else float(
            "nan"),
        "between_practice_overdispersion_phi": phi,
        "cervical_screening_25_49": (screened[0] if screened else 0) / max(len(women), 1),
    }
    rows = []
    for measure, (external, unit, source) in EXTERNAL_FIGURES.items():
        value = float(twin[measure])
        ratio = value / external if external else float("nan")
        rows.append({"measure": measure, "twin": value, "external": external, "unit": unit,
                     "ratio": ratio, "plausible": bool(1 / 1.5 <= ratio <= 1.5),
                     "source": source})
    return pd.DataFrame(rows)


def render_realism(df: pd.DataFrame, console: Console) -> None:
    t = Table(title="Twin realism: the record's own figures beside published figures for "
              "England", header_style="bold")
    for col in ("#", "measure", "twin", "England", "ratio", "within ×1.5"):
        t.add_column(col, justify="right" if col in ("twin", "England", "ratio") else "left")
    for i, row in enumerate(df.to_dict("records"), start=1):
        fmt = "{:.1%}" if row["unit"] == "share" else "{:,.2f}"
        t.add_row(str(i), str(row["measure"]).replace("_", " "), fmt.format(row["twin"]),
                  fmt.format(row["external"]), f"{row['ratio']:.2f}",
                  "[green]yes[/]" if row["plausible"] else "[red]no[/]")
    console.print(t)
    for i, source in enumerate(df["source"], start=1):
        console.print(f"{i}. {source}", style="dim", highlight=False)
    console.print("Counted from the record itself, not from the generator's parameters. "
                  "'no' marks where the twin is not yet realistic (see "
                  "docs/reference/synthetic-twin.md).", style="dim")
