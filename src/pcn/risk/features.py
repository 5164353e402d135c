"""Patient-profile columns for population health management, requested on the profile plan.

Every "latest date of a code set" feature (care home, housebound, flu vaccination, structured
medication review, eFI deficits, ...) and latest numeric value joins the profile's one pass over
the events, every "issued in a window" feature its one pass over medications; counts and the SD
of recent blood pressures are small per-patient queries. The scores built from these
columns (eFI, QRISK3, CMS, CHA2DS2-VASc, segments, worklists) are computed afterwards, identically
for every engine, in :mod:`pcn.risk.pipeline`.

Where no codelist exists in the shipped reference data (LD health check, family history of CVD,
migraine, SLE, erectile dysfunction), the column is not produced or is false, the gap is listed in
docs/reference/risk-scores.md, and :mod:`pcn.measures.availability` marks every definition that
needs it *not available*.
"""

from __future__ import annotations

from functools import cache

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from pcn.analytics import primitives as p
from pcn.analytics.plan import ColumnValues, ProfileData, ProfilePlan, latest_category
from pcn.analytics.profile import Finish, ProfileProvider, RunContext, code_set
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
    # QOF/INLIQ process measures (cluster subsets compiled by pcn: see codelists/LICENCE.md)
    "latest_cervical_screen_date": (("pcn-cervical-screening-smear_cod-subset",), ()),
    "latest_asthma_review_date": (("pcn-asthma-review-rev_cod-subset",), ()),
    "latest_dementia_review_date": (("pcn-dementia-review-demcprvw_cod-subset",), ()),
    "latest_foot_check_date": (("pcn-diabetic-foot-examination",), ()),
    "latest_alcohol_date": (
        ("pcn-alcohol-consumption-recorded", P + "excessalc_cod"),
        (),
    ),
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


def _date_tag_codes(column: str) -> frozenset[str]:
    if column == "type1_diabetes_date":
        return frozenset(_type1_codes())
    lists, extra = DATE_TAGS[column]
    return code_set(*lists, extra=extra)


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


#: Latest numeric values: column → (codelist, name of its date column).
LATEST_VALUES: dict[str, tuple[str, str]] = {
    "latest_hba1c": (HBA1C, "latest_hba1c_date"),
    "latest_total_cholesterol": (CHOLESTEROL, "latest_cholesterol_date"),
    "latest_hdl_cholesterol": (HDL, "latest_hdl_date"),
    "latest_egfr": (EGFR, "latest_egfr_date"),
}


def _ethnicity_16(ctx: RunContext) -> ir.Table:
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
    return pts.join(eth_t, pts.ethnicity_code == eth_t._code).select("patient_id", "ethnicity_16")


def _hospital_counts(ctx: RunContext) -> ir.Table:
    idx = ctx.index_date
    hosp = ctx.table("hospital_activity")
    hosp = ctx.restrict(hosp.filter(hosp.start_date <= idx), reused=False)
    y1, m3 = p.window_start(idx, 12), p.window_start(idx, 3)

    def count(kind: str, since: object) -> ir.IntegerValue:
        return ((hosp.kind == kind) & (hosp.start_date >= since)).ifelse(1, 0).sum().cast("int64")

    return hosp.group_by("patient_id").agg(
        emergency_admissions_12m=count("emergency_admission", y1),
        ae_attendances_12m=count("ae_attendance", y1),
        ae_attendances_3m=count("ae_attendance", m3),
    )


def _appointment_counts(ctx: RunContext) -> ir.Table:
    idx = ctx.index_date
    ap = ctx.table("appointments")
    day = ap.start_at.date()
    ap = ctx.restrict(ap.filter((day <= idx) & (day >= p.window_start(idx, 12))), reused=False)
    return ap.group_by("patient_id").agg(
        gp_appointments_12m=((ap.role == "gp") & (ap.status == "attended"))
        .ifelse(1, 0)
        .sum()
        .cast("int64"),
        appointments_12m=(ap.status == "attended").ifelse(1, 0).sum().cast("int64"),
        dna_12m=(ap.status == "did_not_attend").ifelse(1, 0).sum().cast("int64"),
    )


def _plan(ctx: RunContext, plan: ProfilePlan) -> Finish:
    idx = ctx.index_date
    dates = {column: plan.latest_date(_date_tag_codes(column)) for column in DATE_TAGS}
    deficits = [plan.latest_date(codelist(cl).codes) for cl in efi_deficit_codelists().values()]
    amounts = [plan.latest_date(codes) for codes in SMOKING_DETAIL.values()]
    issued = {
        column: plan.issued(code_set(*lists), start=p.window_start(idx, months))
        for column, (lists, months) in MEDICATION_TAGS.items()
    }
    values = {name: plan.latest_value(code_set(cl)) for name, (cl, _) in LATEST_VALUES.items()}
    distinct = plan.per_patient(
        p.distinct_medications(ctx.medications, start=p.window_start(idx, 12), end=idx,
                               name="distinct_medicines_12m"),
        fill={"distinct_medicines_12m": 0},
    )
    sd = p.mean_sd_last(ctx.events, ctx.codes(SBP), 10, end=idx, start=p.window_start(idx, 60),
                        name="_sbp")
    sbp_sd = plan.per_patient(
        sd.select("patient_id", sbp_sd_5y=sd._sbp_sd, sbp_readings_5y=sd._sbp_n),
        fill={"sbp_readings_5y": 0},
    )
    ethnicity = plan.per_patient(_ethnicity_16(ctx))
    hospital = plan.per_patient(
        _hospital_counts(ctx),
        fill={"emergency_admissions_12m": 0, "ae_attendances_12m": 0, "ae_attendances_3m": 0},
    )
    appointments = plan.per_patient(
        _appointment_counts(ctx),
        fill={"gp_appointments_12m": 0, "appointments_12m": 0, "dna_12m": 0},
    )

    def finish(data: ProfileData) -> dict[str, ColumnValues]:
        cols: dict[str, ColumnValues] = {c: data.date(t) for c, t in dates.items()}
        # eFI: the number of deficits ever coded
        coded = np.zeros(data.n, dtype=np.int64)
        for tag in deficits:
            coded += ~np.isnat(data.date(tag))
        cols["efi_deficits_coded"] = coded
        # smoking amount: the level of the latest amount-specific code
        cols["smoking_amount"] = latest_category([data.date(t) for t in amounts],
                                                 SMOKING_DETAIL)[0]
        cols.update({c: data.issued(t) for c, t in issued.items()})
        for name, tag in values.items():
            cols[name] = data.value(tag)
            cols[LATEST_VALUES[name][1]] = data.date(tag)
        for query in (distinct, sbp_sd, ethnicity, hospital, appointments):
            cols.update(data.query(query))
        return cols

    return finish


PHM_FEATURES = ProfileProvider("phm_features", _columns, _plan)
