"""QRISK3-2017: 10-year risk (%) of a first cardiovascular event, both sex equations.

Source: Hippisley-Cox J, Coupland C, Brindle P. BMJ 2017;357:j2099, as implemented by ClinRisk
Ltd. in the QRISK3-2017 open-source release (https://qrisk.org/three/src.php, GNU LGPL v3). The
coefficients are published facts kept, with their citation, in ``data/qrisk3_2017.yaml``; this
module is an independent implementation of the published formula:

    a     = sum of (transformed, centred) inputs x coefficients, incl. age interactions
    risk% = 100 * (1 - S0 ** exp(a))          S0 = baseline 10-year survival of the sex

Every score shown to a user must be accompanied by :data:`QRISK3_DISCLAIMER` (ClinRisk's
additional licence terms require it). Inputs are those of the ClinRisk code, named as there; see
``docs/reference/risk-scores.md`` for how pcn derives them from a record and fills gaps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from pcn.measures.expressions import joined_labels

#: ClinRisk's disclaimer, verbatim from the additional terms of the QRISK3-2017 open-source
#: release. Those terms require it to be shown (or prominently linked) wherever a QRISK3 score is
#: displayed; show :data:`QRISK3_IMPLEMENTATION_NOTE` with it.
QRISK3_DISCLAIMER = (
    "The initial version of this file, to be found at "
    "http://svn.clinrisk.co.uk/opensource/qrisk2, faithfully implements QRISK3-2017. "
    "ClinRisk Ltd. have released this code under the GNU Lesser General Public License to enable "
    "others to implement the algorithm faithfully. However, the nature of the GNU Lesser General "
    "Public License is such that we cannot prevent, for example, someone accidentally altering "
    "the coefficients, getting the inputs wrong, or just poor programming. ClinRisk Ltd. stress, "
    "therefore, that it is the responsibility of the end user to check that the source that they "
    "receive produces the same results as the original code found at https://qrisk.org. "
    "Inaccurate implementations of risk scores can lead to wrong patients being given the wrong "
    "treatment."
)
#: Says which implementation produced the score; shown before the disclaimer.
QRISK3_IMPLEMENTATION_NOTE = (
    "QRISK3-2017 scores are calculated by pcn's own implementation of the algorithm published "
    "by ClinRisk Ltd. (https://qrisk.org) under the GNU Lesser General Public License."
)


#: Columns of the batch contract, in order (``pcn risk qrisk3``).
ID_COLUMN = "id"
FLAG_COLUMNS: tuple[str, ...] = (
    "b_AF",
    "b_atypicalantipsy",
    "b_corticosteroids",
    "b_impotence2",
    "b_migraine",
    "b_ra",
    "b_renal",
    "b_semi",
    "b_sle",
    "b_treatedhyp",
    "b_type1",
    "b_type2",
    "fh_cvd",
)
MEASURE_COLUMNS: tuple[str, ...] = ("bmi", "rati", "sbp", "sbps5")
INPUT_COLUMNS: tuple[str, ...] = (
    "sex",
    "age",
    "ethrisk",
    "town",
    "smoke_cat",
    *FLAG_COLUMNS,
    *MEASURE_COLUMNS,
)
BATCH_COLUMNS: tuple[str, ...] = (ID_COLUMN, *INPUT_COLUMNS)

AGE_MIN, AGE_MAX = 25, 84
ETHRISK_LABELS = {
    1: "White or not stated",
    2: "Indian",
    3: "Pakistani",
    4: "Bangladeshi",
    5: "Other Asian",
    6: "Black Caribbean",
    7: "Black African",
    8: "Chinese",
    9: "Other ethnic group",
}
SMOKE_CAT_LABELS = {
    0: "non-smoker",
    1: "ex-smoker",
    2: "light smoker (< 10/day)",
    3: "moderate smoker (10-19/day)",
    4: "heavy smoker (20+/day)",
}

#: 2001-census 16-group ethnicity (``grouping_16`` of the OpenSAFELY SNOMED ethnicity codelist)
#: -> QRISK3 ``ethrisk``. QRISK3 groups: White or not stated, Indian, Pakistani, Bangladeshi,
#: Other Asian, Black Caribbean, Black African, Chinese, Other (which takes the mixed groups and
#: "Other Black", for which QRISK3 has no group of its own).
ETHRISK_BY_ETHNICITY_16 = {
    1: 1,
    2: 1,
    3: 1,  # White British, Irish, Other White
    4: 9,
    5: 9,
    6: 9,
    7: 9,  # Mixed groups
    8: 2,
    9: 3,
    10: 4,
    11: 5,  # Indian, Pakistani, Bangladeshi, Other Asian
    12: 6,
    13: 7,
    14: 9,  # Caribbean, African, Other Black
    15: 8,
    16: 9,  # Chinese, Any other
}


def ethrisk_series(groups: pd.Series) -> np.ndarray:
    """QRISK3 ``ethrisk`` for a column of 16-group ethnicities; unrecorded -> 1 ("White or not
    stated"); anything outside 1-16 is an error."""
    numbers = pd.to_numeric(groups, errors="coerce")
    bad = groups.notna() & ~numbers.isin(list(ETHRISK_BY_ETHNICITY_16))
    if bad.any():
        raise ValueError(f"ethnicity group must be 1-16, got {groups[bad].iloc[0]!r}")
    values = np.asarray(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
    ethrisk = np.ones(len(values), dtype=int)
    recorded = ~np.isnan(values)
    ethrisk[recorded] = _ETHRISK_TABLE[values[recorded].astype(np.intp)]
    return ethrisk


#: ETHRISK_BY_ETHNICITY_16 as an array indexed by group (index 0 unused).
_ETHRISK_TABLE = np.array(
    [1] + [ETHRISK_BY_ETHNICITY_16[g] for g in range(1, 17)], dtype=int
)


def ethrisk_from_ethnicity_16(group: float | None) -> int:
    """QRISK3 ``ethrisk`` for a 16-group ethnicity; unrecorded -> 1 ("White or not stated")."""
    return int(ethrisk_series(pd.Series([group], dtype=object))[0])


#: Plausible ranges accepted for the measured inputs (inclusive). The ClinRisk code itself
#: checks nothing; these only catch unit and keying errors (e.g. SBP in kPa, BMI x 10).
MEASURE_RANGES: dict[str, tuple[float, float]] = {
    "bmi": (10.0, 80.0),
    "rati": (0.5, 30.0),
    "sbp": (50.0, 300.0),
    "sbps5": (0.0, 150.0),
    "town": (-15.0, 25.0),
}


@dataclass(frozen=True)
class Equation:
    """One sex's published QRISK3-2017 equation."""

    sex: str
    baseline_survival: float
    age_powers: tuple[float, float]
    centre: Mapping[str, float]
    ethrisk: tuple[float, ...]  # index 0 = ethrisk 1
    smoke_cat: tuple[float, ...]  # index 0 = smoke_cat 0
    continuous: Mapping[str, float]
    binary: Mapping[str, float]
    interactions: Mapping[str, Mapping[str, float]]


@cache
def equations() -> dict[str, Equation]:
    """The female (``F``) and male (``M``) equations from the shipped coefficient file."""
    text = (resources.files("pcn.risk") / "data" / "qrisk3_2017.yaml").read_text("utf-8")
    spec: dict[str, Any] = yaml.safe_load(text)
    out = {}
    for sex, eq in spec["equations"].items():
        out[sex] = Equation(
            sex=sex,
            baseline_survival=float(eq["baseline_survival_10y"]),
            age_powers=(float(eq["age_powers"][0]), float(eq["age_powers"][1])),
            centre={k: float(v) for k, v in eq["centre"].items()},
            ethrisk=tuple(float(v) for v in eq["ethrisk"]),
            smoke_cat=tuple(float(v) for v in eq["smoke_cat"]),
            continuous={k: float(v) for k, v in eq["continuous"].items()},
            binary={k: float(v) for k, v in eq["binary"].items()},
            interactions={
                t: {k: float(v) for k, v in terms.items()}
                for t, terms in eq["interactions"].items()
            },
        )
    return out


def _linear_predictor(eq: Equation, cols: Mapping[str, np.ndarray]) -> np.ndarray:
    """``a`` of the published equation for arrays of one sex (all float64)."""
    dage = cols["age"] / 10.0
    dbmi = cols["bmi"] / 10.0
    bmi_inv_sq = dbmi**-2.0
    c = eq.centre
    centred = {
        "age_1": dage ** eq.age_powers[0] - c["age_1"],
        "age_2": dage ** eq.age_powers[1] - c["age_2"],
        "bmi_1": bmi_inv_sq - c["bmi_1"],
        "bmi_2": bmi_inv_sq * np.log(dbmi) - c["bmi_2"],
        "rati": cols["rati"] - c["rati"],
        "sbp": cols["sbp"] - c["sbp"],
        "sbps5": cols["sbps5"] - c["sbps5"],
        "town": cols["town"] - c["town"],
    }
    smoke = cols["smoke_cat"].astype(np.int64)
    ethrisk = cols["ethrisk"].astype(np.int64)
    a = np.asarray(eq.ethrisk)[ethrisk - 1] + np.asarray(eq.smoke_cat)[smoke]
    for name, coef in eq.continuous.items():
        a += centred[name] * coef
    for name, coef in eq.binary.items():
        a += cols[name] * coef
    # Each age term multiplies a sum of (coefficient x factor): sum first, multiply once.
    for age_term, terms in eq.interactions.items():
        inner = np.zeros_like(a)
        for other, coef in terms.items():
            if other.startswith("smoke_"):
                # the smoking-category indicator, as a lookup instead of a comparison
                inner += np.asarray(
                    [
                        coef if k == int(other.removeprefix("smoke_")) else 0.0
                        for k in range(len(eq.smoke_cat))
                    ]
                )[smoke]
            else:
                inner += (centred[other] if other in centred else cols[other]) * coef
        a += centred[age_term] * inner
    return a


def qrisk3_scores(frame: pd.DataFrame) -> np.ndarray:
    """10-year QRISK3-2017 risk in percent, unrounded, for every row of ``frame``.

    ``frame`` needs the columns in :data:`INPUT_COLUMNS` (``sex`` is ``"F"``/``"M"``), already
    valid (see :func:`validate_qrisk3_frame`) and complete (see :func:`fill_missing_inputs`):
    a missing measure gives a NaN score, an unknown ethrisk/smoke_cat/sex raises ValueError.
    """
    missing = [c for c in INPUT_COLUMNS if c not in frame.columns]
    if missing:
        raise KeyError(f"QRISK3 inputs missing column(s): {', '.join(missing)}")
    sex = frame["sex"].to_numpy()
    scores = np.full(len(frame), np.nan)
    numeric = {c: frame[c].to_numpy(dtype=np.float64) for c in INPUT_COLUMNS if c != "sex"}
    # ethrisk and smoke_cat index coefficient tables: an out-of-range code would silently pick
    # another group's coefficient, so refuse it here (other bad values give NaN or garbage).
    for column, (low, high) in {"ethrisk": (1, 9), "smoke_cat": (0, 4)}.items():
        values = numeric[column]
        bad = ~((values >= low) & (values <= high) & (values == np.floor(values)))
        if bad.any():
            raise ValueError(
                f"{column} must be an integer {low}-{high}; got "
                f"{sorted(set(values[bad].tolist()))[:5]}"
            )
    for code, eq in equations().items():
        mask = sex == code
        if not mask.any():
            continue
        cols = {k: v[mask] for k, v in numeric.items()}
        a = _linear_predictor(eq, cols)
        # 1 - S0**exp(a), computed as -expm1(exp(a) * ln S0) to keep precision at small risks.
        scores[mask] = -100.0 * np.expm1(np.exp(a) * math.log(eq.baseline_survival))
    unknown = ~np.isin(sex, list(equations()))
    if unknown.any():
        raise ValueError(f"sex must be 'F' or 'M'; got {sorted(set(sex[unknown].tolist()))}")
    return scores


def qrisk3_score(
    *,
    sex: str,
    age: int,
    ethrisk: int = 1,
    town: float = 0.0,
    smoke_cat: int = 0,
    bmi: float,
    rati: float,
    sbp: float,
    sbps5: float,
    b_AF: int = 0,
    b_atypicalantipsy: int = 0,
    b_corticosteroids: int = 0,
    b_impotence2: int = 0,
    b_migraine: int = 0,
    b_ra: int = 0,
    b_renal: int = 0,
    b_semi: int = 0,
    b_sle: int = 0,
    b_treatedhyp: int = 0,
    b_type1: int = 0,
    b_type2: int = 0,
    fh_cvd: int = 0,
) -> float:
    """One person's 10-year QRISK3-2017 risk in percent (unrounded); raises on invalid input."""
    row = {k: v for k, v in locals().items() if k in INPUT_COLUMNS}
    frame = pd.DataFrame([row])
    problems = validate_qrisk3_frame(frame.astype(str))
    if problems:
        raise ValueError("; ".join(p.message(with_row=False) for p in problems))
    return float(qrisk3_scores(frame)[0])


# --- input checking -------------------------------------------------------------------------


@dataclass(frozen=True)
class InputProblem:
    """One bad cell: ``row`` counts data rows from 1 (the header is not a row)."""

    row: int
    column: str
    value: str
    why: str
    row_id: str = ""

    def message(self, *, with_row: bool = True) -> str:
        where = f"row {self.row}" + (f" (id {self.row_id})" if self.row_id else "") + ", "
        return f"{where if with_row else ''}column {self.column}: {self.why} (got {self.value!r})"


def _as_numbers(values: pd.Series) -> pd.Series:
    """float64 from text cells; NaN where a cell is not a number.

    Fast path: one Arrow cast of the whole column (surrounding spaces trimmed); only a column
    holding a bad cell takes the slower cell-by-cell path that marks bad cells NaN.
    """
    try:
        trimmed = pc.utf8_trim_whitespace(pa.array(values, type=pa.string(), from_pandas=True))
        return pd.Series(
            pc.cast(trimmed, pa.float64()).to_numpy(zero_copy_only=False), index=values.index
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        stripped = values.astype("string").str.strip()
        return pd.to_numeric(stripped, errors="coerce").astype(np.float64)


def _integers_in(num: pd.Series, low: int, high: int) -> np.ndarray:
    """Mask of cells that are whole numbers from ``low`` to ``high`` ('3' and '3.0' both)."""
    ok = num.notna() & np.isfinite(num) & (num == np.floor(num)) & num.between(low, high)
    return ok.to_numpy(dtype=bool)


def check_qrisk3_frame(text: pd.DataFrame) -> tuple[pd.DataFrame, list[InputProblem]]:
    """Typed inputs and every bad cell (one problem per cell, in row order) of a batch read as
    text. Typed values of rows with problems are meaningless: drop those rows before scoring.

    Rules: ``sex`` F or M; ``age`` an integer 25-84; ``ethrisk`` integer 1-9; ``smoke_cat``
    integer 0-4; each flag 0 or 1; ``town`` and the measures numbers within
    :data:`MEASURE_RANGES`. Empty cells are errors here: fill gaps first, on purpose.
    """
    problems: list[tuple[int, int, InputProblem]] = []
    ids = text[ID_COLUMN].astype(str).to_numpy() if ID_COLUMN in text else None
    order = {c: i for i, c in enumerate(INPUT_COLUMNS)}
    typed = pd.DataFrame(index=text.index)

    def add(mask: np.ndarray, column: str, why: str) -> None:
        for position in np.flatnonzero(~mask):
            i = int(position)
            cell = text[column].iat[i]
            value = "" if cell is None or cell is pd.NA else str(cell)
            row_id = str(ids[i]) if ids is not None else ""
            problems.append((i, order[column], InputProblem(i + 1, column, value, why, row_id)))

    sex = text["sex"].astype("string").str.strip()
    add(sex.isin(["F", "M"]).fillna(False).to_numpy(dtype=bool), "sex", "must be F or M")
    typed["sex"] = sex.astype(object)
    integer_rules = {
        "age": (AGE_MIN, AGE_MAX, f"must be a whole number of years from {AGE_MIN} to {AGE_MAX}"),
        "ethrisk": (1, 9, "must be an integer 1-9 (QRISK3 ethnic group)"),
        "smoke_cat": (0, 4, "must be an integer 0-4 (non, ex, light, moderate, heavy smoker)"),
        **{flag: (0, 1, "must be 0 or 1") for flag in FLAG_COLUMNS},
    }
    for column, (low, high, why) in integer_rules.items():
        num = _as_numbers(text[column])
        ok = _integers_in(num, low, high)
        add(ok, column, why)
        typed[column] = np.where(ok, num, low).astype(np.int64)
    for column, (low_value, high_value) in MEASURE_RANGES.items():
        num = _as_numbers(text[column])
        ok = (num.notna() & np.isfinite(num) & num.between(low_value, high_value)).to_numpy(
            dtype=bool
        )
        add(ok, column, f"must be a number from {low_value:g} to {high_value:g}")
        typed[column] = num
    problems.sort(key=lambda p: (p[0], p[1]))
    return typed, [p for _, _, p in problems]


def validate_qrisk3_frame(text: pd.DataFrame) -> list[InputProblem]:
    """Every bad cell of a batch read as text; see :func:`check_qrisk3_frame` for the rules."""
    return check_qrisk3_frame(text)[1]


# --- missing values --------------------------------------------------------------------------


def default_values(sex: str) -> dict[str, float]:
    """Values used in place of a missing measure (ADR 0030).

    The published ClinRisk code takes complete inputs and documents no imputation; the QRISK3
    derivation used multiple imputation, whose model is not published. pcn uses each sex's
    centring constants from the published code (the values at which a term contributes 0, i.e.
    the derivation cohort's average) for cholesterol/HDL ratio, SBP and BMI (10 / sqrt(centre
    of bmi_1)). SBP variability with fewer than two readings is 0, as the qrisk.org calculator
    treats a blank SBP standard deviation (reported by independent implementations that
    reproduce qrisk.org results). Missing deprivation is 0, the Townsend mean by construction.
    """
    c = equations()[sex].centre
    return {
        "bmi": 10.0 / math.sqrt(c["bmi_1"]),
        "rati": c["rati"],
        "sbp": c["sbp"],
        "sbps5": 0.0,
        "town": 0.0,
    }


def fill_missing_inputs(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Copy of ``frame`` with missing measures filled by :func:`default_values`, plus a
    per-row text listing which inputs were filled (empty when none) for display and audit."""
    out = frame.copy(deep=False)  # filled columns are replaced, never written into
    fillable = list(default_values(next(iter(equations()))))
    filled = np.zeros((len(frame), len(fillable)), dtype=bool)
    for sex in equations():
        rows = out["sex"] == sex
        for column, value in default_values(sex).items():
            gap = rows & out[column].isna()
            if gap.any():
                out[column] = out[column].mask(gap, value)
                filled[:, fillable.index(column)] |= gap.to_numpy(dtype=bool)
    return out, _listed(filled, fillable, frame.index)


def _listed(changed: np.ndarray, columns: list[str], index: pd.Index) -> pd.Series:
    """Per row, the columns changed, comma-separated ("" for none)."""
    return pd.Series(joined_labels(changed, columns, sep=","), index=index, dtype="object")


#: Ranges the qrisk.org web calculator holds BMI and cholesterol ratio to (values outside are
#: replaced by the nearest limit), as reported by independent implementations that reproduce
#: qrisk.org results. The published ClinRisk code itself applies no limits.
CALCULATOR_LIMITS: dict[str, tuple[float, float]] = {"bmi": (20.0, 40.0), "rati": (1.0, 11.0)}


def apply_calculator_limits(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Copy of ``frame`` with BMI and cholesterol ratio held to :data:`CALCULATOR_LIMITS`, plus
    a per-row text listing which inputs were changed (empty when none).

    For the pipeline, so pcn's scores agree with the qrisk.org calculator that clinicians check
    against; the batch command does not apply it (it compares with the published code).
    """
    out = frame.copy(deep=False)  # limited columns are replaced, never written into
    changed = np.zeros((len(frame), len(CALCULATOR_LIMITS)), dtype=bool)
    for j, (column, (low, high)) in enumerate(CALCULATOR_LIMITS.items()):
        outside = (out[column] < low) | (out[column] > high)
        if outside.any():
            out[column] = out[column].clip(low, high)
            changed[:, j] = outside.to_numpy(dtype=bool)
    return out, _listed(changed, list(CALCULATOR_LIMITS), frame.index)


# --- inputs from a record --------------------------------------------------------------------


def sbp_variability(
    readings: pd.DataFrame, *, index_date: pd.Timestamp | str, years: int = 5
) -> pd.Series:
    """``sbps5``: standard deviation of each patient's systolic readings in the ``years`` before
    (and on) ``index_date``, as defined for QRISK3 (Hippisley-Cox et al. 2017: SD of the SBP
    values recorded in the 5 years before baseline, for people with at least two).

    ``readings`` has ``patient_id``, ``date`` and ``value``; the sample SD (n - 1) is used;
    patients with fewer than two readings in the window are absent from the result (their
    value is then missing, see :func:`fill_missing_inputs`).
    """
    end = pd.Timestamp(index_date)
    start = end - pd.DateOffset(years=years)
    dates = pd.to_datetime(readings["date"])
    window = readings[(dates > start) & (dates <= end)]
    grouped = window.groupby("patient_id")["value"]
    sd = grouped.std(ddof=1)
    return sd[grouped.count() >= 2].rename("sbps5")
