"""Generate one chunk of the twin: a block of one practice's patients and everything about them.

Everything is vectorised over the chunk's patients (numpy), so a chunk of 50,000 patients takes
seconds. A chunk depends only on (seed, chunk id, practice plan, as-of date), never on which worker
runs it or in what order, so the twin is deterministic for a seed.

The causal order mirrors how records arise: demographics -> latent health -> long-term conditions
-> frailty -> observations and prescriptions -> contacts with the practice and hospital -> deaths
and moves (which end registrations and truncate everything after them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pyarrow as pa

from pcn.record.nhs_number import synthetic_numbers
from pcn.refdata import codelist
from pcn.synth import catalogue as cat
from pcn.synth.model import MAX_AGE, conditions, draw_condition, expected_prevalence
from pcn.synth.population import ETHNIC_GROUPS, ETHNICITY_UNRECORDED, LSOA_BANDS, PracticePlan

EPOCH = dt.date(1970, 1, 1)
YEAR = 365.25
#: Candidates per registered patient: the current list plus an equal pool from which the people
#: who died or moved away during the window are drawn.
CANDIDATE_SURPLUS = 2.0


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


@dataclass
class StaffMember:
    clinician_id: str
    role: str
    practice_code: str | None
    wte: float


@dataclass
class StaffPools:
    """Clinicians by role available to a practice's patients (own staff, then PCN-wide ARRS)."""

    by_role: dict[str, list[StaffMember]] = field(default_factory=dict)

    @property
    def clinician_ids(self) -> list[str]:
        """Every clinician in the pools, in a fixed order (indices returned by ``pick``)."""
        return [m.clinician_id for members in self.by_role.values() for m in members]

    def pick(self, role: str, rng: np.random.Generator, n: int) -> np.ndarray:
        """Indices (into ``clinician_ids``) of clinicians of ``role``, weighted by WTE."""
        offset = 0
        for r, members in self.by_role.items():
            if r == role:
                break
            offset += len(members)
        members = self.by_role[role]
        w = np.array([m.wte for m in members])
        return offset + rng.choice(len(members), size=n, p=w / w.sum())


@dataclass(frozen=True)
class Chunk:
    chunk_id: int
    practice_index: int
    n_registered: int
    id_offset: int

    @property
    def n_candidates(self) -> int:
        return int(np.ceil(self.n_registered * CANDIDATE_SURPLUS))


@dataclass
class Context:
    seed: int
    as_of: dt.date
    history_years: int

    @property
    def as_of_day(self) -> int:
        return day_number(self.as_of)

    @property
    def history_start_day(self) -> int:
        return self.as_of_day - round(self.history_years * YEAR)


class Events:
    """Collects coded rows column-wise, with codes interned to small integers."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self._index: dict[str, int] = {}
        self.pid: list[np.ndarray] = []
        self.day: list[np.ndarray] = []
        self.code: list[np.ndarray] = []
        self.value: list[np.ndarray] = []

    def intern(self, code: str) -> int:
        if code not in self._index:
            self._index[code] = len(self.codes)
            self.codes.append(code)
        return self._index[code]

    def add(
        self,
        pid: np.ndarray,
        day: np.ndarray,
        code: str | np.ndarray,
        value: np.ndarray | None = None,
        choices: Sequence[str] | None = None,
    ) -> None:
        n = len(pid)
        if n == 0:
            return
        if isinstance(code, str):
            codes = np.full(n, self.intern(code), dtype=np.int32)
        else:
            assert choices is not None
            table = np.array([self.intern(c) for c in choices], dtype=np.int32)
            codes = table[code]
        self.pid.append(np.asarray(pid, dtype=np.int64))
        self.day.append(np.asarray(day, dtype=np.int64))
        self.code.append(codes)
        self.value.append(np.full(n, np.nan) if value is None else np.asarray(value, dtype=float))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.pid:
            e = np.zeros(0, dtype=np.int64)
            return e, e, np.zeros(0, dtype=np.int32), np.zeros(0)
        return (
            np.concatenate(self.pid),
            np.concatenate(self.day),
            np.concatenate(self.code),
            np.concatenate(self.value),
        )


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype("int32"), pa.int32()).cast(pa.date32())


def _strings(indices: np.ndarray, dictionary: list[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(indices.astype(np.int32)), pa.array(dictionary, pa.string())
    ).cast(pa.string())


def _weighted_choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = list(weights)
    w = np.array([weights[k] for k in keys], dtype=float)
    return rng.choice(len(keys), size=n, p=w / w.sum())


def _repeat_readings(
    rng: np.random.Generator,
    who: np.ndarray,
    rate_per_year: np.ndarray | float,
    start: np.ndarray | int,
    end: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson numbers of readings per person over [start, end); returns (row index, day)."""
    start = np.broadcast_to(np.asarray(start, dtype=np.int64), who.shape)
    span = np.maximum(end - start, 0)
    lam = np.broadcast_to(np.asarray(rate_per_year, dtype=float), who.shape) * span / YEAR
    k = rng.poisson(lam)
    rows = np.repeat(who, k)
    start_rep = np.repeat(start, k)
    span_rep = np.repeat(span, k)
    days = start_rep + np.floor(rng.random(len(rows)) * span_rep).astype(np.int64)
    return rows, days


def generate_chunk(
    plan: PracticePlan, chunk: Chunk, ctx: Context, staff: StaffPools
) -> dict[str, pa.Table]:
    rng = np.random.default_rng([ctx.seed, chunk.chunk_id, 7919])
    n = chunk.n_candidates
    today = ctx.as_of_day
    hist = ctx.history_start_day

    # --- demographics ---------------------------------------------------------------------
    age = rng.choice(MAX_AGE + 1, size=n, p=plan.age_pmf)
    dob = today - np.floor((age + rng.random(n)) * YEAR).astype(np.int64)
    dob = np.minimum(dob, today - 1)
    male = rng.random(n) < plan.male_share[age]
    sex = np.where(male, "M", "F")
    band = np.zeros(n, dtype=np.int64)
    for i, (_, lo, _hi) in enumerate(LSOA_BANDS):
        band[age >= lo] = i
    u = rng.random(n)
    lsoa_idx = np.empty(n, dtype=np.int64)
    for b in range(len(LSOA_BANDS)):
        sel = band == b
        lsoa_idx[sel] = np.minimum(
            np.searchsorted(plan.lsoa_cum_by_band[b], u[sel]), len(plan.lsoa_codes) - 1
        )
    imd = plan.lsoa_imd[lsoa_idx]
    minority = rng.random(n) < plan.lsoa_minority[lsoa_idx]
    groups = np.array([g[2] for g in ETHNIC_GROUPS[1:]])
    eth = np.where(minority, 1 + rng.choice(len(groups), size=n, p=groups / groups.sum()), 0)
    eth_recorded = rng.random(n) >= ETHNICITY_UNRECORDED

    # --- latent health and long-term conditions -------------------------------------------
    z_general = rng.standard_normal(n)
    z_cardio = rng.standard_normal(n)
    conds = conditions()
    has: dict[str, np.ndarray] = {}
    for cid, c in conds.items():
        m = expected_prevalence(cid, age, sex, imd)
        if c.excludes:
            other = expected_prevalence(c.excludes, age, sex, imd)
            m = np.minimum(m / np.maximum(1 - other, 1e-9), 1.0)
            has[cid] = (rng.random(n) < m) & ~has[c.excludes]
        else:
            has[cid] = draw_condition(cid, m, z_general, z_cardio, rng.random(n))
    ltc = cast(
        np.ndarray, sum(has[c].astype(np.int64) for c in conds if c not in ("obesity", "ndh"))
    )

    # Frailty: coded eFI deficits arise from age, the general latent factor and conditions.
    deficit_ids = [d for d in _efi_deficits() if d != "polypharmacy"]
    linked = _linked_deficits()
    older = age >= 50
    frail_drive = 0.04 * (age - 70) + 0.45 * z_general
    deficits = np.zeros((n, len(deficit_ids)), dtype=bool)
    for j, d in enumerate(deficit_ids):
        if d in linked:
            deficits[:, j] = np.logical_or.reduce([has[c] for c in linked[d]])
        else:
            p = np.minimum(0.095 * np.exp(frail_drive), 0.5)
            deficits[:, j] = older & (rng.random(n) < p)
    # Housebound / care home status depend on frailty; they are deficits themselves.
    pre_count = deficits.sum(axis=1)
    sev = np.clip((pre_count - 4) / 9, 0, 2)
    care_home = (age >= 65) & (rng.random(n) < 0.004 + 0.09 * sev**2 * (1 + has["dementia"]))
    housebound = (age >= 65) & ~care_home & (rng.random(n) < 0.008 + 0.09 * sev**1.5)
    for j, d in enumerate(deficit_ids):
        if d == "housebound":
            deficits[:, j] |= housebound
        if d == "care-requirement":
            deficits[:, j] |= care_home
    n_deficits = deficits.sum(axis=1)

    # --- who is registered on the as-of date, and who died or moved away before it ----------
    # The first n_registered candidates are the current list: drawn straight from the model, so
    # register prevalence among them is unbiased. The remaining candidates are a pool from which
    # the people who left during the window are accepted with their probability of leaving, so
    # deaths concentrate among the old, frail and seriously ill, as they do in reality.
    hazard = np.exp(-10.2 + 0.088 * np.minimum(age, 100)) * np.exp(0.09 * n_deficits)
    hazard *= np.where(has["palliative_care"], 6.0, 1.0) * np.where(has["cancer"], 1.5, 1.0)
    hazard *= 1.35 - 0.05 * (imd - 1)
    move_rate = np.where((age >= 18) & (age < 35), 0.06, 0.025)
    window_years = (today - hist) / YEAR
    p_gone = 1 - np.exp(-(hazard + move_rate) * window_years)
    current = np.arange(n) < chunk.n_registered
    # the pool is as large as the list, so accepting with p_gone yields the expected leavers
    # leaving needs a day between birth (or the window start) and the as-of date
    born = np.maximum(hist, dob + 1)
    gone = ~current & (rng.random(n) < p_gone) & (born < today)
    dies = gone & (rng.random(n) < hazard / (hazard + move_rate))
    moves = gone & ~dies
    when = born + np.floor(rng.random(n) * np.maximum(today - born, 1)).astype(np.int64)
    death_day = np.where(dies, when, -1)
    move_day = np.where(moves, when, -1)
    keep = current | gone
    # A leaver's age is their age on the as-of date had they stayed: fine for a window of years.

    def k(a: np.ndarray) -> np.ndarray:
        return a[keep]

    age, dob, sex, male, imd, lsoa_idx = k(age), k(dob), k(sex), k(male), k(imd), k(lsoa_idx)
    eth, eth_recorded = k(eth), k(eth_recorded)
    z_general, z_cardio = k(z_general), k(z_cardio)
    has = {c: k(v) for c, v in has.items()}
    ltc, deficits, n_deficits = k(ltc), deficits[keep], k(n_deficits)
    care_home, housebound = k(care_home), k(housebound)
    dies, death_day, moves, move_day = k(dies), k(death_day), k(moves), k(move_day)
    n = int(keep.sum())
    pid = chunk.id_offset + np.arange(n, dtype=np.int64)
    end_day = np.where(dies, death_day, np.where(moves, move_day, today + 10**6))

    # Registration start: births register at birth; others joined some years ago.
    recent = rng.random(n) < 0.13
    years_ago = np.where(
        recent, rng.random(n) * ctx.history_years, ctx.history_years + rng.random(n) * 30
    )
    reg_start = np.maximum(today - np.floor(years_ago * YEAR).astype(np.int64), dob)
    reg_start = np.where(age < 1, dob, reg_start)
    reg_start = np.minimum(reg_start, np.minimum(end_day, today) - 1)
    reg_start = np.maximum(reg_start, dob)

    ev = Events()
    obs = cat.observations()
    adult = age >= 18
    six_years = today - int(6 * YEAR)

    # --- diagnoses (and resolved diagnoses) -----------------------------------------------
    mean_years = {
        "hypertension": 9,
        "diabetes": 8,
        "asthma": 15,
        "copd": 7,
        "chd": 8,
        "stroke_tia": 6,
        "atrial_fibrillation": 5,
        "heart_failure": 4,
        "ckd": 5,
        "dementia": 3,
        "depression": 6,
        "smi": 12,
        "learning_disability": 30,
        "epilepsy": 15,
        "osteoporosis": 5,
        "rheumatoid_arthritis": 10,
        "pad": 6,
        "cancer": 5,
        "palliative_care": 0.6,
        "ndh": 3,
    }
    earliest = {
        "depression": day_number(dt.date(2006, 4, 1)),
        "cancer": day_number(dt.date(2003, 4, 1)),
        "palliative_care": day_number(dt.date(2008, 4, 1)),
    }
    dx_day: dict[str, np.ndarray] = {}
    for cid, c in conds.items():
        if not c.codes:
            continue
        who = np.flatnonzero(has[cid])
        yrs = rng.exponential(mean_years[cid], size=len(who))
        floor_day = np.maximum(dob[who] + int(YEAR), earliest.get(cid, -(10**6)))
        day = np.maximum(today - np.floor(yrs * YEAR).astype(np.int64), floor_day)
        day = np.minimum(day, np.minimum(end_day[who], today) - 1)
        day = np.maximum(day, dob[who])
        full = np.full(n, -1, dtype=np.int64)
        full[who] = day
        dx_day[cid] = full
        codes = dict(c.codes)
        if cid == "cancer":
            # Breast cancer mostly in women, prostate cancer only in men.
            f_who = who[~male[who]]
            m_who = who[male[who]]
            cf = {k2: v for k2, v in codes.items() if k2 != "399068003"}
            cm = {k2: (v * 0.02 if k2 == "254837009" else v) for k2, v in codes.items()}
            for grp, cw in ((f_who, cf), (m_who, cm)):
                pick = _weighted_choice(rng, cw, len(grp))
                ev.add(pid[grp], full[grp], pick, choices=list(cw))
        else:
            pick = _weighted_choice(rng, codes, len(who))
            ev.add(pid[who], day, pick, choices=list(codes))
    for cid, share, min_age in (
        ("asthma", 0.05, 10),
        ("hypertension", 0.01, 40),
        ("diabetes", 0.002, 30),
    ):
        c = conds[cid]
        who = np.flatnonzero(~has[cid] & (age >= min_age) & (rng.random(n) < share))
        first = today - np.floor((3 + rng.random(len(who)) * 15) * YEAR).astype(np.int64)
        first = np.maximum(first, dob[who] + 365)
        resolved = first + np.floor(rng.random(len(who)) * (today - first)).astype(np.int64)
        ev.add(pid[who], first, next(iter(c.codes)))
        assert c.resolved_code is not None
        ev.add(pid[who], np.maximum(resolved, first + 1), c.resolved_code)

    # --- smoking ---------------------------------------------------------------------------
    smoke_age = age >= 16
    p_current = np.clip(
        (0.26 - 0.02 * (imd - 1)) * np.where(male, 1.15, 0.9) * np.where(age >= 75, 0.45, 1.0),
        0.02,
        0.5,
    )
    p_ex = np.clip(0.12 + 0.004 * (age - 30), 0.05, 0.45)
    s = rng.random(len(age))
    status = np.where(s < p_current, 1, np.where(s < p_current + p_ex, 2, 0))
    recorded = smoke_age & (rng.random(n) > 0.06)
    smoke_day = today - np.floor(rng.random(n) * 5 * YEAR).astype(np.int64)
    smoke_day = np.maximum(smoke_day, dob + int(16 * YEAR))
    for st, code in ((0, obs.never_smoked), (2, obs.ex_smoker)):
        who = np.flatnonzero(recorded & (status == st))
        ev.add(pid[who], smoke_day[who], code)
    who = np.flatnonzero(recorded & (status == 1))
    ev.add(pid[who], smoke_day[who], rng.integers(0, len(obs.smoker), len(who)), choices=obs.smoker)
    who = np.flatnonzero(recorded & (status == 2) & (rng.random(n) < 0.35))
    earlier = smoke_day[who] - np.floor((1 + rng.random(len(who)) * 8) * YEAR).astype(np.int64)
    ev.add(pid[who], np.maximum(earlier, dob[who] + int(16 * YEAR)), obs.smoker[0])

    # --- blood pressure ----------------------------------------------------------------------
    hyp = has["hypertension"]
    sbp_mean = np.where(
        hyp,
        133 + 0.15 * np.maximum(age - 50, 0) + 9 * rng.standard_normal(n) + 2 * z_cardio,
        111
        + 0.42 * np.maximum(age - 18, 0)
        + 5 * z_cardio
        + np.where(male, 4, 0)
        + 6 * rng.standard_normal(n),
    )
    bp_rate = np.where(age >= 65, 0.8, np.where(age >= 40, 0.45, 0.25))
    bp_rate = bp_rate + np.where(
        hyp | has["diabetes"] | has["ckd"] | has["chd"] | has["stroke_tia"], 1.2, 0.0
    )
    who = np.flatnonzero(adult)
    rows, days = _repeat_readings(
        rng, who, bp_rate[who], np.maximum(dob[who] + int(18 * YEAR), six_years), today
    )
    noise = np.where(hyp[rows], 11.0, 7.0)
    sbp = np.round(sbp_mean[rows] + noise * rng.standard_normal(len(rows)))
    sbp = np.clip(sbp, 80, 230)
    dbp = np.round(
        np.clip(
            0.45 * sbp
            + 20
            - 0.12 * np.maximum(age[rows] - 60, 0)
            + 5 * rng.standard_normal(len(rows)),
            40,
            130,
        )
    )
    pair = (rng.random(len(rows)) < 0.2).astype(np.int64)
    ev.add(pid[rows], days, pair, sbp, choices=obs.sbp)
    ev.add(pid[rows], days, pair, dbp, choices=obs.dbp)

    # --- BMI (the QOF obesity register is BMI >= 30 recorded in the last 12 months) ----------
    ob = has["obesity"]
    bmi_true = np.where(
        ob,
        30.3 + rng.exponential(4.0, n),
        np.exp(np.log(26.0) + 0.16 * rng.standard_normal(n)) + 1.2 * z_cardio,
    )
    bmi_true = np.clip(bmi_true, 15, 70)
    year_ago = today - 365
    rows, days = _repeat_readings(
        rng,
        who,
        np.where(ob[who], 0.25, 0.3),
        np.maximum(dob[who] + int(18 * YEAR), six_years),
        today,
    )
    vals = np.round(np.clip(bmi_true[rows] + 0.8 * rng.standard_normal(len(rows)), 14, 75), 1)
    recent = days > year_ago
    # People not on the register with a high BMI were last weighed more than a year ago.
    shift = recent & ~ob[rows] & (vals >= 30)
    days = np.where(shift, days - 365 - rng.integers(1, 700, len(rows)), days)
    vals = np.where(recent & ob[rows], np.maximum(vals, 30.0), vals)
    ev.add(pid[rows], days, obs.bmi, vals)
    # every register member has a qualifying reading in the last 12 months
    ob_who = np.flatnonzero(ob)
    ob_day = today - rng.integers(1, 360, len(ob_who))
    ev.add(pid[ob_who], ob_day, obs.bmi, np.round(np.maximum(bmi_true[ob_who], 30.0), 1))

    # --- prescriptions -------------------------------------------------------------------------
    meds = _prescribe(rng, n, age, has, z_cardio, care_home)
    med_pid, med_day, med_code, med_qty, on_statin, n_repeat = _issues(
        rng, meds, pid, today, dob
    )

    # --- blood tests -----------------------------------------------------------------------------
    forty = np.flatnonzero(age >= 40)
    chol_rate = np.where(on_statin[forty], 1.0, 0.3)
    rows, days = _repeat_readings(rng, forty, chol_rate, six_years, today)
    tc = np.round(
        np.clip(
            5.3
            - 1.2 * on_statin[rows]
            + 0.3 * z_cardio[rows]
            + 0.8 * rng.standard_normal(len(rows)),
            2.0,
            11.0,
        ),
        1,
    )
    hdl = np.round(
        np.clip(
            np.where(male[rows], 1.25, 1.55)
            - 0.08 * z_cardio[rows]
            + 0.3 * rng.standard_normal(len(rows)),
            0.5,
            3.5,
        ),
        2,
    )
    ev.add(pid[rows], days, obs.cholesterol, tc)
    ev.add(pid[rows], days, obs.hdl, hdl)
    dm_mean = 58 + 12 * rng.standard_normal(n)
    rows, days = _repeat_readings(rng, np.flatnonzero(has["diabetes"]), 2.0, six_years, today)
    ev.add(
        pid[rows],
        days,
        obs.hba1c,
        np.round(np.clip(dm_mean[rows] + 6 * rng.standard_normal(len(rows)), 33, 140)),
    )
    rows, days = _repeat_readings(rng, np.flatnonzero(has["ndh"]), 1.0, six_years, today)
    ev.add(pid[rows], days, obs.hba1c, rng.integers(42, 48, len(rows)).astype(float))
    other = np.flatnonzero((age >= 40) & ~has["diabetes"] & ~has["ndh"])
    rows, days = _repeat_readings(rng, other, 0.1, six_years, today)
    ev.add(pid[rows], days, obs.hba1c, rng.integers(30, 42, len(rows)).astype(float))
    ckd_who = np.flatnonzero(has["ckd"])
    ckd_level = rng.choice([52.0, 37.0, 22.0, 11.0], size=n, p=[0.55, 0.3, 0.12, 0.03])
    rows, days = _repeat_readings(rng, ckd_who, 2.0, six_years, today)
    ev.add(
        pid[rows],
        days,
        obs.egfr,
        np.round(np.clip(ckd_level[rows] + 4 * rng.standard_normal(len(rows)), 5, 59)),
    )
    risk = np.flatnonzero(~has["ckd"] & (age >= 50) & (hyp | has["diabetes"]))
    rows, days = _repeat_readings(rng, risk, 1.0, six_years, today)
    ev.add(
        pid[rows],
        days,
        obs.egfr,
        np.round(
            np.clip(92 - 0.45 * (age[rows] - 50) + 10 * rng.standard_normal(len(rows)), 61, 130)
        ),
    )

    # --- frailty: eFI deficit codes, frailty category, care home, housebound --------------
    for j, d in enumerate(deficit_ids):
        who = np.flatnonzero(deficits[:, j])
        choices = _deficit_codes(d)
        if d in linked or not choices or len(who) == 0:
            continue
        day = today - np.floor(rng.random(len(who)) * 10 * YEAR).astype(np.int64)
        day = np.maximum(day, dob[who] + int(40 * YEAR))
        ev.add(
            pid[who],
            np.minimum(day, today - 1),
            rng.integers(0, len(choices), len(who)),
            choices=choices,
        )
    old = age >= 65
    category = np.select([n_deficits >= 13, n_deficits >= 9, n_deficits >= 5], [3, 2, 1], 0)
    coded = old & (category > 0) & (rng.random(n) < 0.55)
    for cat_level, code in ((1, obs.mild_frail), (2, obs.moderate_frail), (3, obs.severe_frail)):
        who = np.flatnonzero(coded & (category == cat_level))
        ev.add(pid[who], today - rng.integers(1, 700, len(who)), code)
    who = np.flatnonzero(care_home)
    ev.add(
        pid[who],
        today - rng.integers(1, 1500, len(who)),
        (rng.random(len(who)) < 0.45).astype(np.int64),
        choices=obs.care_home,
    )
    who = np.flatnonzero(housebound)
    ev.add(pid[who], today - rng.integers(1, 1500, len(who)), obs.housebound)

    # --- flu vaccinations and medication reviews ------------------------------------------------
    at_risk = (
        has["chd"]
        | has["diabetes"]
        | has["copd"]
        | has["asthma"]
        | has["ckd"]
        | has["stroke_tia"]
        | has["learning_disability"]
        | has["heart_failure"]
    )
    propensity = np.clip(
        np.where(age >= 65, 0.78, np.where(at_risk, 0.5, 0.0))
        - 0.02 * (5 - np.minimum(imd, 5))
        + 0.15 * rng.standard_normal(n),
        0,
        0.97,
    )
    for season in range(ctx.history_years + 1):
        sept = day_number(dt.date(ctx.as_of.year - season, 9, 1))
        if sept >= today or sept < hist - 365:
            continue
        who = np.flatnonzero((rng.random(n) < propensity) & (age >= 2))
        day = sept + rng.integers(0, 120, len(who))
        ok = day < today
        ev.add(
            pid[who[ok]],
            day[ok],
            (rng.random(int(ok.sum())) < 0.25).astype(np.int64),
            choices=obs.flu,
        )
    reviewable = n_repeat >= 2
    who = np.flatnonzero(reviewable & (rng.random(n) < 0.72))
    ev.add(
        pid[who],
        today - rng.integers(1, 365, len(who)),
        rng.integers(0, len(obs.med_review), len(who)),
        choices=obs.med_review,
    )
    complex_ = (n_repeat >= 10) | care_home | (category == 3)
    who = np.flatnonzero(complex_ & (rng.random(n) < 0.2))
    ev.add(pid[who], today - rng.integers(1, 365, len(who)), obs.smr)

    # --- QOF/INLIQ process events: cervical screening, asthma and dementia reviews, diabetic
    # foot checks, alcohol consumption. A stream of its own, so adding them leaves every other
    # draw of the twin as it was; a practice-level random effect (logit scale, SD 0.35) gives
    # practices real differences in how much of this work they do and record.
    _process_events(pid, age, dob, male, has, imd, status, today, ctx, chunk, ev)

    # --- pregnancy: about 4.5% of women aged 16-44 are pregnant at any time (ONS births /
    # female population); a similar share delivered within the last two years.
    fertile = ~male & (age >= 16) & (age <= 44)
    who = np.flatnonzero(fertile & (rng.random(n) < 0.045))
    ev.add(pid[who], today - rng.integers(20, 250, len(who)), obs.pregnant)
    who = np.flatnonzero(fertile & (rng.random(n) < 0.05))
    conceived = today - rng.integers(300, 700, len(who))
    ev.add(pid[who], conceived, obs.pregnant)
    ev.add(pid[who], conceived + rng.integers(240, 290, len(who)), obs.delivery)

    # --- opt-outs: type 1 (coded in the GP record) and the national data opt-out list -----------
    # England: about 3% of patients hold a type 1 opt-out and 5-6% a national data opt-out
    # (NHS England, National Data Opt-out open data). Some type 1 dissents are later withdrawn.
    t1 = _type1_codes()
    who = np.flatnonzero(rng.random(n) < 0.035)
    t1_day = today - rng.integers(30, 3000, len(who))
    ev.add(pid[who], np.maximum(t1_day, dob[who] + 1), t1[0])
    withdrawn = who[rng.random(len(who)) < 0.15]
    ev.add(pid[withdrawn], today - rng.integers(1, 30, len(withdrawn)), t1[1])
    national = np.flatnonzero(rng.random(n) < 0.055)

    # --- appointments ---------------------------------------------------------------------------
    appt = _appointments(
        rng,
        plan,
        staff,
        pid,
        age,
        male,
        imd,
        ltc,
        n_deficits,
        has,
        care_home,
        housebound,
        reg_start,
        end_day,
        hist,
        today,
    )

    # --- hospital activity ---------------------------------------------------------------------
    hosp = _hospital(
        rng, pid, age, imd, ltc, n_deficits, has, care_home, reg_start, end_day, hist, today
    )

    # --- assemble, dropping anything after death or leaving ---------------------------------------
    e_pid, e_day, e_code, e_val = ev.arrays()
    limit = end_day[e_pid - chunk.id_offset]
    ok = (e_day <= np.minimum(limit, today)) & (e_day >= dob[e_pid - chunk.id_offset])
    clinical_events = pa.table(
        {
            "patient_id": pa.array(e_pid[ok]),
            "date": _dates(e_day[ok]),
            "snomed_code": _strings(e_code[ok], ev.codes),
            "numeric_value": pa.array(e_val[ok], pa.float64(), from_pandas=True),
        }
    )
    limit = end_day[med_pid - chunk.id_offset]
    ok = med_day <= np.minimum(limit, today)
    med_codes = sorted(set(meds_codes_list()))
    medications = pa.table(
        {
            "patient_id": pa.array(med_pid[ok]),
            "date": _dates(med_day[ok]),
            "dmd_code": _strings(med_code[ok], med_codes),
            "quantity": pa.array(med_qty[ok], pa.float64()),
        }
    )
    eth_codes = [g[1] for g in ETHNIC_GROUPS]
    eth_arr = _strings(eth, eth_codes)
    eth_arr = pa.array(
        [c if r else None for c, r in zip(eth_arr.to_pylist(), eth_recorded, strict=True)],
        pa.string(),
    )
    patients = pa.table(
        {
            "patient_id": pa.array(pid),
            "nhs_number": pa.array(synthetic_numbers(int(pid[0]), n).astype(str), pa.string())
            if n
            else pa.array([], pa.string()),
            "date_of_birth": _dates(dob),
            "sex": pa.array(sex, pa.string()),
            "ethnicity_code": eth_arr,
            "lsoa_code": pa.array(plan.lsoa_codes[lsoa_idx], pa.string()),
            "date_of_death": pa.array(
                np.where(dies, death_day, 0).astype("int32"), pa.int32(), mask=~dies
            ).cast(pa.date32()),
        }
    )
    reg_end = np.where(gone_mask := (dies | moves), end_day, 0)
    registrations = pa.table(
        {
            "patient_id": pa.array(pid),
            "practice_code": pa.array(np.full(n, plan.practice_code), pa.string()),
            "start_date": _dates(reg_start),
            "end_date": pa.array(reg_end.astype("int32"), pa.int32(), mask=~gone_mask).cast(
                pa.date32()
            ),
        }
    )
    nhs = patients.column("nhs_number").to_numpy(zero_copy_only=False)
    opt_outs = pa.table(
        {
            "nhs_number": pa.array(nhs[national], pa.string()),
            "kind": pa.array(["national_data_opt_out"] * len(national), pa.string()),
            "received_date": _dates(np.full(len(national), today - 14, dtype=np.int64)),
        }
    )
    return {
        "patients": patients,
        "registrations": registrations,
        "opt_outs": opt_outs,
        "clinical_events": clinical_events,
        "medications": medications,
        "appointments": appt,
        "hospital_activity": hosp,
    }


# --- prescriptions ------------------------------------------------------------------------------


#: Repeat medicines by condition: (drug, probability among people with the condition).
#: Proportions reflect typical English primary care treatment rates (e.g. QOF: ~85% of people
#: with AF and CHA2DS2-VASc >= 2 anticoagulated; ~80% of people with CHD on a statin).
def _prescribe(
    rng: np.random.Generator,
    n: int,
    age: np.ndarray,
    has: dict[str, np.ndarray],
    z_cardio: np.ndarray,
    care_home: np.ndarray,
) -> dict[str, np.ndarray]:
    meds: dict[str, np.ndarray] = {k: np.zeros(n, dtype=bool) for k in cat.drugs()}

    def give(drug: str, who: np.ndarray, p: float | np.ndarray) -> None:
        meds[drug] |= who & (rng.random(n) < p)

    hyp = has["hypertension"]
    treated = hyp & (rng.random(n) < 0.85)
    k = rng.choice([1, 2, 3], size=n, p=[0.45, 0.35, 0.2])
    give("amlodipine", treated, 1.0)
    acei = rng.random(n)
    give("ramipril", treated & (k >= 2) & (acei < 0.55), 1.0)
    give("lisinopril", treated & (k >= 2) & (acei >= 0.55) & (acei < 0.7), 1.0)
    give("losartan", treated & (k >= 2) & (acei >= 0.7), 1.0)
    give("indapamide", treated & (k >= 3), 1.0)
    cvd = has["chd"] | has["stroke_tia"] | has["pad"]
    statin_p = np.where(
        cvd,
        0.85,
        np.where(
            has["diabetes"] & (age >= 40),
            0.75,
            np.where(
                has["ckd"],
                0.55,
                np.where(
                    (age >= 40) & (age < 85),
                    np.clip(0.1 * np.exp(0.045 * (age - 60)) * np.exp(0.4 * z_cardio), 0, 0.45),
                    0.0,
                ),
            ),
        ),
    )
    statin = rng.random(n) < statin_p
    high = cvd & (rng.random(n) < 0.6)
    meds["atorvastatin80"] |= statin & high
    meds["atorvastatin20"] |= statin & ~high & (rng.random(n) < 0.7)
    meds["simvastatin"] |= statin & ~meds["atorvastatin80"] & ~meds["atorvastatin20"]
    give("aspirin", has["chd"] | has["pad"], 0.6)
    give("clopidogrel", has["stroke_tia"], 0.7)
    dm = has["diabetes"]
    t1 = dm & (age < 40) & (rng.random(n) < 0.5)
    give("metformin", dm & ~t1, 0.8)
    give("gliclazide", dm & ~t1, 0.25)
    give("dapagliflozin", (dm & ~t1) | has["heart_failure"], 0.25)
    give("sitagliptin", dm & ~t1, 0.15)
    give("insulin_glargine", t1, 1.0)
    give("insulin_glargine", dm & ~t1, 0.1)
    af = has["atrial_fibrillation"]
    anticoag = af & (rng.random(n) < 0.85)
    which = rng.random(n)
    meds["apixaban"] |= anticoag & (which < 0.55)
    meds["edoxaban"] |= anticoag & (which >= 0.55) & (which < 0.8)
    meds["warfarin"] |= anticoag & (which >= 0.8)
    give("bisoprolol", af, 0.5)
    hf = has["heart_failure"]
    give("bisoprolol", hf, 0.7)
    give("ramipril", hf, 0.6)
    give("furosemide", hf, 0.65)
    give("salbutamol", has["asthma"], 0.95)
    give("beclometasone", has["asthma"], 0.7)
    no_reliever = has["asthma"] & ~meds["salbutamol"] & ~meds["beclometasone"]
    meds["salbutamol"] |= no_reliever  # QOF's asthma register needs a recent asthma drug
    give("salbutamol", has["copd"], 0.9)
    give("beclometasone", has["copd"], 0.5)
    give("prednisolone", has["copd"] | has["rheumatoid_arthritis"], 0.15)
    dep = has["depression"] & (rng.random(n) < 0.55)
    which = rng.random(n)
    meds["sertraline"] |= dep & (which < 0.45)
    meds["citalopram"] |= dep & (which >= 0.45) & (which < 0.8)
    meds["mirtazapine"] |= dep & (which >= 0.8)
    smi = has["smi"] & (rng.random(n) < 0.75)
    which = rng.random(n)
    meds["olanzapine"] |= smi & (which < 0.5)
    meds["quetiapine"] |= smi & (which >= 0.5)
    give("lithium", has["smi"], 0.1)
    give("alendronic_acid", has["osteoporosis"], 0.6)
    give("methotrexate", has["rheumatoid_arthritis"], 0.6)
    fifty = age >= 50
    give("omeprazole", fifty, 0.1)
    give("lansoprazole", fifty, 0.05)
    give("omeprazole", meds["aspirin"] | meds["clopidogrel"], 0.4)
    give("co_codamol", fifty, 0.05 + 0.1 * care_home)
    give("tramadol", fifty, 0.03)
    give("pregabalin", age >= 30, 0.02)
    give("naproxen", (age >= 30) & (age < 75), 0.015)
    return meds


def meds_codes_list() -> list[str]:
    return list(cat.drugs().values())


def _issues(
    rng: np.random.Generator,
    meds: dict[str, np.ndarray],
    pid: np.ndarray,
    today: int,
    dob: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Repeat issues every ~56 days over the last two years (or since the drug was started)."""
    codes = sorted(set(meds_codes_list()))
    code_index = {c: i for i, c in enumerate(codes)}
    drugs = cat.drugs()
    two_years = today - 730
    out_pid, out_day, out_code, out_qty = [], [], [], []
    n = len(pid)
    n_repeat = np.zeros(n, dtype=np.int64)
    for name, on in meds.items():
        who = np.flatnonzero(on)
        if not len(who):
            continue
        n_repeat[who] += 1
        started = two_years - rng.integers(0, 2000, len(who))
        started = np.maximum(started, dob[who] + 365)
        start = np.maximum(started, two_years)
        # acute courses (prednisolone) are one-off issues
        interval = 56 if name != "prednisolone" else 10**6
        span = today - start
        k = np.maximum(span // interval, 0) + 1
        rows = np.repeat(who, k)
        seq = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
        day = np.repeat(start, k) + seq * interval + rng.integers(-6, 7, len(rows))
        day = np.clip(day, np.repeat(start, k), today - 1)
        out_pid.append(pid[rows])
        out_day.append(day)
        out_code.append(np.full(len(rows), code_index[drugs[name]], dtype=np.int32))
        out_qty.append(np.full(len(rows), 56.0 if name != "prednisolone" else 28.0))
    on_statin = meds["atorvastatin20"] | meds["atorvastatin80"] | meds["simvastatin"]
    if not out_pid:
        e = np.zeros(0, dtype=np.int64)
        return e, e, np.zeros(0, dtype=np.int32), np.zeros(0), on_statin, n_repeat
    return (
        np.concatenate(out_pid),
        np.concatenate(out_day),
        np.concatenate(out_code),
        np.concatenate(out_qty),
        on_statin,
        n_repeat,
    )


# --- appointments -------------------------------------------------------------------------------

#: Share of appointments by role (GP Appointments Data 2024 proportions, rounded, with ARRS roles).
ROLE_MIX = {
    "gp": 0.44,
    "practice_nurse": 0.17,
    "hca": 0.1,
    "anp": 0.08,
    "clinical_pharmacist": 0.055,
    "fcp_physio": 0.03,
    "social_prescriber": 0.02,
    "mental_health_practitioner": 0.02,
    "paramedic": 0.02,
    "care_coordinator": 0.03,
    "health_coach": 0.01,
    "pharmacy_technician": 0.015,
}
MODE_MIX = {
    "face_to_face": 0.66,
    "telephone": 0.28,
    "video": 0.01,
    "online": 0.03,
    "home_visit": 0.02,
}


def _appointments(
    rng: np.random.Generator,
    plan: PracticePlan,
    staff: StaffPools,
    pid: np.ndarray,
    age: np.ndarray,
    male: np.ndarray,
    imd: np.ndarray,
    ltc: np.ndarray,
    n_deficits: np.ndarray,
    has: dict[str, np.ndarray],
    care_home: np.ndarray,
    housebound: np.ndarray,
    reg_start: np.ndarray,
    end_day: np.ndarray,
    hist: int,
    today: int,
) -> pa.Table:
    n = len(pid)
    base = np.select(
        [age < 5, age < 16, age < 45, age < 65, age < 75],
        [4.5, 1.8, np.where(male, 2.0, 4.0), np.where(male, 3.6, 4.8), 6.5],
        8.5,
    )
    rate = base * (1 + 0.3 * ltc) * np.exp(0.04 * n_deficits) * np.where(imd <= 2, 1.1, 1.0)
    start = np.maximum(reg_start, hist)
    stop = np.minimum(end_day, today)
    span = np.maximum(stop - start, 0)
    k = rng.poisson(rate * span / YEAR)
    rows = np.repeat(np.arange(n), k)
    days = np.repeat(start, k) + np.floor(rng.random(len(rows)) * np.repeat(span, k)).astype(
        np.int64
    )
    # weekends -> the Friday before (practices run weekday lists)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    days = days - np.where(weekday == 5, 1, np.where(weekday == 6, 2, 0))
    m = len(rows)
    roles = list(ROLE_MIX)
    w = np.array([ROLE_MIX[r] for r in roles])
    role_idx = rng.choice(len(roles), size=m, p=w / w.sum())
    # people with mental illness see the MH practitioner more; frail people the care coordinator
    mh = (has["smi"] | has["depression"])[rows] & (rng.random(m) < 0.08)
    role_idx = np.where(mh, roles.index("mental_health_practitioner"), role_idx)
    frail = (n_deficits[rows] >= 9) & (rng.random(m) < 0.08)
    role_idx = np.where(frail, roles.index("care_coordinator"), role_idx)
    home_bound = (care_home | housebound)[rows]
    modes = list(MODE_MIX)
    mw = np.array([MODE_MIX[x] for x in modes])
    mode_idx = rng.choice(len(modes), size=m, p=mw / mw.sum())
    mode_idx = np.where(home_bound & (rng.random(m) < 0.6), modes.index("home_visit"), mode_idx)
    mode_idx = np.where(
        ~home_bound & (mode_idx == modes.index("home_visit")) & (rng.random(m) < 0.8),
        modes.index("telephone"),
        mode_idx,
    )
    dna_p = np.where(age[rows] < 35, 0.06, 0.03) * np.where(imd[rows] <= 2, 1.4, 1.0)
    s = rng.random(m)
    status_idx = np.where(s < dna_p, 1, np.where(s < dna_p + 0.03, 2, 0))
    # continuity: each patient has a usual GP and a propensity to see them
    usual = staff.pick("gp", rng, n)
    propensity = np.clip(rng.beta(2, 3, n) + 0.04 * ltc + np.where(age >= 75, 0.1, 0), 0, 0.95)
    clin = np.zeros(m, dtype=np.int64)
    for r_i, role in enumerate(roles):
        sel = np.flatnonzero(role_idx == r_i)
        if not len(sel):
            continue
        if role == "gp":
            stay = rng.random(len(sel)) < propensity[rows[sel]]
            other = staff.pick("gp", rng, len(sel))
            clin[sel] = np.where(stay, usual[rows[sel]], other)
        else:
            clin[sel] = staff.pick(role, rng, len(sel))
    minute = 8 * 60 + rng.integers(0, 60, m) * 10  # 08:00 .. 17:50 in 10-minute slots
    ts = days * 86400 + minute.astype(np.int64) * 60
    order = np.lexsort((ts, rows))
    rows, ts = rows[order], ts[order]
    role_idx, mode_idx, status_idx, clin = (
        role_idx[order],
        mode_idx[order],
        status_idx[order],
        clin[order],
    )
    seq = np.arange(m) - np.repeat(
        np.cumsum(np.bincount(rows, minlength=n)) - np.bincount(rows, minlength=n),
        np.bincount(rows, minlength=n),
    )
    appt_id = pid[rows] * 1000 + seq
    if m and seq.max() >= 1000:
        raise RuntimeError("more than 1,000 appointments for one patient")
    statuses = ["attended", "did_not_attend", "cancelled"]
    return pa.table(
        {
            "appointment_id": pa.array(appt_id, pa.int64()),
            "patient_id": pa.array(pid[rows], pa.int64()),
            "practice_code": pa.array(np.full(m, plan.practice_code), pa.string()),
            "clinician_id": _strings(clin, staff.clinician_ids),
            "role": _strings(role_idx, roles),
            "mode": _strings(mode_idx, modes),
            "start_at": pa.array(ts, pa.int64()).cast(pa.timestamp("s")),
            "status": _strings(status_idx, statuses),
        }
    )


# --- hospital activity ---------------------------------------------------------------------------


def _hospital(
    rng: np.random.Generator,
    pid: np.ndarray,
    age: np.ndarray,
    imd: np.ndarray,
    ltc: np.ndarray,
    n_deficits: np.ndarray,
    has: dict[str, np.ndarray],
    care_home: np.ndarray,
    reg_start: np.ndarray,
    end_day: np.ndarray,
    hist: int,
    today: int,
) -> pa.Table:
    """A&E attendances and emergency admissions whose rates rise with age, frailty (eFI
    deficits), multimorbidity and deprivation; plus electives and outpatients."""
    n = len(pid)
    age_factor = np.select(
        [age < 5, age < 18, age < 65, age < 75, age < 85], [1.5, 0.7, 1.0, 1.4, 2.2], 3.2
    )
    drive = (
        age_factor
        * np.exp(0.075 * n_deficits)
        * (1.12**ltc)
        * (1.45 - 0.06 * (imd - 1))
        * np.where(care_home, 1.4, 1.0)
    )
    start = np.maximum(reg_start, hist)
    stop = np.minimum(end_day, today)
    span = np.maximum(stop - start, 0)
    parts = []
    for kind, base in (
        ("ae_attendance", 0.22),
        ("emergency_admission", 0.05),
        ("elective", 0.03),
        ("outpatient", 0.9),
    ):
        lam = (
            (drive if kind in ("ae_attendance", "emergency_admission") else np.sqrt(drive))
            * base
            * span
            / YEAR
        )
        k = rng.poisson(lam)
        rows = np.repeat(np.arange(n), k)
        days = np.repeat(start, k) + np.floor(rng.random(len(rows)) * np.repeat(span, k)).astype(
            np.int64
        )
        m = len(rows)
        if kind in ("ae_attendance", "emergency_admission"):
            # a condition-specific reason when the person has one, otherwise a general one
            reason = np.empty(m, dtype=object)
            general = [
                "pneumonia",
                "uti",
                "chest_pain",
                "syncope",
                "cellulitis",
                "abdominal_pain",
                "sepsis",
                "injury",
                "head_injury",
                "gastroenteritis",
            ]
            reason[:] = np.array(general, dtype=object)[rng.integers(0, len(general), m)]
            for cond in (
                "heart_failure",
                "copd",
                "asthma",
                "atrial_fibrillation",
                "chd",
                "stroke_tia",
                "diabetes",
                "dementia",
                "ckd",
            ):
                sel = has[cond][rows] & (rng.random(m) < 0.35)
                reason[sel] = cond
            fall = (n_deficits[rows] >= 9) & (rng.random(m) < 0.2)
            reason[fall] = "frailty_fall"
            codes = (
                np.array([cat.ICD10_EMERGENCY[r][0] for r in reason], dtype=object)
                if m
                else np.zeros(0, dtype=object)
            )
            if kind == "ae_attendance":
                los = np.zeros(m, dtype=np.int64)
            else:
                los = np.floor(rng.exponential(1 + 0.08 * np.maximum(age[rows] - 40, 0))).astype(
                    np.int64
                )
        elif kind == "elective":
            el = [c for c, _ in cat.ICD10_ELECTIVE]
            codes = np.array(el, dtype=object)[rng.integers(0, len(el), m)]
            los = rng.integers(0, 3, m)
        else:
            codes = np.full(m, None, dtype=object)
            los = np.zeros(m, dtype=np.int64)
        end = np.minimum(days + los, today)
        parts.append(
            pa.table(
                {
                    "patient_id": pa.array(pid[rows], pa.int64()),
                    "kind": pa.array(np.full(m, kind), pa.string()),
                    "start_date": _dates(days),
                    "end_date": _dates(end)
                    if kind != "outpatient"
                    else pa.array(
                        np.zeros(m, dtype="int32"), pa.int32(), mask=np.ones(m, dtype=bool)
                    ).cast(pa.date32()),
                    "icd10_code": pa.array(list(codes), pa.string()),
                }
            )
        )
    return pa.concat_tables(parts)


# --- eFI helpers -------------------------------------------------------------------------------


#: Published coverage the twin's process events are calibrated to (England):
#: - cervical screening: 65.8% of women aged 25-49 screened within 3.5 years and 74.4% of
#:   women aged 50-64 within 5.5 years (NHS England, Cervical Screening Programme, England
#:   2022-23, table "coverage by age");
#: - asthma review in 12 months: ~60% of the register (QOF 2022-23 AST007 underlying
#:   achievement, NHS England QOF 2022-23);
#: - dementia care-plan review in 12 months: ~63% (QOF 2022-23 DEM004 underlying achievement);
#: - diabetic foot check in 12 months: ~75% (National Diabetes Audit 2021-22 care processes,
#:   foot surveillance);
#: - alcohol consumption recorded in 12 months for people with SMI: ~70% (NHS England physical
#:   health checks for people with SMI, 2022-23 component uptake); ~40% of other adults have a
#:   recording in the last 5 years (Health Survey for England / NHS Health Check coverage);
#: - SMI physical health check, all six parts in 12 months: ~55% of the SMI register (NHS
#:   England, Physical health checks for people with severe mental illness, 2023-24 quarterly
#:   figures, 50-60%).
PROCESS_RATES = {
    "cervical_25_49": 0.658,
    "cervical_50_64": 0.744,
    "asthma_review": 0.60,
    "dementia_review": 0.63,
    "foot_check": 0.75,
    "alcohol_smi": 0.70,
    "alcohol_adult_5y": 0.40,
    "smi_full_check": 0.55,
}
PRACTICE_EFFECT_SD = 0.35


def _logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def _process_events(pid: np.ndarray, age: np.ndarray, dob: np.ndarray, male: np.ndarray,
                    has: dict[str, np.ndarray], imd: np.ndarray, smoking: np.ndarray,
                    today: int, ctx: Context,
                    chunk: Chunk, ev: Events) -> None:
    obs = cat.observations()
    rng = np.random.default_rng([ctx.seed, chunk.chunk_id, 104729])
    # one effect per practice (same in every chunk of the practice)
    practice_rng = np.random.default_rng([ctx.seed, chunk.practice_index, 271])
    effect = practice_rng.normal(0.0, PRACTICE_EFFECT_SD)
    n = len(pid)
    deprivation = 0.06 * (np.minimum(imd, 10) - 5.5)  # lower uptake where more deprived

    def p_of(rate: float) -> np.ndarray:
        return 1 / (1 + np.exp(-(_logit(rate) + effect + deprivation)))

    born = dob + 1  # nothing is recorded before birth (the people chosen are old enough)

    def recent(who: np.ndarray, months: float) -> np.ndarray:
        day = today - np.floor(rng.random(len(who)) * months * YEAR / 12).astype(np.int64) - 1
        return np.minimum(np.maximum(day, born[who]), today - 1)

    def older(who: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
        span = (lo + rng.random(len(who)) * (hi - lo)) * YEAR / 12
        day = today - np.floor(span).astype(np.int64)
        keep = day >= born[who]
        return who[keep], day[keep]

    # cervical screening (women 25-64): screened within the interval, else an older test
    for lo, hi, key, months in ((25, 49, "cervical_25_49", 42), (50, 64, "cervical_50_64", 66)):
        women = ~male & (age >= lo) & (age <= hi)
        u = rng.random(n)
        who = np.flatnonzero(women & (u < p_of(PROCESS_RATES[key])))
        ev.add(pid[who], recent(who, months), obs.cervical_screen)
        lapsed = np.flatnonzero(women & (u >= p_of(PROCESS_RATES[key])) & (rng.random(n) < 0.6))
        lapsed, day = older(lapsed, months, months + 24)
        ev.add(pid[lapsed], day, obs.cervical_screen)
    for condition, key, codes in (("asthma", "asthma_review", obs.asthma_review),
                                  ("dementia", "dementia_review", obs.dementia_review),
                                  ("diabetes", "foot_check", (obs.foot_check,))):
        u = rng.random(n)
        on = has[condition]
        who = np.flatnonzero(on & (u < p_of(PROCESS_RATES[key])))
        ev.add(pid[who], recent(who, 12), rng.integers(0, len(codes), len(who)), choices=codes)
        lapsed = np.flatnonzero(on & (u >= p_of(PROCESS_RATES[key])) & (rng.random(n) < 0.7))
        lapsed, day = older(lapsed, 12, 36)
        ev.add(pid[lapsed], day, rng.integers(0, len(codes), len(lapsed)), choices=codes)
    adults = age >= 18
    smi = has["smi"] & adults
    # the SMI annual physical health check: all six parts recorded on one day
    who = np.flatnonzero(smi & (rng.random(n) < p_of(PROCESS_RATES["smi_full_check"])))
    day = recent(who, 12)
    k = len(who)
    ev.add(pid[who], day, obs.sbp[0], value=np.round(np.clip(rng.normal(128, 14, k), 90, 200)))
    ev.add(pid[who], day, obs.dbp[0], value=np.round(np.clip(rng.normal(80, 9, k), 50, 120)))
    ev.add(pid[who], day, obs.bmi, value=np.round(np.clip(rng.normal(30, 6, k), 16, 60), 1))
    ev.add(pid[who], day, obs.cholesterol, value=np.round(np.clip(rng.normal(5.1, 1.0, k),
                                                                    2.5, 9.0), 1))
    ev.add(pid[who], day, obs.hdl, value=np.round(np.clip(rng.normal(1.3, 0.35, k), 0.6, 2.8),
                                                  1))
    hba1c = np.where(has["diabetes"][who], rng.normal(58, 12, k), rng.normal(38, 4, k))
    ev.add(pid[who], day, obs.hba1c, value=np.round(np.clip(hba1c, 25, 130)))
    for st, code in ((0, obs.never_smoked), (2, obs.ex_smoker), (1, obs.smoker[0])):
        sel = smoking[who] == st
        ev.add(pid[who[sel]], day[sel], code)
    ev.add(pid[who], day, rng.integers(0, 2, k), choices=obs.alcohol)
    who = np.flatnonzero(smi & (rng.random(n) < p_of(PROCESS_RATES["alcohol_smi"])))
    ev.add(pid[who], recent(who, 12), rng.integers(0, 2, len(who)), choices=obs.alcohol)
    who = np.flatnonzero(adults & ~smi & (rng.random(n) < PROCESS_RATES["alcohol_adult_5y"]))
    ev.add(pid[who], recent(who, 60), rng.integers(0, 2, len(who)), choices=obs.alcohol)


def _type1_codes() -> tuple[str, str]:
    from pcn.ingest.optouts import type1_definition

    d = type1_definition()
    return next(iter(d.dissent)), next(iter(d.withdrawn))


def _efi_deficits() -> list[str]:
    import csv
    from importlib import resources

    with (resources.files("pcn.refdata") / "data" / "efi_deficits.csv").open() as f:
        return [r["deficit_id"] for r in csv.DictReader(f)]


def _linked_deficits() -> dict[str, tuple[str, ...]]:
    """eFI deficits that are the same thing as a register condition (coded by its diagnosis)."""
    return {
        "hypertension": ("hypertension",),
        "diabetes": ("diabetes",),
        "chd": ("chd",),
        "stroke-tia": ("stroke_tia",),
        "atrial-fibrillation": ("atrial_fibrillation",),
        "heart-failure": ("heart_failure",),
        "ckd": ("ckd",),
        "osteoporosis": ("osteoporosis",),
        "pvd": ("pad",),
        "respiratory-disease": ("asthma", "copd"),
        "cognitive-problems": ("dementia",),
    }


_DEFICIT_CODES: dict[str, tuple[str, ...]] = {}


def _deficit_codes(deficit_id: str) -> tuple[str, ...]:
    if deficit_id not in _DEFICIT_CODES:
        # Deficit codes that are also register diagnoses (e.g. rheumatoid arthritis under the
        # eFI "arthritis" deficit) would put people on registers; those come from conditions.
        from pcn.synth.report import REGISTER_CODES

        register_codes: set[str] = set()
        for lists, resolved, _ in REGISTER_CODES.values():
            for cl_id in (*lists, *((resolved,) if resolved else ())):
                register_codes |= codelist(cl_id).codes
        try:
            cl = codelist(f"efi-{deficit_id}")
            _DEFICIT_CODES[deficit_id] = tuple(sorted(cl.codes - register_codes))
        except LookupError:
            _DEFICIT_CODES[deficit_id] = ()
    return _DEFICIT_CODES[deficit_id]
