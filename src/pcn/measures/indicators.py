"""Indicators as definitions: YAML files validated by a pydantic model, and a pandas evaluator.

One file per indicator in ``pcn/definitions/indicators/<id>.yaml`` (file name = id). Numerator and
denominator each name the table they count rows of and a filter written in the small language of
:mod:`pcn.measures.expressions`, referring to ``patient_profile`` columns (one row per registered
patient, produced by the analytics engine), to the record's ``appointments`` and
``hospital_activity`` columns, and to codelists.

- ``proportion``: numerator and denominator count rows of the same table; a row is in the
  numerator when it passes both filters. Value = numerator / denominator × 100 (per cent).
- ``rate``: numerator counts events (appointments or hospital activity) in the ``window_months``
  up to ``as_of``; denominator counts patients. Value = numerator / denominator × ``per`` (1,000).

Events are attributed to practices by the appointment's ``practice_code``, and hospital activity by
the patient's practice in ``patient_profile``. Monthly series are produced when the numerator
counts events (the denominator is then the month's events for proportions, or the current list for
rates); patient-based indicators get series by evaluating each month end's profile
(:mod:`pcn.measures.series`, stored with the outputs by ``pcn indicators series``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pcn.measures.expressions import Expression, check_references, evaluate, parse
from pcn.measures.sdc import DEFAULT_POLICY, DisclosurePolicy, protect_rates_with_total
from pcn.measures.spc import XmrChart
from pcn.record.schemas import APPOINTMENTS, HOSPITAL_ACTIVITY

#: Columns of ``patient_profile`` that definitions may use. The analytics engine produces them;
#: a definition referring to anything else fails validation. Registers follow QOF 2024-25.
PATIENT_PROFILE_COLUMNS: dict[str, str] = {
    "patient_id": "int: pseudonymous patient id",
    "practice_code": "str: practice the patient is registered with",
    "age": "int: age in whole years at as_of",
    "sex": "str: F or M",
    "imd_decile": "int: IMD 2019 decile of the patient's LSOA (1 = most deprived)",
    "ethnicity_6": "str: ethnic group (6 categories); null when not recorded",
    "care_home": "bool: lives in a care home",
    "housebound": "bool: housebound",
    "efi_category": "str: fit, mild, moderate, severe (electronic frailty index)",
    "reg_hypertension": "bool: QOF hypertension register",
    "reg_diabetes": "bool: QOF diabetes register",
    "reg_chd": "bool: QOF coronary heart disease register",
    "reg_stroke_tia": "bool: QOF stroke/TIA register",
    "reg_pad": "bool: QOF peripheral arterial disease register",
    "reg_af": "bool: QOF atrial fibrillation register",
    "reg_heart_failure": "bool: QOF heart failure register",
    "reg_ckd": "bool: QOF chronic kidney disease (stage 3-5) register",
    "reg_copd": "bool: QOF COPD register",
    "reg_asthma": "bool: QOF asthma register",
    "reg_dementia": "bool: QOF dementia register",
    "reg_depression": "bool: QOF depression register",
    "reg_smi": "bool: QOF mental health (schizophrenia, bipolar, other psychoses) register",
    "reg_learning_disability": "bool: QOF learning disability register",
    "latest_sbp": "float: latest systolic blood pressure (mmHg)",
    "latest_sbp_date": "date: date of latest_sbp",
    "latest_dbp": "float: latest diastolic blood pressure (mmHg), same reading as latest_sbp",
    "latest_hba1c": "float: latest IFCC HbA1c (mmol/mol)",
    "latest_hba1c_date": "date: date of latest_hba1c",
    "latest_ldl_cholesterol": "float: latest LDL cholesterol (mmol/L)",
    "latest_non_hdl_cholesterol": "float: latest non-HDL cholesterol (mmol/L)",
    "latest_cholesterol_date": "date: date of the latest cholesterol result",
    "qrisk3": "float: QRISK3 10-year cardiovascular risk (%)",
    "cha2ds2_vasc": "int: CHA2DS2-VASc score where computable; null otherwise",
    "on_statin": "bool: a statin issued in the last 6 months",
    "on_lipid_lowering": "bool: any lipid-lowering therapy issued in the last 6 months",
    "on_anticoagulant": "bool: a DOAC or vitamin K antagonist issued in the last 6 months",
    "smoking_status": "str: current, ex, never; null when not recorded",
    "smoking_status_date": "date: date smoking status was last recorded",
    "latest_flu_vaccination_date": "date: latest influenza vaccination",
    "latest_ld_health_check_date": "date: latest learning disability annual health check",
    "latest_smi_health_check_date": "date: latest complete SMI physical health check (6 parts)",
    "latest_medication_review_date": "date: latest structured medication review",
    "distinct_medicines_12m": "int: distinct medicines issued in the last 12 months",
    "latest_foot_check_date": "date: latest diabetic foot examination and risk classification",
    "latest_asthma_review_date": "date: latest asthma review",
    "latest_dementia_review_date": "date: latest dementia care-plan review",
    "latest_cervical_screen_date": "date: latest adequate cervical screening test",
    "latest_alcohol_date": "date: latest alcohol consumption recorded",
    "qrisk3_eligible": "bool: QRISK3 applies (aged 25-84, no CVD, not on a statin)",
}

TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "patients": PATIENT_PROFILE_COLUMNS,
    # events may also use the patient's profile columns (joined on patient_id)
    "appointments": {**PATIENT_PROFILE_COLUMNS, **APPOINTMENTS.columns},
    "hospital_activity": {**PATIENT_PROFILE_COLUMNS, **HOSPITAL_ACTIVITY.columns},
}
EVENT_DATE = {"appointments": "start_at", "hospital_activity": "start_date"}
ID_PATTERN = r"^[a-z][a-z0-9_]*$"

Table = Literal["patients", "appointments", "hospital_activity"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where the indicator comes from (cite the exact indicator id)."""

    scheme: Literal["QOF", "IIF", "DES", "NICE", "NHSOF", "NHSE", "LOCAL"]
    reference: str = Field(min_length=2, description="e.g. 'QOF 2024-25 HYP008'")
    url: str | None = None
    note: str | None = None


class Count(_Strict):
    """What to count: rows of ``table`` passing ``where``."""

    table: Table
    where: str = "true"
    description: str = Field(min_length=3)

    @cached_property
    def expression(self) -> Expression:
        return parse(self.where)


class Disclosure(_Strict):
    """How results leave the clinical boundary (pcn.measures.sdc)."""

    policy: Literal["standard"] = "standard"
    note: str | None = None


class Review(_Strict):
    authored_by: str = Field(min_length=2)
    checked_by: str = Field(min_length=2)
    date_reviewed: date
    next_review: date

    @model_validator(mode="after")
    def _order(self) -> Review:
        if self.next_review <= self.date_reviewed:
            raise ValueError("next_review must be after date_reviewed")
        return self


class Indicator(_Strict):
    """One indicator definition (a YAML file)."""

    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: str = Field(min_length=5)
    description: str = Field(min_length=10)
    why_it_matters: str = Field(min_length=10)
    kind: Literal["proportion", "rate"]
    per: Literal[100, 1000] = 100
    low_is_good: bool | None = Field(
        description="true/false, or null when neither direction is better (SPC shows 'neither')"
    )
    target: float | None = None
    window_months: int | None = Field(default=None, ge=1, le=120)
    denominator: Count
    numerator: Count
    source: list[Source] = Field(min_length=1)
    disclosure: Disclosure = Disclosure()
    review: Review
    tags: list[str] = []
    not_available: str | None = Field(
        default=None, min_length=10,
        description="Why this indicator cannot be computed from any record pcn reads (a feature "
        "it needs has no shipped codelist); it is then shown as not available, never as 0%")

    def columns(self) -> frozenset[str]:
        """Every column the numerator and denominator filters refer to."""
        return self.numerator.expression.columns | self.denominator.expression.columns

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if self.kind == "proportion":
            if self.numerator.table != self.denominator.table:
                raise ValueError("a proportion counts numerator and denominator in one table")
            if self.per != 100:
                raise ValueError("a proportion is reported per 100 (per cent)")
        else:
            if self.denominator.table != "patients" or self.numerator.table == "patients":
                raise ValueError("a rate counts events (numerator) per patients (denominator)")
            if self.per != 1000:
                raise ValueError("rates are reported per 1,000 patients")
            if self.window_months is None:
                raise ValueError("a rate needs window_months (the period events are counted in)")
        for part in (self.numerator, self.denominator):
            part.expression  # noqa: B018 - parse now so a bad expression fails validation
        return self

    def reference_problems(self, codelists: set[str]) -> list[str]:
        """Unknown columns or codelists referred to (empty when all is well)."""
        problems = []
        for name, part in (("numerator", self.numerator), ("denominator", self.denominator)):
            problems += [
                f"{name}: {p}"
                for p in check_references(part.expression, TABLE_COLUMNS[part.table], codelists)
            ]
        return problems


class DefinitionError(ValueError):
    """An indicator file that does not load or validate; the message names file and field."""


def indicators_dir() -> Path:
    with resources.as_file(resources.files("pcn.definitions") / "indicators") as path:
        return Path(path)


def load_indicator(path: Path, codelists: set[str] | None = None) -> Indicator:
    """Load and validate one file: schema, expressions, id = file name, references."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise DefinitionError(f"{path.name}: not valid YAML: {e}") from None
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path.name}: expected a mapping at the top level")
    try:
        indicator = Indicator.model_validate(raw)
    except ValidationError as e:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in e.errors()
        )
        raise DefinitionError(f"{path.name}: {details}") from None
    if indicator.id != path.stem:
        raise DefinitionError(f"{path.name}: id {indicator.id!r} differs from the file name")
    if codelists is None:
        from pcn.refdata import codelist_ids

        codelists = set(codelist_ids())
    problems = indicator.reference_problems(codelists)
    if problems:
        raise DefinitionError(f"{path.name}: " + "; ".join(problems))
    return indicator


def load_indicators(directory: Path | None = None) -> dict[str, Indicator]:
    """Every indicator in ``directory`` (default: the shipped definitions), by id."""
    from pcn.refdata import codelist_ids

    codelists = set(codelist_ids())
    folder = directory or indicators_dir()
    return {
        p.stem: load_indicator(p, codelists) for p in sorted(folder.glob("*.yaml"))
    }


def _codelist_codes(codelist_id: str) -> frozenset[str]:
    from pcn.refdata import codelist

    return codelist(codelist_id).codes


@dataclass(frozen=True)
class IndicatorResult:
    """Numerator, denominator and value per practice and for the PCN (``level``), and a monthly
    series (``None`` when the numerator counts patients: see :mod:`pcn.measures.series`)."""

    indicator: Indicator
    as_of: date
    by_practice: pd.DataFrame
    monthly: pd.DataFrame | None


def _events(
    table: str,
    frame: pd.DataFrame,
    profile: pd.DataFrame,
    columns: frozenset[str],
) -> pd.DataFrame:
    """Event rows with the practice they are attributed to and any profile columns used."""
    if table == "hospital_activity" and "practice_code" in frame.columns:
        frame = frame.drop(columns="practice_code")  # always the practice of registration
    own = set(frame.columns)
    wanted = [c for c in columns if c not in own and c in profile.columns]
    if table == "hospital_activity":
        wanted = sorted({*wanted, "practice_code"})
        joined = frame.merge(profile[["patient_id", *wanted]], on="patient_id", how="inner")
    elif wanted:
        joined = frame.merge(profile[["patient_id", *wanted]], on="patient_id", how="left")
    else:
        joined = frame
    return joined


def _summarise(
    numerator: pd.Series, denominator: pd.Series, per: int, pcn_code: str
) -> pd.DataFrame:
    frame = pd.concat([numerator.rename("numerator"), denominator.rename("denominator")], axis=1)
    frame = frame.fillna(0).astype("int64")
    frame.index.name = "org_code"
    frame = frame.reset_index()
    frame.insert(0, "level", "practice")
    total = pd.DataFrame(
        {"level": ["pcn"], "org_code": [pcn_code], "numerator": [int(frame["numerator"].sum())],
         "denominator": [int(frame["denominator"].sum())]}
    )
    frame = pd.concat([frame, total], ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["value"] = np.where(
            frame["denominator"] > 0, frame["numerator"] / frame["denominator"] * per, np.nan
        )
    return frame


def compute_indicator(
    indicator: Indicator,
    patient_profile: pd.DataFrame,
    *,
    as_of: date,
    appointments: pd.DataFrame | None = None,
    hospital_activity: pd.DataFrame | None = None,
    pcn_code: str = "PCN",
    codelist_codes: Callable[[str], frozenset[str]] = _codelist_codes,
) -> IndicatorResult:
    """Evaluate one indicator with pandas. Raises ``ExpressionError`` naming a missing column."""
    tables: dict[str, pd.DataFrame | None] = {
        "patients": patient_profile,
        "appointments": appointments,
        "hospital_activity": hospital_activity,
    }
    practices = pd.Index(sorted(patient_profile["practice_code"].dropna().unique()))

    def frame_for(table: str, columns: frozenset[str]) -> pd.DataFrame:
        source = tables[table]
        if source is None:
            raise ValueError(f"indicator {indicator.id!r} needs the {table} table")
        return source if table == "patients" else _events(table, source, patient_profile, columns)

    def mask_of(part: Count, frame: pd.DataFrame) -> pd.Series:
        return evaluate(part.expression, frame, as_of=as_of, codelist_codes=codelist_codes)

    num_part, den_part = indicator.numerator, indicator.denominator
    if indicator.kind == "proportion":
        # one frame for both, so the masks line up row for row
        den_frame = num_frame = frame_for(
            den_part.table, num_part.expression.columns | den_part.expression.columns
        )
        den_mask = mask_of(den_part, den_frame)
        num_mask = mask_of(num_part, num_frame) & den_mask
    else:
        den_frame = patient_profile
        den_mask = mask_of(den_part, den_frame)
        num_frame = frame_for(num_part.table, num_part.expression.columns)
        num_mask = mask_of(num_part, num_frame)

    event_table = indicator.numerator.table if indicator.numerator.table != "patients" else None
    num_practice = num_frame["practice_code"]
    den_practice = den_frame["practice_code"]
    if event_table is not None:
        when = pd.to_datetime(num_frame[EVENT_DATE[event_table]])
        end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
        in_window = when < end
        if indicator.window_months is not None:
            in_window &= when >= end - pd.DateOffset(months=indicator.window_months)
        window_num = num_mask & in_window
        window_den = den_mask & in_window if indicator.kind == "proportion" else den_mask
    else:
        window_num, window_den = num_mask, den_mask

    # count on the practice column alone: copying whole event frames is the slow part
    numerator = num_practice[window_num].value_counts()
    denominator = den_practice[window_den].value_counts()
    numerator = numerator.reindex(practices.union(numerator.index), fill_value=0)
    denominator = denominator.reindex(numerator.index, fill_value=0)
    by_practice = _summarise(numerator, denominator, indicator.per, pcn_code)

    monthly = None
    if event_table is not None:
        month = when.dt.to_period("M")
        upto = when < end  # the series covers the record's history up to as_of
        num_sel, den_sel = num_mask & upto, den_mask & upto
        num_m = (pd.DataFrame({"month": month[num_sel], "practice_code": num_practice[num_sel]})
                 .groupby(["month", "practice_code"]).size().rename("numerator"))
        counted = den_sel if indicator.kind == "proportion" else num_sel
        first = month[counted].min()
        # every month and practice, so months without events are zeros, not gaps, in SPC charts
        months: pd.PeriodIndex = (
            pd.period_range(first, pd.Period(as_of, "M"), freq="M")
            if bool(counted.any()) else pd.PeriodIndex([], freq="M")
        )
        grid: pd.MultiIndex = pd.MultiIndex.from_product(
            [months, numerator.index], names=["month", "practice_code"]
        )
        num_m = num_m.reindex(grid, fill_value=0)
        if indicator.kind == "proportion":
            den_m = (pd.DataFrame({"month": month[den_sel],
                                   "practice_code": den_practice[den_sel]})
                     .groupby(["month", "practice_code"]).size().rename("denominator"))
            den_m = den_m.reindex(grid, fill_value=0)
        else:
            den_m = pd.Series(
                denominator.reindex(grid.get_level_values("practice_code")).to_numpy(),
                index=grid, name="denominator", dtype="int64",
            )
        monthly = pd.concat([num_m, den_m], axis=1).fillna(0).astype("int64").reset_index()
        pcn_rows = monthly.groupby("month", as_index=False)[["numerator", "denominator"]].sum()
        pcn_rows["practice_code"] = pcn_code
        monthly = pd.concat([monthly, pcn_rows], ignore_index=True)
        monthly = monthly.rename(columns={"practice_code": "org_code"})
        monthly.insert(1, "level", np.where(monthly["org_code"] == pcn_code, "pcn", "practice"))
        with np.errstate(divide="ignore", invalid="ignore"):
            monthly["value"] = np.where(
                monthly["denominator"] > 0,
                monthly["numerator"] / monthly["denominator"] * indicator.per, np.nan,
            )
        monthly = monthly.sort_values(["month", "level", "org_code"], ignore_index=True)
    return IndicatorResult(indicator, as_of, by_practice, monthly)


def protect_result(result: IndicatorResult, policy: DisclosurePolicy = DEFAULT_POLICY
                   ) -> pd.DataFrame:
    """The per-practice table after disclosure control, for anyone outside the clinical boundary
    (analysts, exports): small numbers hidden, counts rounded, PCN row recomputed after."""
    frame = result.by_practice
    total_code = frame.loc[frame["level"] == "pcn", "org_code"]
    return protect_rates_with_total(
        frame,
        org_column="org_code",
        total_code=str(total_code.iloc[0]) if len(total_code) else "",
        per=result.indicator.per,
        proportion=result.indicator.kind == "proportion",
        policy=policy,
    )


def funnel_for(result: IndicatorResult, *, method: str = "exact",
               overdispersion: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Funnel plot data for the practices of an indicator result (target = the PCN value).

    Values are on the indicator's scale (per cent, or per 1,000). ``overdispersion`` widens the
    limits by the between-unit variance (Spiegelhalter 2005), for comparisons across many
    practices (an ICB) where real differences make plain limits flag most of them."""
    from pcn.measures.funnel import funnel

    units = result.by_practice[result.by_practice["level"] == "practice"]
    kind = result.indicator.kind
    points, curve = funnel(units, kind=kind, method=method,  # type: ignore[arg-type]
                           per=float(result.indicator.per), overdispersion=overdispersion)
    if kind == "proportion":  # funnel works in fractions; show per cent like the indicator
        cols = [c for c in curve.columns if c != "denominator"]
        curve[cols] = curve[cols] * 100
        cols = ["value", "target", *[c for c in points.columns if c.startswith(("lower_",
                                                                                 "upper_"))]]
        points[cols] = points[cols] * 100
    return points, curve


def charts_independent_months(indicator: Indicator) -> bool:
    """True when the indicator's monthly values are independent (events counted in their own
    month: monthly counts and rates), so an XmR chart may be drawn. A patient-based indicator's
    month-end values share most of their window with the next month's (a 12-month window shares
    11), which Making Data Count's limits do not allow for (NHS England, Making Data Count:
    points must be independent)."""
    return indicator.numerator.table != "patients"


def spc_for(result: IndicatorResult, org_code: str, *, baseline: int | None = None
            ) -> XmrChart:
    """An XmR chart of one organisation's monthly series (months with no value are left out)."""
    from pcn.measures.spc import xmr

    if not charts_independent_months(result.indicator):
        raise ValueError(
            f"{result.indicator.id} counts patients at each month end over rolling windows: "
            "consecutive values overlap, so an XmR chart of them would be wrong"
        )
    if result.monthly is None:
        raise ValueError(f"{result.indicator.id} has no monthly series")
    series = result.monthly[(result.monthly["org_code"] == org_code)
                            & result.monthly["value"].notna()]
    if series.empty:
        raise ValueError(f"no monthly values for {org_code!r}")
    return xmr(series["value"].to_numpy(), list(series["month"]),
               low_is_good=result.indicator.low_is_good, target=result.indicator.target,
               baseline=baseline)


def compute_series(
    indicator: Indicator,
    profiles: Mapping[date, pd.DataFrame],
    *,
    pcn_code: str = "PCN",
    appointments: pd.DataFrame | None = None,
    hospital_activity: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Monthly series for any indicator from one patient profile per month end (``as_of``)."""
    parts = []
    for as_of, profile in sorted(profiles.items()):
        result = compute_indicator(indicator, profile, as_of=as_of, pcn_code=pcn_code,
                                   appointments=appointments, hospital_activity=hospital_activity)
        frame = result.by_practice.copy()
        frame["month"] = pd.Series([pd.Period(as_of, "M")] * len(frame), index=frame.index)
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=["month", "level", "org_code", "numerator", "denominator",
                                     "value"])
    out = pd.concat(parts, ignore_index=True)
    return out[["month", "level", "org_code", "numerator", "denominator", "value"]]

