"""The twin's condition model: QOF-calibrated prevalence by age, sex and deprivation.

``expected_prevalence(condition, age, sex, imd_decile)`` is the probability that a person is on the
register. It is the product of a relative age-sex curve (``conditions.yaml``) and a level per IMD
decile, chosen so that, over the national population of that decile (ONS mid-2015 LSOA estimates by
sex and broad age band), the register prevalence equals QOF 2019-20's modelled prevalence for the
decile. The same function gives the "QOF-calibrated expectation" the twin is checked against.

Conditions are drawn with shared latent factors (probit model): P(on register | z) =
Phi(eta + l_g z_g + l_c z_c) with eta = Phi^-1(m) * sqrt(1 + l_g^2 + l_c^2), which keeps every
margin exactly m while correlating conditions that share a factor.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import cast

import numpy as np
import pandas as pd
import yaml
from scipy.special import ndtr, ndtri

from pcn.refdata import lsoas, qof_prevalence_by_imd

MAX_AGE = 105
AGES = np.arange(MAX_AGE + 1)
#: Within the open 65+ band, older ages are rarer; weights fall by e every 11 years (close to the
#: England 2015 age pyramid above 65).
OLD_AGE_SCALE = 11.0
POP_BANDS = (
    ("0_15", 0, 15),
    ("16_29", 16, 29),
    ("30_44", 30, 44),
    ("45_64", 45, 64),
    ("65_plus", 65, MAX_AGE),
)
MAX_PREVALENCE = 0.9


@dataclass(frozen=True)
class Condition:
    id: str
    qof_group: str | None
    min_age: int
    curve_f: np.ndarray  # relative prevalence by single year of age, female
    curve_m: np.ndarray
    load_general: float
    load_cardiometabolic: float
    codes: dict[str, float]
    resolved_code: str | None
    excludes: str | None
    reference_prevalence: float | None
    gradient_from: str | None

    @property
    def scale(self) -> float:
        return float(np.sqrt(1 + self.load_general**2 + self.load_cardiometabolic**2))


def _curve(knots: list[list[float]], column: int) -> np.ndarray:
    ages = [k[0] for k in knots]
    vals = [k[column] for k in knots]
    return np.interp(AGES, ages, vals)


@cache
def conditions() -> dict[str, Condition]:
    text = (resources.files("pcn.synth") / "conditions.yaml").read_text()
    raw = yaml.safe_load(text)["conditions"]
    out = {}
    for cid, c in raw.items():
        out[cid] = Condition(
            id=cid,
            qof_group=c.get("qof_group"),
            min_age=int(c["min_age"]),
            curve_f=_curve(c["knots"], 1),
            curve_m=_curve(c["knots"], 2),
            load_general=float(c["loadings"]["general"]),
            load_cardiometabolic=float(c["loadings"]["cardiometabolic"]),
            codes={str(k): float(v) for k, v in (c.get("codes") or {}).items()},
            resolved_code=c.get("resolved_code"),
            excludes=c.get("excludes"),
            reference_prevalence=c.get("reference_prevalence"),
            gradient_from=c.get("gradient_from"),
        )
    return out


def _band_age_weights() -> dict[str, np.ndarray]:
    weights = {}
    for name, lo, hi in POP_BANDS:
        w = np.zeros(len(AGES))
        if name == "65_plus":
            w[lo : hi + 1] = np.exp(-(AGES[lo : hi + 1] - lo) / OLD_AGE_SCALE)
        else:
            w[lo : hi + 1] = 1.0
        weights[name] = w / w.sum()
    return weights


@cache
def decile_age_sex_weights() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """National population by single year of age for each IMD decile: (female, male) counts."""
    df = lsoas()
    bw = _band_age_weights()
    out = {}
    for d in range(1, 11):
        sub = df[df.imd_decile == d]
        f = np.zeros(len(AGES))
        m = np.zeros(len(AGES))
        for name, _, _ in POP_BANDS:
            f += float(sub[f"pop_f_{name}"].sum()) * bw[name]
            m += float(sub[f"pop_m_{name}"].sum()) * bw[name]
        out[d] = (f, m)
    return out


@cache
def decile_levels() -> dict[str, np.ndarray]:
    """Per condition, the level multiplying its age-sex curve in each IMD decile (index 1..10)."""
    qof = qof_prevalence_by_imd()
    weights = decile_age_sex_weights()
    levels: dict[str, np.ndarray] = {}
    for cid, c in conditions().items():
        target = np.zeros(11)
        if c.qof_group is not None:
            rows = qof[qof.group_code == c.qof_group].set_index("imd_decile")
            for d in range(1, 11):
                target[d] = float(cast(float, rows.loc[d, "prevalence"]))
        else:
            assert c.reference_prevalence is not None and c.gradient_from is not None
            rows = qof[qof.group_code == c.gradient_from].set_index("imd_decile")
            national = float(rows.register.sum() / rows.list_size.sum())
            for d in range(1, 11):
                level = float(cast(float, rows.loc[d, "prevalence"]))
                target[d] = c.reference_prevalence * level / national
        lv = np.zeros(11)
        eligible = AGES >= c.min_age
        for d in range(1, 11):
            f, m = weights[d]
            denom = f[eligible].sum() + m[eligible].sum()
            mean_curve = ((f * c.curve_f)[eligible].sum() + (m * c.curve_m)[eligible].sum()) / denom
            lv[d] = target[d] / mean_curve
        levels[cid] = lv
    return levels


def qof_reference(condition: str, imd_decile: np.ndarray) -> np.ndarray:
    """QOF 2019-20 prevalence of the condition's group for each decile (the raw reference)."""
    c = conditions()[condition]
    qof = qof_prevalence_by_imd()
    group = c.qof_group or c.gradient_from
    rows = qof[qof.group_code == group].set_index("imd_decile").prevalence
    table = np.zeros(11)
    for d in range(1, 11):
        table[d] = float(rows.loc[d])
    if c.qof_group is None:
        assert c.reference_prevalence is not None
        sub = qof[qof.group_code == group]
        table = table * c.reference_prevalence / float(sub.register.sum() / sub.list_size.sum())
    return table[np.asarray(imd_decile, dtype=np.int64)]


def expected_prevalence(
    condition: str, age: np.ndarray, sex: np.ndarray, imd_decile: np.ndarray
) -> np.ndarray:
    """Probability of being on the register, by age (years), sex ('F'/'M') and IMD decile."""
    c = conditions()[condition]
    age = np.clip(np.asarray(age, dtype=np.int64), 0, MAX_AGE)
    male = np.asarray(sex) == "M"
    curve = np.where(male, c.curve_m[age], c.curve_f[age])
    level = decile_levels()[condition][np.asarray(imd_decile, dtype=np.int64)]
    p = np.minimum(curve * level, MAX_PREVALENCE)
    return np.where(age >= c.min_age, p, 0.0)


def draw_condition(
    condition: str, marginal: np.ndarray, z_general: np.ndarray, z_cardio: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Draw register membership with the given marginal probability, correlated via the latents."""
    c = conditions()[condition]
    with np.errstate(divide="ignore"):
        eta = ndtri(np.clip(marginal, 0.0, MAX_PREVALENCE)) * c.scale
    p = ndtr(eta + c.load_general * z_general + c.load_cardiometabolic * z_cardio)
    return u < p


def expectation_frame(age: np.ndarray, sex: np.ndarray, imd: np.ndarray) -> pd.DataFrame:
    """Expected register size and eligible denominator for a population, per condition."""
    rows = []
    for cid, c in conditions().items():
        p = expected_prevalence(cid, age, sex, imd)
        eligible = np.asarray(age) >= c.min_age
        qof = qof_reference(cid, imd)
        rows.append(
            {
                "register": cid,
                "qof_group": c.qof_group or "",
                "min_age": c.min_age,
                "eligible": int(eligible.sum()),
                "expected": float(p.sum()),
                "expected_prevalence": float(p.sum() / max(eligible.sum(), 1)),
                "qof_by_imd_only": float(qof[eligible].mean()) if eligible.any() else 0.0,
            }
        )
    return pd.DataFrame(rows)
