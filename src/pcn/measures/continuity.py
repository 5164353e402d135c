"""Continuity of care, per patient, clinician and practice; and the care-closer-to-home metric.

Only *attended* appointments count. A patient enters the continuity measures with at least
``min_contacts`` (default 3) attended contacts in the window. For a patient with n contacts, n_j of
them with clinician j:

- **UPC**, usual provider of care index (Breslau & Reeb 1975): max_j n_j / n.
- **COC**, Bice-Boxerman continuity of care index (Bice & Boxerman, Med Care 1977;15:347-9):
  (Σ n_j² − n) / (n (n − 1)); 0 = a different clinician every time, 1 = always the same.
- **Usual-GP share**: share of a patient's GP contacts (role ``gp`` only) with the GP they saw
  most (ties: the more recent, then the lower id); needs ``min_contacts`` GP contacts. This is
  *not* the St Leonard's Index of Continuity of Care (SLICC; Sidaway-Lee K, Gray DP, Evans P, Br
  J Gen Pract 2019;69:e356-62), which is the practice's share of *all* GP contacts that are with
  the patient's *named list GP*, counted over every patient: the record carries no list GP, and
  "the GP seen most" by construction reads higher (the review found 0.13-0.16 higher), so pcn
  does not call it SLICC (issue 19).
- **Staff counted**: UPC, COC and known provider count every attended appointment with any
  clinician in the ``appointments`` table, whatever the role (GP, nurse, clinical pharmacist,
  other ARRS roles); the usual-GP share counts roles in ``gp_roles`` (default ``gp``).
- **Known provider**: of contacts 2..n in time order, the share with a clinician the patient had
  already seen in the window (the first contact cannot be with a known clinician).

Everything is vectorised over integer codes (``numpy``/``pandas``), so ~2M appointments take a few
seconds; see ``benchmarks/continuity.py``.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

APPOINTMENT_COLUMNS = ("patient_id", "practice_code", "clinician_id", "role", "start_at", "status")
HOSPITAL_KINDS = ("ae_attendance", "emergency_admission", "elective", "outpatient")
DateLike = str | date | datetime | pd.Timestamp | None


class ContinuityInputError(ValueError):
    """Appointments or hospital activity did not have the expected columns."""


def _attended(appointments: pd.DataFrame, start: DateLike = None, end: DateLike = None
              ) -> pd.DataFrame:
    missing = [c for c in APPOINTMENT_COLUMNS if c not in appointments.columns]
    if missing:
        raise ContinuityInputError(f"appointments lack column(s): {', '.join(missing)}")
    mask = appointments["status"].to_numpy() == "attended"
    if start is not None:
        mask &= (appointments["start_at"] >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        mask &= (appointments["start_at"] < pd.Timestamp(end)).to_numpy()
    return appointments.loc[mask, list(APPOINTMENT_COLUMNS)]


def _pair_counts(patient: np.ndarray, clinician: np.ndarray, order: np.ndarray,
                 n_clinicians: int) -> pd.DataFrame:
    """Contacts per (patient, clinician) with the position of the latest one (for tie-breaks)."""
    key = patient.astype(np.int64) * n_clinicians + clinician
    frame = pd.DataFrame({"key": key, "order": order})
    grouped = frame.groupby("key", sort=False)["order"].agg(["size", "max"])
    keys = grouped.index.to_numpy()
    return pd.DataFrame(
        {
            "patient": keys // n_clinicians,
            "clinician": keys % n_clinicians,
            "n": grouped["size"].to_numpy(),
            "last": grouped["max"].to_numpy(),
        }
    )


def _usual(pairs: pd.DataFrame, clinician_ids: np.ndarray) -> pd.DataFrame:
    """Most-seen clinician per patient; ties broken by the more recent contact, then lower id."""
    ranked = pairs.assign(cid=clinician_ids[pairs["clinician"].to_numpy()]).sort_values(
        ["patient", "n", "last", "cid"], ascending=[True, False, False, True], kind="stable"
    )
    return ranked.drop_duplicates("patient")[["patient", "clinician", "n"]]


def patient_continuity(
    appointments: pd.DataFrame,
    *,
    start: DateLike = None,
    end: DateLike = None,
    min_contacts: int = 3,
    gp_roles: tuple[str, ...] = ("gp",),
) -> pd.DataFrame:
    """One row per patient with at least ``min_contacts`` attended contacts.

    Columns: patient_id, practice_code (where most contacts were), contacts, clinicians,
    usual_clinician_id, upc, coc, gp_contacts, usual_gp_id, usual_gp_share (null under
    ``min_contacts`` GP contacts), known_provider (share of contacts 2..n with a clinician seen
    before).
    """
    att = _attended(appointments, start, end)
    if att.empty:
        return _empty_patient_frame()
    # Factorize first, then sort integer codes: sorting arrow strings is the slow part.
    patient_codes, patient_ids = pd.factorize(att["patient_id"], sort=True)
    clinician_codes, clinician_index = pd.factorize(att["clinician_id"], sort=True)
    clinician_ids = np.asarray(clinician_index, dtype=object)
    n_clin = len(clinician_ids)
    when = att["start_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
    sort = np.lexsort((clinician_codes, when, patient_codes))
    patient_codes, clinician_codes = patient_codes[sort], clinician_codes[sort]
    is_gp = att["role"].isin(gp_roles).to_numpy()[sort]
    prac_codes, prac_ids = pd.factorize(att["practice_code"], sort=True)
    prac_codes = prac_codes[sort]
    order = np.arange(len(att))

    pairs = _pair_counts(patient_codes, clinician_codes, order, n_clin)
    pairs["sq"] = pairs["n"].astype(np.int64) ** 2
    per_patient = pairs.groupby("patient").agg(
        contacts=("n", "sum"), clinicians=("n", "size"), max_n=("n", "max"), sum_sq=("sq", "sum")
    )
    per_patient = per_patient[per_patient["contacts"] >= min_contacts]
    n = per_patient["contacts"].to_numpy(dtype="float64")
    out = pd.DataFrame(index=per_patient.index)
    out["contacts"] = per_patient["contacts"].astype("int64")
    out["clinicians"] = per_patient["clinicians"].astype("int64")
    out["upc"] = per_patient["max_n"].to_numpy() / n
    out["coc"] = (per_patient["sum_sq"].to_numpy() - n) / (n * (n - 1))

    usual = _usual(pairs, clinician_ids).set_index("patient")
    out["usual_clinician_id"] = clinician_ids[usual.loc[out.index, "clinician"].to_numpy()]

    # Known provider: a contact whose (patient, clinician) pair occurred earlier in time order.
    key = patient_codes.astype(np.int64) * n_clin + clinician_codes
    seen_before = pd.Series(key).duplicated().to_numpy()
    known = np.bincount(patient_codes, weights=seen_before, minlength=len(patient_ids))
    out["known_provider"] = known[out.index.to_numpy()] / (n - 1)

    # usual-GP share on GP contacts only (not SLICC: no list GP in the record).
    gp_pairs = _pair_counts(patient_codes[is_gp], clinician_codes[is_gp], order[is_gp], n_clin)
    gp_total = gp_pairs.groupby("patient")["n"].sum()
    usual_gp = _usual(gp_pairs, clinician_ids).set_index("patient")
    gp_contacts = gp_total.reindex(out.index, fill_value=0).astype("int64")
    out["gp_contacts"] = gp_contacts
    has_gp = gp_contacts.to_numpy() > 0
    usual_gp_id = np.full(len(out), None, dtype=object)
    usual_gp_n = np.zeros(len(out))
    idx = out.index.to_numpy()[has_gp]
    usual_gp_id[has_gp] = clinician_ids[usual_gp.loc[idx, "clinician"].to_numpy()]
    usual_gp_n[has_gp] = usual_gp.loc[idx, "n"].to_numpy()
    out["usual_gp_id"] = usual_gp_id
    enough_gp = gp_contacts.to_numpy() >= min_contacts
    with np.errstate(divide="ignore", invalid="ignore"):
        out["usual_gp_share"] = np.where(enough_gp, usual_gp_n / gp_contacts.to_numpy(), np.nan)

    # Practice: where most of the patient's contacts were (ties: the latest).
    prac_pairs = _pair_counts(patient_codes, prac_codes, order, len(prac_ids))
    main_practice = _usual(prac_pairs, np.asarray(prac_ids, dtype=object)).set_index("patient")
    out["practice_code"] = np.asarray(prac_ids, dtype=object)[
        main_practice.loc[out.index, "clinician"].to_numpy()
    ]

    out.insert(0, "patient_id", np.asarray(patient_ids)[out.index.to_numpy()])
    cols = ["patient_id", "practice_code", "contacts", "clinicians", "usual_clinician_id", "upc",
            "coc", "gp_contacts", "usual_gp_id", "usual_gp_share", "known_provider"]
    return out[cols].reset_index(drop=True)


def _empty_patient_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "patient_id": pd.Series(dtype="int64"),
            "practice_code": pd.Series(dtype="object"),
            "contacts": pd.Series(dtype="int64"),
            "clinicians": pd.Series(dtype="int64"),
            "usual_clinician_id": pd.Series(dtype="object"),
            "upc": pd.Series(dtype="float64"),
            "coc": pd.Series(dtype="float64"),
            "gp_contacts": pd.Series(dtype="int64"),
            "usual_gp_id": pd.Series(dtype="object"),
            "usual_gp_share": pd.Series(dtype="float64"),
            "known_provider": pd.Series(dtype="float64"),
        }
    )


def practice_continuity(patients: pd.DataFrame) -> pd.DataFrame:
    """Per practice (and a PCN-wide row ``practice_code = "ALL"``): eligible patients and the
    mean of each per-patient index (usual-GP share over patients with enough GP contacts)."""
    def summarise(frame: pd.DataFrame) -> dict[str, float]:
        return {
            "patients": len(frame),
            "mean_upc": frame["upc"].mean(),
            "mean_coc": frame["coc"].mean(),
            "usual_gp_share_patients": int(frame["usual_gp_share"].notna().sum()),
            "mean_usual_gp_share": frame["usual_gp_share"].mean(),
            "mean_known_provider": frame["known_provider"].mean(),
        }

    rows = [{"practice_code": code, **summarise(group)}
            for code, group in patients.groupby("practice_code", sort=True)]
    rows.append({"practice_code": "ALL", **summarise(patients)})
    return pd.DataFrame(rows)


def clinician_continuity(
    appointments: pd.DataFrame,
    patients: pd.DataFrame,
    *,
    start: DateLike = None,
    end: DateLike = None,
) -> pd.DataFrame:
    """Per clinician: attended contacts, distinct patients, and two shares of their contacts —
    ``share_usual`` (with eligible patients whose usual provider they are) and ``share_known``
    (contacts, other than a patient's first in the window, where the patient had seen them before).
    """
    att = _attended(appointments, start, end)
    # Work on integer codes: sorting and de-duplicating strings is the slow part at 2M rows.
    patient_codes, patient_index = pd.factorize(att["patient_id"], sort=True)
    clinician_codes, clinician_index = pd.factorize(att["clinician_id"], sort=True)
    when = att["start_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
    order = np.lexsort((clinician_codes, when, patient_codes))
    patient_codes, clinician_codes = patient_codes[order], clinician_codes[order]
    n_clin = max(len(clinician_index), 1)
    pair = pd.Series(patient_codes.astype(np.int64) * n_clin + clinician_codes)
    seen_before = pair.duplicated().to_numpy()
    first_of_patient = np.ones(len(patient_codes), dtype=bool)
    first_of_patient[1:] = patient_codes[1:] != patient_codes[:-1]
    usual_by_patient = patients.set_index("patient_id")["usual_clinician_id"]
    usual_code = pd.Index(clinician_index).get_indexer(
        usual_by_patient.reindex(np.asarray(patient_index)).to_numpy()
    )  # -1 where the patient is not eligible
    is_usual = usual_code[patient_codes] == clinician_codes
    frame = pd.DataFrame(
        {
            "clinician": clinician_codes,
            "role": att["role"].to_numpy()[order],
            "patient": patient_codes,
            "usual": is_usual,
            "known": seen_before,
            "eligible_known": ~first_of_patient,
        }
    )
    grouped = frame.groupby("clinician", sort=True)
    out = grouped.agg(
        role=("role", "first"),
        contacts=("patient", "size"),
        patients=("patient", "nunique"),
        usual_contacts=("usual", "sum"),
        known_contacts=("known", "sum"),
        known_eligible=("eligible_known", "sum"),
    ).reset_index()
    out.insert(0, "clinician_id", np.asarray(clinician_index, dtype=object)[out.pop("clinician")])
    out["share_usual"] = out["usual_contacts"] / out["contacts"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_known"] = np.where(
            out["known_eligible"] > 0, out["known_contacts"] / out["known_eligible"], np.nan
        )
    return out


def care_closer_to_home(
    appointments: pd.DataFrame,
    hospital_activity: pd.DataFrame,
    registrations: pd.DataFrame,
    *,
    start: DateLike = None,
    end: DateLike = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shift of care closer to home, by month and practice (plus ``practice_code = "ALL"``).

    Primary/community contacts = attended appointments; hospital contacts = rows of
    ``hospital_activity`` (A&E attendances, emergency and elective admissions, outpatient
    appointments) by start month, attributed to the practice the patient was registered with on
    that date. The population is the number registered at mid-month.

    Returns ``(by_month, per_patient)``: by_month has month, practice_code, registered,
    primary_contacts, hospital_contacts, primary_per_1000, hospital_per_1000 and
    ``share_primary`` = primary / (primary + hospital); per_patient has patient_id,
    primary_contacts, hospital_contacts and share_primary over the whole window.
    """
    for col in ("patient_id", "kind", "start_date"):
        if col not in hospital_activity.columns:
            raise ContinuityInputError(f"hospital_activity lacks column {col!r}")
    att = _attended(appointments, start, end)
    hosp = hospital_activity
    hosp_date = pd.to_datetime(hosp["start_date"])
    mask = np.ones(len(hosp), dtype=bool)
    if start is not None:
        mask &= (hosp_date >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        mask &= (hosp_date < pd.Timestamp(end)).to_numpy()
    hosp = hosp.loc[mask]
    hosp_month = hosp_date[mask].dt.to_period("M")

    primary = pd.DataFrame(
        {"month": att["start_at"].dt.to_period("M"), "practice_code": att["practice_code"],
         "patient_id": att["patient_id"]}
    )
    hospital = pd.DataFrame(
        {"month": hosp_month, "patient_id": hosp["patient_id"],
         "date": pd.to_datetime(hosp["start_date"])}
    )
    hospital["practice_code"] = _practice_on(registrations, hospital["patient_id"],
                                             hospital["date"])

    all_months = pd.concat([primary["month"], hospital["month"]])
    months = (
        pd.period_range(all_months.min(), all_months.max(), freq="M")
        if len(all_months) else pd.PeriodIndex([], freq="M")
    )
    registered = _registered_by_month(registrations, months)

    p_counts = primary.groupby(["month", "practice_code"]).size().rename("primary_contacts")
    h_counts = (hospital.dropna(subset=["practice_code"])
                .groupby(["month", "practice_code"]).size().rename("hospital_contacts"))
    by_month = pd.concat([registered, p_counts, h_counts], axis=1).fillna(0)
    by_month.index.names = ["month", "practice_code"]
    by_month = by_month.reset_index()
    total = by_month.groupby("month", as_index=False)[
        ["registered", "primary_contacts", "hospital_contacts"]].sum()
    total["practice_code"] = "ALL"
    by_month = pd.concat([by_month, total], ignore_index=True)
    for col in ("registered", "primary_contacts", "hospital_contacts"):
        by_month[col] = by_month[col].astype("int64")
    reg = by_month["registered"].replace(0, np.nan)
    by_month["primary_per_1000"] = by_month["primary_contacts"] / reg * 1000
    by_month["hospital_per_1000"] = by_month["hospital_contacts"] / reg * 1000
    both = (by_month["primary_contacts"] + by_month["hospital_contacts"]).replace(0, np.nan)
    by_month["share_primary"] = by_month["primary_contacts"] / both
    by_month = by_month.sort_values(["month", "practice_code"], ignore_index=True)

    per_patient = pd.concat(
        [primary.groupby("patient_id").size().rename("primary_contacts"),
         hospital.groupby("patient_id").size().rename("hospital_contacts")], axis=1
    ).fillna(0).astype("int64")
    per_patient["share_primary"] = per_patient["primary_contacts"] / (
        per_patient["primary_contacts"] + per_patient["hospital_contacts"])
    return by_month, per_patient.reset_index().rename(columns={"index": "patient_id"})


def _practice_on(registrations: pd.DataFrame, patient_id: pd.Series, date: pd.Series) -> pd.Series:
    """The practice each (patient, date) was registered with; null when unregistered."""
    regs = registrations[["patient_id", "practice_code", "start_date", "end_date"]].copy()
    regs["start_date"] = pd.to_datetime(regs["start_date"])
    regs["end_date"] = pd.to_datetime(regs["end_date"])
    events = pd.DataFrame({"patient_id": patient_id.to_numpy(), "date": date.to_numpy(),
                           "row": np.arange(len(date))})
    joined = events.merge(regs, on="patient_id", how="inner")
    valid = (joined["start_date"] <= joined["date"]) & (
        joined["end_date"].isna() | (joined["end_date"] >= joined["date"]))
    hit = joined[valid].sort_values(["row", "start_date"]).drop_duplicates("row", keep="last")
    out = pd.Series([None] * len(date), dtype="object")
    out.iloc[hit["row"].to_numpy()] = hit["practice_code"].to_numpy()
    out.index = date.index
    return out


def _registered_by_month(registrations: pd.DataFrame, months: pd.PeriodIndex) -> pd.Series:
    start = pd.to_datetime(registrations["start_date"]).to_numpy()
    end = pd.to_datetime(registrations["end_date"]).to_numpy()
    practice = registrations["practice_code"].to_numpy()
    parts = []
    for month in months:
        mid = np.datetime64(month.start_time + pd.Timedelta(days=14))
        on = (start <= mid) & (np.isnat(end) | (end >= mid))
        counts = pd.Series(practice[on]).value_counts()
        parts.append(pd.DataFrame({"month": month, "practice_code": counts.index,
                                   "registered": counts.to_numpy()}))
    if not parts:  # no activity at all (a record with empty appointments and hospital tables)
        index = pd.MultiIndex.from_arrays(
            [pd.PeriodIndex([], freq="M"), pd.Index([], dtype="object")],
            names=["month", "practice_code"])
        return pd.Series([], index=index, dtype="int64", name="registered")
    frame = pd.concat(parts, ignore_index=True)
    return frame.set_index(["month", "practice_code"])["registered"]
