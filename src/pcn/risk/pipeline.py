"""The population health stage of ``pcn run``: scores, segments, inequalities and worklists.

Runs after the engine has written ``patient_profile`` (Ibis on DuckDB or Spark, including the
columns of :mod:`pcn.risk.features`). Everything here is plain pandas/numpy on that profile, so
DuckDB and Spark give identical results whenever their profiles are identical.

Adds to ``patient_profile``: eFI (score, category), QRISK3 (with the inputs that were imputed),
CMS, CHA2DS2-VASc, flags (care home, housebound, homeless, carer, pregnant, high-risk
prescribing), the Bridges to Health segment, Core20PLUS5 flags and the emergency admission risk;
writes ``worklists/<id>.parquet``, ``inequalities.parquet`` and ``admission_model.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pcn.analytics.profile import add_profile_provider
from pcn.config import get_settings
from pcn.risk import admission
from pcn.risk.cms import cms
from pcn.risk.cms_features import CMS_FEATURES, condition_flags
from pcn.risk.deprivation import townsend_from_imd_deciles
from pcn.risk.efi import efi_definition
from pcn.risk.features import PHM_FEATURES
from pcn.risk.qrisk3 import (
    INPUT_COLUMNS,
    apply_calculator_limits,
    ethrisk_series,
    fill_missing_inputs,
    qrisk3_scores,
)
from pcn.risk.segments import assign_segments, imd_gradients, inequality_flags
from pcn.worklists import build_worklists, load_worklists
from pcn.worklists.evaluate import worklist_gaps

add_profile_provider(PHM_FEATURES)
add_profile_provider(CMS_FEATURES)

#: Outcomes whose gradient across IMD quintiles is reported per practice: (denominator, numerator).
GRADIENT_OUTCOMES: dict[str, tuple[str, str]] = {
    "hypertension_bp_controlled": (
        "reg_hypertension and age < 80",
        "within_months(latest_sbp_date, 12) and latest_sbp <= 140 and latest_dbp <= 90",
    ),
    "diabetes_hba1c_58_or_less": (
        "reg_diabetes",
        "within_months(latest_hba1c_date, 12) and latest_hba1c <= 58",
    ),
    # QRISK3 is not computed for people on a statin: the gap is untreated high risk
    "qrisk_10_not_on_statin": ("qrisk3_eligible and qrisk3 >= 0", "qrisk3 >= 10"),
    "af_anticoagulated": ("reg_af and cha2ds2_vasc >= 2", "on_anticoagulant"),
    "flu_vaccinated_65_plus": ("age >= 65", "within_months(latest_flu_vaccination_date, 12)"),
    "emergency_admission_12m": ("true", "emergency_admissions_12m >= 1"),
}

#: QRISK3 smoke_cat from smoking status and the latest amount-specific code. A current smoker
#: with no amount recorded counts as a light smoker (smoke_cat 2, under 10 a day), as
#: docs/reference/risk-scores.md states: the lowest current-smoker category, so an unknown
#: amount never raises a score above what the record supports.
SMOKE_CAT = {"never": 0, "ex": 1, "light": 2, "moderate": 3, "heavy": 4}


#: The six parts of the SMI physical health check (NHS England, Improving physical healthcare
#: for people living with severe mental illness, 2018; QOF/INLIQ MH clusters): blood pressure,
#: BMI, lipids, glucose (HbA1c), smoking status and alcohol consumption.
SMI_HEALTH_CHECK_PARTS = (
    "latest_sbp_date",
    "latest_bmi_date",
    "latest_cholesterol_date",
    "latest_hba1c_date",
    "smoking_status_date",
    "latest_alcohol_date",
)


def _aliases(df: pd.DataFrame) -> pd.DataFrame:
    """Name observations as the definitions refer to them (``latest_sbp`` ...)."""
    rename = {
        "sbp": "latest_sbp",
        "sbp_date": "latest_sbp_date",
        "dbp": "latest_dbp",
        "dbp_date": "latest_dbp_date",
        "bmi": "latest_bmi",
        "bmi_date": "latest_bmi_date",
    }
    df = df.rename(columns={k: v for k, v in rename.items() if k in df.columns})
    if "latest_ldl_cholesterol" not in df.columns:
        df["latest_ldl_cholesterol"] = np.nan
    df["latest_non_hdl_cholesterol"] = df["latest_total_cholesterol"] - df["latest_hdl_cholesterol"]
    # A parallel SD differs in the last bits from run to run (summation order); rounding far
    # below clinical precision makes every output, and so every score, reproducible.
    if "sbp_sd_5y" in df.columns:
        df["sbp_sd_5y"] = df["sbp_sd_5y"].round(9)
    return df


def _dates(df: pd.DataFrame) -> pd.DataFrame:
    for c in df.columns:
        if c.endswith("_date") and not pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = _to_datetime(df[c])
    return df


def _to_datetime(values: pd.Series) -> pd.Series:
    """``pd.to_datetime(values)``, converting each distinct value once: a profile holds a date
    per patient but only some thousands of distinct days."""
    codes, distinct = pd.factorize(values)
    parsed = pd.to_datetime(distinct)
    return pd.Series(parsed.array.take(codes, allow_fill=True), index=values.index,
                     name=values.name)


def _latest_wins(a: pd.Series, b: pd.Series) -> pd.Series:
    """True when date ``a`` exists and is not superseded by a later-or-equal date ``b``."""
    return a.notna() & (b.isna() | (b < a))


def derive_flags(df: pd.DataFrame, index_date: dt.date) -> pd.DataFrame:
    idx = pd.Timestamp(index_date)
    if all(c in df.columns for c in SMI_HEALTH_CHECK_PARTS):
        # complete only when all six parts are recorded: the date of the oldest of the six
        # latest recordings, so "within 12 months" means every part within 12 months
        df["latest_smi_health_check_date"] = df[list(SMI_HEALTH_CHECK_PARTS)].min(
            axis=1, skipna=False)
    df["care_home"] = df["care_home_date"].notna()
    df["housebound"] = _latest_wins(df["housebound_date"], df["not_housebound_date"])
    df["homeless"] = df["homeless_date"].notna()
    df["carer"] = _latest_wins(df["carer_date"], df["not_carer_date"])
    recent = df["pregnancy_date"] >= idx - pd.Timedelta(days=280)
    df["pregnant"] = (
        recent & _latest_wins(df["pregnancy_date"], df["delivery_date"]) & (df["sex"] == "F")
    )
    df["diabetes_type"] = np.where(  # type: ignore[call-overload]
        df["reg_diabetes"], np.where(df["type1_diabetes_date"].notna(), "type1", "type2"), None
    )
    nsaid = df["on_nsaid"]
    df["high_risk_prescribing"] = nsaid & (
        df["on_anticoagulant"]
        | df["on_antiplatelet"]
        | ((df["age"] >= 65) & ~df["on_ppi"])
        | df["reg_heart_failure"]
        | df["reg_ckd"]
    )
    return df


def add_efi(df: pd.DataFrame) -> pd.DataFrame:
    """Electronic Frailty Index (Clegg et al., Age Ageing 2016): deficits / 36."""
    d = efi_definition()
    poly = next(x for x in d.deficits if x.rule == "distinct_medications")
    count = df["efi_deficits_coded"].fillna(0).astype(int) + (
        df["distinct_medicines_12m"].fillna(0) >= (poly.min_distinct_medications or 5)
    ).astype(int)
    fit, mild, moderate = d.cutoff_counts()
    category = np.select(
        [count <= fit, count <= mild, count <= moderate], ["fit", "mild", "moderate"], "severe"
    ).astype(object)
    in_scope = df["age"] >= get_settings().efi_min_age
    df["efi_deficit_count"] = pd.array(np.where(in_scope, count, 0), dtype="Int64")
    df.loc[~in_scope, "efi_deficit_count"] = pd.NA
    df["efi_score"] = np.where(in_scope, count / d.denominator, np.nan)
    df["efi_category"] = np.where(in_scope, category, None)  # type: ignore[call-overload]
    return df


def add_qrisk3(df: pd.DataFrame) -> pd.DataFrame:
    """QRISK3-2017 for people aged 25-84 without cardiovascular disease who are not on a
    statin: QRISK3 was derived and validated on people not taking statins at baseline
    (Hippisley-Cox et al., BMJ 2017;357:j2099, methods: "we excluded patients ... prescribed
    statins before the study entry date"), so it says nothing about their risk; treated
    risk is not the risk a statin decision is based on. ``qrisk3_eligible`` says who has one."""
    eligible = (
        df["age"].between(25, 84) & ~(df["reg_chd"] | df["reg_stroke_tia"] | df["reg_pad"])
        & ~df["on_statin"].fillna(False).astype(bool)
    ).to_numpy(dtype=bool)
    df["qrisk3_eligible"] = eligible

    def values(column: pd.Series | np.ndarray) -> np.ndarray:
        """The eligible rows, as float (the one column-sized copy per input)."""
        return np.asarray(column, dtype=float)[eligible]

    status = _mapped(df["smoking_status"], SMOKE_CAT, missing="never")
    amount = _mapped(df["smoking_amount"], SMOKE_CAT, missing="light")
    smoke = np.where((df["smoking_status"] == "current").to_numpy(dtype=bool), amount, status)
    inputs = {
        "sex": df["sex"].to_numpy()[eligible],
        "age": values(df["age"]),
        "ethrisk": ethrisk_series(df["ethnicity_16"][eligible]),
        "town": townsend_from_imd_deciles(df["imd_decile"][eligible]).to_numpy(dtype=float),
        "smoke_cat": smoke[eligible],
        "b_AF": values(df["reg_af"]),
        "b_atypicalantipsy": values(df["on_atypical_antipsychotic"]),
        "b_corticosteroids": values(df["on_oral_corticosteroid"]),
        "b_impotence2": 0.0,
        "b_migraine": 0.0,
        "b_ra": values(df["reg_rheumatoid_arthritis"]),
        "b_renal": values(df["reg_ckd"]),
        "b_semi": values(df["reg_smi"]),
        "b_sle": 0.0,
        "b_treatedhyp": values(df["reg_hypertension"] & df["on_antihypertensive"]),
        "b_type1": values(df["diabetes_type"] == "type1"),
        "b_type2": values(df["diabetes_type"] == "type2"),
        "fh_cvd": 0.0,
        "bmi": values(df["latest_bmi"]),
        "rati": values(df["latest_total_cholesterol"] / df["latest_hdl_cholesterol"]),
        "sbp": values(df["latest_sbp"]),
        "sbps5": values(df["sbp_sd_5y"]),
    }
    x = pd.DataFrame(inputs, columns=list(INPUT_COLUMNS))
    filled, imputed = fill_missing_inputs(x)
    filled, _limited = apply_calculator_limits(filled)
    qrisk3 = np.full(len(df), np.nan)
    imputed_inputs = np.full(len(df), None, dtype=object)
    if len(filled):
        qrisk3[eligible] = qrisk3_scores(filled)
        imputed_inputs[eligible] = imputed.to_numpy()
    df["qrisk3"] = qrisk3
    # object dtype (not pandas' string dtype): the column as the stage has always written it
    df["qrisk3_imputed"] = pd.Series(imputed_inputs, index=df.index, dtype=object)
    return df


def _mapped(text: pd.Series, mapping: dict[str, int], missing: str) -> np.ndarray:
    """``text.fillna(missing).map(mapping)`` as float (NaN where unmapped), looking up each
    distinct value once."""
    codes, distinct = pd.factorize(text)
    table = np.array([*(mapping.get(v, np.nan) for v in distinct), mapping[missing]], dtype=float)
    return table[codes]  # code -1 (missing) takes the last entry


def add_cha2ds2_vasc(df: pd.DataFrame) -> pd.DataFrame:
    """CHA2DS2-VASc (Lip et al., Chest 2010) for people on the AF register."""
    a = df["age"]
    score = (
        df["reg_heart_failure"].astype(int)
        + df["reg_hypertension"].astype(int)
        + np.where(a >= 75, 2, np.where(a >= 65, 1, 0))
        + df["reg_diabetes"].astype(int)
        + 2 * df["reg_stroke_tia"].astype(int)
        + (df["reg_chd"] | df["reg_pad"]).astype(int)
        + (df["sex"] == "F").astype(int)
    )
    df["cha2ds2_vasc"] = pd.array(np.where(df["reg_af"], score, 0), dtype="Int64")
    df.loc[~df["reg_af"], "cha2ds2_vasc"] = pd.NA
    return df


def add_cms(df: pd.DataFrame, index_date: dt.date) -> pd.DataFrame:
    """Cambridge Multimorbidity Score (Payne et al., CMAJ 2020), general-outcome weights, each
    condition found by its own rule in ``definitions/risk/cms.yaml`` (codes ever or within a
    window, a new diagnosis, prescription counts): :mod:`pcn.risk.cms_features`."""
    out = cms(condition_flags(df, index_date))
    df["cms_condition_count"] = out["cms_condition_count"]
    df["cms_score"] = out["cms_score"]
    return df


def enrich(profile: pd.DataFrame, index_date: dt.date) -> pd.DataFrame:
    """Every patient-level score and flag that does not need a model fitted on history."""
    df = _dates(_aliases(profile))  # the rename copies: the caller's frame is left as it was
    df = derive_flags(df, index_date)
    df = add_efi(df)
    df = add_cha2ds2_vasc(df)
    df = add_cms(df, index_date)
    df = add_qrisk3(df)
    df["segment"] = assign_segments(df, index_date)
    flags = inequality_flags(df, index_date)
    for c in flags.columns:
        df[c] = flags[c]
    return df


def post_process(
    profile: pd.DataFrame,
    index_date: dt.date,
    out_dir: Path,
    profile_at: Callable[[dt.date], pd.DataFrame],
    hospital: Callable[[], pd.DataFrame],
    model_cache: Path | None = None,
) -> dict[str, int]:
    """Enrich the engine's ``profile`` and write it as ``patient_profile.parquet``; write
    worklists, inequalities and the model report.

    The admission model is fitted once per record snapshot and index date and kept in
    ``model_cache`` (a pickle this stage itself wrote), so re-running an unchanged record only
    scores; fitting needs two more profiles and dominates a cold run.
    """
    df = enrich(profile, index_date)

    def features_at(day: dt.date) -> pd.DataFrame:
        if day == index_date:
            return df
        past = profile_at(day)
        past = _dates(_aliases(past))
        past = derive_flags(past, day)
        past = add_efi(past)
        return add_cms(past, day)

    rows: dict[str, int] = {}
    scores, report = None, None
    try:
        if model_cache is not None and model_cache.exists():
            model, report = pickle.loads(model_cache.read_bytes())
        else:
            fitted, report = admission.fit(features_at, hospital(), index_date)
            model = admission.compile_model(fitted)
            if model_cache is not None:
                model_cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = model_cache.with_suffix(".tmp")
                tmp.write_bytes(pickle.dumps((model, report)))
                tmp.replace(model_cache)
        scores = admission.score(model, df, report.features)
    except ValueError as e:  # e.g. no admissions at all in a tiny record
        (out_dir / "admission_model.json").write_text(json.dumps({"error": str(e)}))
    if scores is not None and report is not None:
        # ``score`` keeps the profile's row order: add the columns without a merge's copy.
        for column in scores.columns.drop("patient_id"):
            df[column] = scores[column].to_numpy()
        (out_dir / "admission_model.json").write_text(
            json.dumps(
                {
                    "train_index_date": report.train_index_date.isoformat(),
                    "test_index_date": report.test_index_date.isoformat(),
                    "n_train": report.n_train,
                    "n_test": report.n_test,
                    "outcome_rate_test": report.outcome_rate_test,
                    "auroc": report.auroc,
                    "top5_capture": report.top5_capture,
                    "calibration_slope": report.calibration_slope,
                    "observed_over_expected": report.calibration_in_the_large,
                    "features": report.features,
                    "calibration": report.calibration.to_dict("records"),
                },
                indent=2,
            )
        )
    else:
        df["admission_risk"] = np.nan
        df["admission_risk_rank"] = pd.array([pd.NA] * len(df), dtype="Int64")
        df["admission_risk_percentile"] = np.nan
    if not df["patient_id"].is_monotonic_increasing:  # the engine writes it sorted already
        df = df.sort_values("patient_id").reset_index(drop=True)
    # The profile (the largest file: ~1 s of zstd at 2M patients) is encoded in a thread while
    # the worklists and gradients are computed; Arrow releases the GIL while it compresses.
    profile_table = pa.Table.from_pandas(df, preserve_index=False)
    with ThreadPoolExecutor(max_workers=1) as writer:
        written = writer.submit(pq.write_table, profile_table,
                                out_dir / "patient_profile.parquet", compression="zstd")
        rows.update(_write_lists(df, index_date, out_dir))
        written.result()
    rows["patient_profile"] = len(df)
    return rows


def _write_lists(df: pd.DataFrame, index_date: dt.date, out_dir: Path) -> dict[str, int]:
    """Worklists and IMD gradients of the enriched profile."""
    rows: dict[str, int] = {}
    wl_dir = out_dir / "worklists"
    wl_dir.mkdir(exist_ok=True)
    definitions = load_worklists()
    for wid, d in definitions.items():
        reason = worklist_gaps(d, df)
        if reason:  # not built: say so where the list would be
            (wl_dir / f"{wid}.parquet").unlink(missing_ok=True)
            meta = {"title": d.title, "why": d.why, "service": d.service,
                    "source": [src.model_dump() for src in d.source], "not_available": reason}
            (wl_dir / f"{wid}.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    for wid, wl in build_worklists(df, index_date, definitions).items():
        _write(wl, wl_dir / f"{wid}.parquet")
        d = definitions[wid]
        meta = {"title": d.title, "why": d.why, "service": d.service,
                "source": [src.model_dump() for src in d.source]}
        (wl_dir / f"{wid}.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        rows[f"worklists/{wid}"] = len(wl)
    grad = imd_gradients(df, GRADIENT_OUTCOMES, index_date)
    _write(grad, out_dir / "inequalities.parquet")
    rows["inequalities"] = len(grad)
    return rows


def _write(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, compression="zstd")
