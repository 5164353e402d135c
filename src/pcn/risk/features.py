"""Patient-profile columns for population health management, written once as Ibis expressions.

One pass over the events for every "latest date of a code set" feature (care home, housebound,
flu vaccination, structured medication review, eFI deficits, ...), one pass over medications for
every "issued in a window" feature, and a few latest numeric values. The scores built from these
columns (eFI, QRISK3, CMS, CHA2DS2-VASc, segments, worklists) are computed afterwards, identically
for every engine, in :mod:`pcn.risk.pipeline`.

Where no codelist exists in the shipped reference data (LD health check, foot check, cervical
screening, family history of CVD, migraine, SLE, erectile dysfunction), the column is null or
false and the gap is listed in docs/reference/risk-scores.md.
"""

from __future__ import annotations

from functools import cache

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from pcn.analytics import primitives as p
from pcn.analytics.profile import ProfileProvider, RunContext
from pcn.refdata import codelist, codelist_ids
from pcn.refdata.codelists import codelist_frame

P = "nhsd-primary-care-domain-refsets-"

#: Latest-date features: column → (codelists, extra codes). ``<column>`` holds the latest date.
DATE_TAGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "care_home_date": (
        (
            P + "carehome_cod",
            "opensafely-nhs-england-care-homes-residential-status",
            "primis-covid19-vacc-uptake-longres",
        ),
        (),
    ),
    "housebound_date": (("opensafely-housebound",), ()),
    "not_housebound_date": (("opensafely-no-longer-housebound",), ()),
    "homeless_date": (("primis-covid19-vacc-uptake-homeless_cod",), ()),
    "carer_date": (("primis-covid19-vacc-uptake-carer",), ()),
    "not_carer_date": (("primis-covid19-vacc-uptake-notcarer",), ()),
    "pregnancy_date": ((P + "preg_cod",), ()),
    "delivery_date": (("user-VickiPalin-pregnancy_delivery_snomed_reviewed_2",), ()),
    "latest_flu_vaccination_date": ((P + "flu_cod",), ()),
    "latest_medication_review_date": (("opensafely-structured-medication-review-nhs-england",), ()),
    "latest_any_medication_review_date": ((P + "medrvw_cod",), ()),
    "type1_diabetes_date": ((), ()),  # filled from dm_cod terms below
    "severe_frailty_coded_date": ((P + "sevfrail_cod",), ()),
}

#: Medication features: column → codelists; true when issued in the window (months).
MEDICATION_TAGS: dict[str, tuple[tuple[str, ...], int]] = {
    "on_statin": (("opensafely-statin-medication",), 6),
    "on_lipid_lowering": (
        ("user-elsie_horne-lipid_lowering_dmd", "opensafely-statin-medication"),
        6,
    ),
    "on_anticoagulant": (
        (
            "opensafely-direct-acting-oral-anticoagulants-doac",
            "opensafely-warfarin",
            "user-elsie_horne-anticoagulant_dmd",
        ),
        6,
    ),
    "on_antihypertensive": (
        (
            "user-elsie_horne-hypertension_drugs_dmd",
            "opensafely-calcium-channel-blockers",
            "opensafely-ace-inhibitor-medications",
            "opensafely-angiotensin-ii-receptor-blockers-arbs",
            "opensafely-thiazide-type-diuretic-medication",
            "opensafely-beta-blocker-medications",
        ),
        6,
    ),
    "on_atypical_antipsychotic": (
        ("opensafely-second-generation-antipsychotics-excluding-long-acting-injections",),
        6,
    ),
    "on_oral_corticosteroid": (
        (
            "user-markdrussell-corticosteroids-oral-im-or-iv-dmd",
            "nhs-drug-refsets-c19corstedrug_cod",
        ),
        6,
    ),
    "on_nsaid": (("opensafely-nsaids-oral", "nhs-drug-refsets-oralnsaiddrug_cod"), 3),
    "on_ppi": (("opensafely-proton-pump-inhibitors-ppi-oral",), 3),
    "on_antiplatelet": (("opensafely-antiplatelets", "opensafely-aspirin"), 3),
}

#: Smoking status with amount, for QRISK3's smoke_cat (latest code wins).
SMOKING_DETAIL = {
    "heavy": ("160605003", "160606002", "230065006"),  # 20-39/day, 40+/day, chain smoker
    "moderate": ("160604004",),  # 10-19/day
    "light": ("160603005", "230063004"),  # 1-9/day, trivial smoker
}

HBA1C = "opensafely-glycated-haemoglobin-hba1c-tests-numerical-value"
CHOLESTEROL = "opensafely-cholesterol-tests-numerical-value"
HDL = "bristol-hdl-cholesterol"
EGFR = "ukrr-egfr-tests-level"
SBP = "opensafely-systolic-blood-pressure-qof"


@cache
def efi_deficit_codelists() -> dict[str, str]:
    """eFI deficit id → codelist id (35 coded deficits; polypharmacy is derived)."""
    return {cid.removeprefix("efi-"): cid for cid in codelist_ids() if cid.startswith("efi-")}


def _type1_codes() -> list[str]:
    dm = codelist(P + "dm_cod")
    return sorted(
        c for c, t in dm.terms.items() if "type 1" in t.lower() or "type i " in t.lower() + " "
    )


def _date_tag_table(ctx: RunContext) -> ir.Table:
    codes: list[str] = []
    tags: list[str] = []
    for column, (lists, extra) in DATE_TAGS.items():
        members = set(extra)
        for cl in lists:
            members |= codelist(cl).codes
        if column == "type1_diabetes_date":
            members = set(_type1_codes())
        for c in sorted(members):
            codes.append(c)
            tags.append(column)
    for deficit, cl in efi_deficit_codelists().items():
        for c in sorted(codelist(cl).codes):
            codes.append(c)
            tags.append(f"efi:{deficit}")
    for level, level_codes in SMOKING_DETAIL.items():
        for c in level_codes:
            codes.append(c)
            tags.append(f"smoke:{level}")
    data = pa.table(
        {
            "code": pa.array(codes, pa.string()),
            "tag": pa.array(tags, pa.string()),
            "start_date": pa.array([None] * len(codes), pa.date32()),
        }
    )
    return ctx.engine.arrow_table(data)


def _columns(ctx: RunContext) -> dict[str, pa.DataType]:
    cols: dict[str, pa.DataType] = {c: pa.date32() for c in DATE_TAGS}
    cols.update(
        {
            "efi_deficits_coded": pa.int64(),
            "smoking_amount": pa.string(),
            **{c: pa.bool_() for c in MEDICATION_TAGS},
            "distinct_medicines_12m": pa.int64(),
            "latest_hba1c": pa.float64(),
            "latest_hba1c_date": pa.date32(),
            "latest_total_cholesterol": pa.float64(),
            "latest_cholesterol_date": pa.date32(),
            "latest_hdl_cholesterol": pa.float64(),
            "latest_hdl_date": pa.date32(),
            "latest_egfr": pa.float64(),
            "latest_egfr_date": pa.date32(),
            "sbp_sd_5y": pa.float64(),
            "sbp_readings_5y": pa.int64(),
            "ethnicity_16": pa.int64(),
            "emergency_admissions_12m": pa.int64(),
            "ae_attendances_12m": pa.int64(),
            "ae_attendances_3m": pa.int64(),
            "gp_appointments_12m": pa.int64(),
            "appointments_12m": pa.int64(),
            "dna_12m": pa.int64(),
        }
    )
    return cols


def _build(ctx: RunContext, profile: ir.Table) -> ir.Table:
    idx = ctx.index_date
    ev = ctx.events
    # one pass: latest date of every tagged code set
    long = p.latest_dates_by_tag(ev, _date_tag_table(ctx), end=idx)
    date_cols = list(DATE_TAGS)
    deficits = [f"efi:{d}" for d in efi_deficit_codelists()]
    smoke = [f"smoke:{level}" for level in SMOKING_DETAIL]
    wide = p.pivot_tags(long, [*date_cols, *deficits, *smoke])
    # eFI: number of deficits ever coded
    count = (
        sum(
            (wide[t].notnull().ifelse(1, 0) for t in deficits[1:]),
            wide[deficits[0]].notnull().ifelse(1, 0),
        )
        if deficits
        else ibis.literal(0)
    )
    # smoking amount: the level of the latest amount-specific code
    amount = ibis.cases(
        *[
            (
                wide[f"smoke:{lv}"].notnull()
                & ibis.and_(
                    *[
                        (wide[f"smoke:{lv}"] >= wide[f"smoke:{o}"]) | wide[f"smoke:{o}"].isnull()
                        for o in SMOKING_DETAIL
                        if o != lv
                    ]
                ),
                ibis.literal(lv),
            )
            for lv in SMOKING_DETAIL
        ],
        else_=ibis.null("string"),
    )
    wide = wide.select(
        "patient_id", *date_cols, efi_deficits_coded=count.cast("int64"), smoking_amount=amount
    )
    profile = p.attach(profile, wide, fill={"efi_deficits_coded": 0})

    # medications in windows
    meds = ctx.table("medications")
    meds = ctx.restrict(meds.filter(meds.date <= idx), reused=False)
    med_parts = []
    for column, (lists, months) in MEDICATION_TAGS.items():
        codes = ctx.codes(*lists)
        hits = p.events_in(
            meds, codes, start=p.window_start(idx, months), end=idx, code_column="dmd_code"
        )
        med_parts.append(hits.select("patient_id").distinct().mutate(_tag=ibis.literal(column)))
    allmeds = ibis.union(*med_parts, distinct=False)
    on = allmeds.group_by("patient_id").agg(
        **{c: (allmeds._tag == c).any() for c in MEDICATION_TAGS}
    )
    profile = p.attach(profile, on, fill=dict.fromkeys(MEDICATION_TAGS, False))
    profile = p.attach(
        profile,
        p.distinct_medications(
            meds, start=p.window_start(idx, 12), end=idx, name="distinct_medicines_12m"
        ),
        fill={"distinct_medicines_12m": 0},
    )

    # latest numeric values
    for name, cl, colname in (
        ("latest_hba1c", HBA1C, "latest_hba1c_date"),
        ("latest_total_cholesterol", CHOLESTEROL, "latest_cholesterol_date"),
        ("latest_hdl_cholesterol", HDL, "latest_hdl_date"),
        ("latest_egfr", EGFR, "latest_egfr_date"),
    ):
        v = p.latest_value(ev, ctx.codes(cl), end=idx, name=name)
        profile = p.attach(profile, v.rename(**{colname: f"{name}_date"}))
    sd = p.mean_sd_last(ev, ctx.codes(SBP), 10, end=idx, start=p.window_start(idx, 60), name="_sbp")
    profile = p.attach(
        profile,
        sd.select("patient_id", sbp_sd_5y=sd._sbp_sd, sbp_readings_5y=sd._sbp_n),
        fill={"sbp_readings_5y": 0},
    )

    # ethnicity, 16 groups (for QRISK3's ethrisk)
    eth = codelist_frame("opensafely-ethnicity-snomed-0removed")[["code", "grouping_16"]]
    eth = eth.drop_duplicates("code")
    eth_t = ctx.engine.arrow_table(
        pa.table(
            {
                "_code": pa.array(eth["code"].tolist(), pa.string()),
                "ethnicity_16": pa.array([int(g) for g in eth["grouping_16"]], pa.int64()),
            }
        )
    )
    pts = ctx.table("patients").select("patient_id", "ethnicity_code")
    pe = pts.join(eth_t, pts.ethnicity_code == eth_t._code).select("patient_id", "ethnicity_16")
    profile = p.attach(profile, pe)

    # hospital activity and appointments in windows
    hosp = ctx.table("hospital_activity")
    hosp = ctx.restrict(hosp.filter(hosp.start_date <= idx), reused=False)
    y1, m3 = p.window_start(idx, 12), p.window_start(idx, 3)
    h = hosp.group_by("patient_id").agg(
        emergency_admissions_12m=((hosp.kind == "emergency_admission") & (hosp.start_date >= y1))
        .ifelse(1, 0)
        .sum()
        .cast("int64"),
        ae_attendances_12m=((hosp.kind == "ae_attendance") & (hosp.start_date >= y1))
        .ifelse(1, 0)
        .sum()
        .cast("int64"),
        ae_attendances_3m=((hosp.kind == "ae_attendance") & (hosp.start_date >= m3))
        .ifelse(1, 0)
        .sum()
        .cast("int64"),
    )
    profile = p.attach(
        profile,
        h,
        fill={"emergency_admissions_12m": 0, "ae_attendances_12m": 0, "ae_attendances_3m": 0},
    )
    ap = ctx.table("appointments")
    day = ap.start_at.date()
    ap = ctx.restrict(ap.filter((day <= idx) & (day >= y1)), reused=False)
    a = ap.group_by("patient_id").agg(
        gp_appointments_12m=((ap.role == "gp") & (ap.status == "attended"))
        .ifelse(1, 0)
        .sum()
        .cast("int64"),
        appointments_12m=(ap.status == "attended").ifelse(1, 0).sum().cast("int64"),
        dna_12m=(ap.status == "did_not_attend").ifelse(1, 0).sum().cast("int64"),
    )
    return p.attach(
        profile, a, fill={"gp_appointments_12m": 0, "appointments_12m": 0, "dna_12m": 0}
    )


PHM_FEATURES = ProfileProvider("phm_features", _columns, _build)

