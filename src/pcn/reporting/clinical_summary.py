"""One patient's clinical summary for the patient page (issue 17): problems with onset dates and
descriptions, current medicines, risk scores with what drives them, and recent activity as a
timeline. Identifiable: callers authorise ``view_patient`` first (:mod:`pcn.web.guarded`).

The patient's coded entries and prescriptions are read from the record's Parquet files with one
DuckDB query each (row-group statistics skip most of the file).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from pcn.reporting import display
from pcn.reporting.network import NetworkView

#: Medicines issued within this many days of the record date count as current.
CURRENT_MEDICINE_DAYS = 183
TIMELINE_DAYS = 365
TIMELINE_ITEMS = 25


@dataclass(frozen=True)
class Problem:
    register: str
    title: str
    onset: dt.date | None
    code: str | None
    term: str | None


@dataclass(frozen=True)
class Medicine:
    code: str
    term: str
    last_issued: dt.date
    issues: int


@dataclass(frozen=True)
class RiskScore:
    name: str
    value: str
    drivers: list[str]
    note: str = ""


@dataclass(frozen=True)
class Activity:
    on: dt.date
    what: str
    detail: str = ""


@dataclass
class ClinicalSummary:
    problems: list[Problem] = field(default_factory=list)
    medicines: list[Medicine] = field(default_factory=list)
    risks: list[RiskScore] = field(default_factory=list)
    timeline: list[Activity] = field(default_factory=list)
    shows_qrisk3: bool = False


def _patient_rows(view: NetworkView, table: str, patient_id: int, columns: str) -> pd.DataFrame:
    files = [str(f) for f in view.record.files(table)]
    if not files:
        return pd.DataFrame()
    con = duckdb.connect()
    try:
        return con.execute(f"SELECT {columns} FROM read_parquet(?) WHERE patient_id = ?",
                           [files, patient_id]).df()
    finally:
        con.close()


def _registers() -> dict[str, Any]:
    from pcn.analytics.registers import default_registers

    return {r.id: r for r in default_registers()}


def problems(view: NetworkView, patient_id: int, on_registers: list[str],
             events: pd.DataFrame) -> list[Problem]:
    """Each register the patient is on, with the first diagnosis code and its date."""
    defs = _registers()
    out: list[Problem] = []
    for reg in on_registers:
        definition = defs.get(reg)
        title = definition.title if definition is not None else display.label(f"reg_{reg}")
        onset, code = None, None
        if definition is not None and len(events):
            codes = definition.codes()
            hits = events[events["snomed_code"].isin(codes)].sort_values("date")
            if len(hits):
                onset = hits["date"].iloc[0]
                code = str(hits["snomed_code"].iloc[0])
        out.append(Problem(reg, title, onset, code, display.code_term(code)))
    return sorted(out, key=lambda p: (p.onset or dt.date.max, p.title))


def medicines(view: NetworkView, patient_id: int) -> list[Medicine]:
    meds = _patient_rows(view, "medications", patient_id, "date, dmd_code")
    if meds.empty:
        return []
    since = view.as_of - dt.timedelta(days=CURRENT_MEDICINE_DAYS)
    meds["date"] = pd.to_datetime(meds["date"]).dt.date
    recent = meds[(meds["date"] >= since) & (meds["date"] <= view.as_of)]
    grouped = recent.groupby("dmd_code").agg(last=("date", "max"), n=("date", "size"))
    out = [Medicine(str(code), display.code_term(code) or "Description not available",
                    row["last"], int(row["n"])) for code, row in grouped.iterrows()]
    return sorted(out, key=lambda m: m.term.lower())


def _fmt(profile: dict[str, Any], column: str) -> str:
    return display.cell(column, profile.get(column))


def risks(profile: dict[str, Any]) -> list[RiskScore]:
    out: list[RiskScore] = []
    if profile.get("qrisk3") is not None:
        drivers = [f"Age {_fmt(profile, 'age')}", f"Sex: {_fmt(profile, 'sex')}",
                   f"Smoking: {_fmt(profile, 'smoking_status')}",
                   f"Systolic BP: {_fmt(profile, 'latest_sbp')}",
                   f"BMI: {_fmt(profile, 'latest_bmi')}"]
        total, hdl = profile.get("latest_total_cholesterol"), profile.get("latest_hdl_cholesterol")
        drivers.append("Cholesterol/HDL ratio: " + (display.number(total / hdl, 1)
                       if total is not None and hdl else "not available"))
        for column, text in (("reg_diabetes", "Diabetes"), ("reg_af", "Atrial fibrillation"),
                             ("reg_ckd", "Chronic kidney disease"),
                             ("reg_rheumatoid_arthritis", "Rheumatoid arthritis"),
                             ("reg_smi", "Severe mental illness"),
                             ("on_antihypertensive", "Treated hypertension"),
                             ("on_oral_corticosteroid", "Oral corticosteroids"),
                             ("on_atypical_antipsychotic", "Atypical antipsychotic")):
            if profile.get(column) is True:
                drivers.append(text)
        imputed = str(profile.get("qrisk3_imputed") or "").strip()
        note = f"Estimated without a recorded value for: {imputed.replace(';', ', ')}." \
            if imputed else ""
        out.append(RiskScore("QRISK3 10-year cardiovascular risk",
                             _fmt(profile, "qrisk3"), drivers, note))
    if profile.get("efi_category") is not None:
        count = profile.get("efi_deficit_count")
        out.append(RiskScore(
            "Electronic frailty index (eFI)",
            f"{_fmt(profile, 'efi_category')} ({display.number(profile.get('efi_score'), 2)})",
            [f"{display.number(count)} of 36 deficits recorded" if count is not None
             else "Deficits not available",
             f"Medicines in last 12 months: {_fmt(profile, 'distinct_medicines_12m')}"]))
    if profile.get("admission_risk") is not None:
        drivers = [f"Emergency admissions in 12 months: "
                   f"{_fmt(profile, 'emergency_admissions_12m')}",
                   f"A&E attendances in 12 months: {_fmt(profile, 'ae_attendances_12m')}",
                   f"Long-term conditions: {_fmt(profile, 'ltc_count')}",
                   f"Frailty: {_fmt(profile, 'efi_category')}"]
        if profile.get("care_home") is True:
            drivers.append("Lives in a care home")
        out.append(RiskScore("Risk of emergency admission in 12 months",
                             _fmt(profile, "admission_risk"), drivers))
    return out


def timeline(view: NetworkView, summary: dict[str, Any], events: pd.DataFrame,
             tasks: list[Any]) -> list[Activity]:
    since = view.as_of - dt.timedelta(days=TIMELINE_DAYS)
    items: list[Activity] = []
    for a in summary.get("appointments", []):
        when = display._as_date(a.get("start_at"))
        if when is not None:
            day = when.date() if isinstance(when, dt.datetime) else when
            items.append(Activity(day, "Appointment", " · ".join(
                str(a.get(k, "")).replace("_", " ") for k in ("role", "mode", "status")
                if a.get(k))))
    for h in summary.get("hospital_activity", []):
        when = display._as_date(h.get("start_date"))
        if when is not None:
            day = when.date() if isinstance(when, dt.datetime) else when
            items.append(Activity(day, str(h.get("kind", "")).replace("_", " ").capitalize(),
                                  str(h.get("icd10_code") or "")))
    if len(events):
        recent = events[(events["date"] >= since) & (events["date"] <= view.as_of)]
        for on, code, number in zip(recent["date"], recent["snomed_code"],
                                    recent["numeric_value"], strict=True):
            term = display.code_term(code)
            value = "" if display.is_missing(number) else f"{float(number):g}"
            items.append(Activity(on, term or f"Code {code}", value))
    for t in tasks:
        if t.outcome_date is not None:
            items.append(Activity(t.outcome_date, f"Task closed: {t.reason}",
                                  display.coded(t.outcome_code) if t.outcome_code
                                  else (t.outcome_text or "")))
    items = [i for i in items if i.on >= since]
    return sorted(items, key=lambda i: i.on, reverse=True)[:TIMELINE_ITEMS]


def clinical_summary(view: NetworkView, patient_id: int, summary: dict[str, Any],
                     tasks: list[Any]) -> ClinicalSummary:
    events = _patient_rows(view, "clinical_events", patient_id,
                           "date, snomed_code, numeric_value")
    if len(events):
        events["date"] = pd.to_datetime(events["date"]).dt.date
    profile = summary.get("profile", {})
    out = ClinicalSummary(
        problems=problems(view, patient_id, summary.get("registers", []), events),
        medicines=medicines(view, patient_id),
        risks=risks(profile),
        timeline=timeline(view, summary, events, tasks))
    out.shows_qrisk3 = any(r.name.startswith("QRISK3") for r in out.risks)
    return out
