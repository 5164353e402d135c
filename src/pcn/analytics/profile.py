"""The patient profile: one row per patient registered on the index date.

The profile is assembled by an ordered list of **profile column providers**. Each provider
declares the columns (and Arrow types) it adds, and a ``plan`` function that states what it needs
from the record on the shared ``ProfilePlan`` (latest dates and values of code sets, medicines
issued in a window, small per-patient queries) and returns the function that computes its
columns from the answers. Every provider's requests are answered together, in one pass over the
events and one over the medications (``pcn.analytics.plan``; ADR 0012), and a provider may read
the columns of earlier ones (registers read ``age`` and ``sex``). Later features (eFI, QRISK3
inputs, flags) plug in with ``add_profile_provider`` without touching this module's callers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from pcn.analytics import primitives as p
from pcn.analytics.engine import Engine
from pcn.analytics.plan import ColumnValues, ProfileData, ProfilePlan, latest_category, to_arrow
from pcn.analytics.registers import Register, default_registers
from pcn.refdata import codelist
from pcn.refdata.codelists import codelist_frame

SBP_CODELIST = "opensafely-systolic-blood-pressure-qof"
DBP_CODELIST = "user-milanwiedemann-diastolic-blood-pressure-qof"
BMI_CODELIST = "primis-covid19-vacc-uptake-bmi"
ETHNICITY_CODELIST = "opensafely-ethnicity-snomed-0removed"
CURRENT_SMOKER_CODELIST = "nhsd-primary-care-domain-refsets-lsmok_cod"
EX_SMOKER_CODELIST = "nhsd-primary-care-domain-refsets-exsmok_cod"
#: SNOMED CT 266919005 |Never smoked tobacco (finding)|.
NEVER_SMOKED_CODE = "266919005"


@dataclass
class RunContext:
    """What every provider and output may use: the engine, the date, the definitions."""

    engine: Engine
    index_date: dt.date
    registers: Sequence[Register] = field(default_factory=default_registers)
    #: Keep only about this share of the registered population (``None``: everyone). The
    #: admission model's training profiles use it so that their cost stops growing with the list.
    sample: float | None = None

    def table(self, name: str) -> ir.Table:
        return self.engine.table(name)

    def codes(self, *codelist_ids: str, extra: Iterable[str] = ()) -> ir.Table:
        """The union of codelists (plus ``extra`` codes) as an engine code table."""
        return self.engine.code_table(code_set(*codelist_ids, extra=extra))

    @cached_property
    def population(self) -> ir.Table:
        """``patient_id, practice_code`` of everyone registered on the index date."""
        population = p.registered_population(self.table("patients"), self.table("registrations"),
                                             self.index_date)
        if self.sample is not None and self.sample < 1:
            population = p.sample_patients(population, self.sample)
        return self.engine.cache(population)

    @cached_property
    def events(self) -> ir.Table:
        """Clinical events of the population on or before the index date (read once, reused by
        every register and observation)."""
        ev = self.table("clinical_events")
        return self.restrict(ev.filter(ev.date <= self.index_date))

    @cached_property
    def medications(self) -> ir.Table:
        """Medication issues of the population on or before the index date."""
        meds = self.table("medications")
        return self.restrict(meds.filter(meds.date <= self.index_date))

    def restrict(self, table: ir.Table, reused: bool = True) -> ir.Table:
        """``table`` (with ``patient_id``) for the profile's patients, as per-patient features
        read it.

        Spark keeps a cached copy of the population's rows when ``reused`` (it would run a job
        per re-read). On
        DuckDB the rows are not filtered here at all: the profile aligns every answer to the
        population anyway, and a hash probe per event row costs more than aggregating the few
        events of patients who have left or died; a materialised copy cost 1.5x the peak
        memory for no CPU gain at 500k patients.
        """
        if self.engine.kind == "spark":
            rows = table.semi_join(self.population, "patient_id")
            return self.engine.cache(rows) if reused else rows
        if self.sample is not None and self.sample < 1:
            return table.semi_join(self.population, "patient_id")  # a small share: worth it
        return table


#: What a provider's ``plan`` returns: computes its columns from the answers.
Finish = Callable[[ProfileData], Mapping[str, ColumnValues]]


@dataclass(frozen=True)
class ProfileProvider:
    """Adds a group of columns to the patient profile."""

    name: str
    columns: Callable[[RunContext], dict[str, pa.DataType]]
    plan: Callable[[RunContext, ProfilePlan], Finish]


def code_set(*codelist_ids: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The union of codelists, plus ``extra`` codes."""
    codes: set[str] = set(extra)
    for cid in codelist_ids:
        codes |= codelist(cid).codes
    return frozenset(codes)


# --- the built-in providers --------------------------------------------------------------------


def _demographic_columns(ctx: RunContext) -> dict[str, pa.DataType]:
    return {
        "patient_id": pa.int64(),
        "practice_code": pa.string(),
        "age": pa.int64(),
        "age_band": pa.string(),
        "sex": pa.string(),
        "ethnicity_6": pa.string(),
        "lsoa_code": pa.string(),
        "imd_decile": pa.int64(),
        "imd_quintile": pa.int64(),
        "rural_urban": pa.string(),
    }


def _ethnicity_lookup(ctx: RunContext) -> ir.Table:
    frame = codelist_frame(ETHNICITY_CODELIST)[["code", "label_6"]].drop_duplicates("code")
    data = pa.table({"_eth_code": pa.array(frame["code"].tolist(), pa.string()),
                     "label_6": pa.array(frame["label_6"].tolist(), pa.string())})
    return ctx.engine.arrow_table(data)


def age_bands(age: np.ndarray, edges: Sequence[int] = p.AGE_BAND_EDGES) -> np.ndarray:
    """``primitives.age_band`` over a numpy array of ages (NaN: unknown → None)."""
    labels = np.asarray(p.age_band_labels(edges), dtype=object)
    age = np.asarray(age, dtype=np.float64)
    known = ~np.isnan(age) & (age >= edges[0])
    band = np.searchsorted(np.asarray(edges, dtype=np.float64), np.where(known, age, edges[0]),
                           side="right") - 1
    out = np.full(len(age), None, dtype=object)
    out[known] = labels[band[known]]
    return out


def _demographics(ctx: RunContext, plan: ProfilePlan) -> Finish:
    patients = ctx.table("patients")
    age = plan.per_patient(p.age_at(patients, ctx.index_date))
    sex = plan.per_patient(p.sex(patients))
    eth = _ethnicity_lookup(ctx)
    pe = patients.select("patient_id", "ethnicity_code")
    ethnicity = plan.per_patient(pe.join(eth, pe.ethnicity_code == eth._eth_code).select(
        "patient_id", ethnicity_6=eth.label_6))
    place = plan.per_patient(p.deprivation(patients, ctx.table("lsoa")))

    def finish(data: ProfileData) -> dict[str, ColumnValues]:
        cols: dict[str, ColumnValues] = {
            "patient_id": data.columns["patient_id"],
            "practice_code": data.columns["practice_code"],
            **data.query(age),
            **data.query(sex),
            **data.query(ethnicity),
            **data.query(place),
        }
        cols["age_band"] = age_bands(np.asarray(data.query(age)["age"].to_numpy()))
        return cols

    return finish


def eligibility(register: Register, table: ir.Table) -> ir.BooleanValue:
    """Rows of ``table`` (with ``age`` and ``sex``) meeting the register's age/sex conditions:
    the QOF prevalence denominator for that register."""
    cond: ir.BooleanValue = table.patient_id.notnull()  # a column, so it can be summed
    if register.min_age is not None:
        cond &= table.age >= register.min_age
    if register.max_age is not None:
        cond &= table.age <= register.max_age
    if register.sex is not None:
        cond &= table.sex == register.sex
    return cond


def eligible(register: Register, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """``eligibility`` over numpy columns (an unknown age or sex meets no condition on it)."""
    age = np.asarray(age, dtype=np.float64)
    ok = np.ones(len(age), dtype=bool)
    if register.min_age is not None:
        ok &= age >= register.min_age
    if register.max_age is not None:
        ok &= age <= register.max_age
    if register.sex is not None:
        ok &= sex == register.sex
    return ok


def _register_columns(ctx: RunContext) -> dict[str, pa.DataType]:
    cols = {f"reg_{r.id}": pa.bool_() for r in ctx.registers}
    cols["ltc_count"] = pa.int64()
    return cols


def _registers(ctx: RunContext, plan: ProfilePlan) -> Finish:
    """Per register: an active diagnosis (the latest not ended by a resolved code on or after
    it), or a qualifying observation; its age/sex conditions; and not on a register it excludes
    (registers come in dependency order)."""
    regs = list(ctx.registers)
    idx = ctx.index_date
    diagnosis = {}
    resolved = {}
    value = {}
    for r in regs:
        start = r.diagnosed_from
        if r.lookback_months is not None:
            lookback = p.window_start(idx, r.lookback_months)
            start = lookback if start is None else max(start, lookback)
        diagnosis[r.id] = plan.latest_date(r.codes(), start=start)
        if r.resolved_codelists:
            resolved[r.id] = plan.latest_date(r.resolved_codes())
        vc = r.value_criterion
        if vc is not None:
            value[r.id] = plan.latest_value(codelist(vc.codelist).codes,
                                            start=p.window_start(idx, vc.lookback_months))

    def finish(data: ProfileData) -> dict[str, ColumnValues]:
        age, sex = data.numpy("age"), data.numpy("sex")
        flags: dict[str, np.ndarray] = {}
        for r in regs:
            dx = data.date(diagnosis[r.id])
            on = ~np.isnat(dx)
            if r.id in resolved:
                res = data.date(resolved[r.id])
                on &= np.isnat(res) | (res < dx)
            vc = r.value_criterion
            if vc is not None:
                v = data.value(value[r.id])
                ok = ~np.isnan(v)
                if vc.min_value is not None:
                    ok &= v >= vc.min_value
                if vc.max_value is not None:
                    ok &= v <= vc.max_value
                on |= ok
            on &= eligible(r, age, sex)
            for other in r.excluding_registers:
                on &= ~flags[other]
            flags[r.id] = on
        ltc = np.zeros(data.n, dtype=np.int64)
        for r in regs:
            if r.long_term_condition:
                ltc += flags[r.id]
        return {**{f"reg_{r.id}": flags[r.id] for r in regs}, "ltc_count": ltc}

    return finish


def _observation_columns(ctx: RunContext) -> dict[str, pa.DataType]:
    return {
        "sbp": pa.float64(),
        "sbp_date": pa.date32(),
        "dbp": pa.float64(),
        "dbp_date": pa.date32(),
        "bmi": pa.float64(),
        "bmi_date": pa.date32(),
        "smoking_status": pa.string(),
        "smoking_status_date": pa.date32(),
    }


#: Smoking status categories in priority order: on the same date the first listed wins.
SMOKING_CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "current": ((CURRENT_SMOKER_CODELIST,), ()),
    "ex": ((EX_SMOKER_CODELIST,), ()),
    "never": ((), (NEVER_SMOKED_CODE,)),
}


def _observations(ctx: RunContext, plan: ProfilePlan) -> Finish:
    # QOF takes the lowest reading of the latest day for blood pressure.
    sbp = plan.latest_value(code_set(SBP_CODELIST), prefer="lowest")
    dbp = plan.latest_value(code_set(DBP_CODELIST), prefer="lowest")
    bmi = plan.latest_value(code_set(BMI_CODELIST))
    smoking = [plan.latest_date(code_set(*lists, extra=extra))
               for lists, extra in SMOKING_CATEGORIES.values()]

    def finish(data: ProfileData) -> dict[str, ColumnValues]:
        status, status_date = latest_category([data.date(t) for t in smoking],
                                              SMOKING_CATEGORIES)
        return {
            "sbp": data.value(sbp), "sbp_date": data.date(sbp),
            "dbp": data.value(dbp), "dbp_date": data.date(dbp),
            "bmi": data.value(bmi), "bmi_date": data.date(bmi),
            "smoking_status": status, "smoking_status_date": status_date,
        }

    return finish


PROFILE_PROVIDERS: list[ProfileProvider] = [
    ProfileProvider("demographics", _demographic_columns, _demographics),
    ProfileProvider("registers", _register_columns, _registers),
    ProfileProvider("observations", _observation_columns, _observations),
]


def add_profile_provider(provider: ProfileProvider, after: str | None = None) -> None:
    """Add (or replace, by name) a provider; it runs after ``after`` or at the end."""
    existing = [i for i, q in enumerate(PROFILE_PROVIDERS) if q.name == provider.name]
    if existing:
        PROFILE_PROVIDERS[existing[0]] = provider
        return
    if after is None:
        PROFILE_PROVIDERS.append(provider)
        return
    names = [q.name for q in PROFILE_PROVIDERS]
    if after not in names:
        raise ValueError(f"no profile provider {after!r}; providers are {', '.join(names)}")
    PROFILE_PROVIDERS.insert(names.index(after) + 1, provider)


def profile_schema(
    ctx: RunContext, providers: Sequence[ProfileProvider] | None = None
) -> pa.Schema:
    fields: dict[str, pa.DataType] = {}
    for provider in providers if providers is not None else PROFILE_PROVIDERS:
        for name, typ in provider.columns(ctx).items():
            if name in fields:
                raise ValueError(f"profile column {name!r} declared twice ({provider.name})")
            fields[name] = typ
    return pa.schema(list(fields.items()))


def compute_profile(
    ctx: RunContext, providers: Sequence[ProfileProvider] | None = None
) -> pa.Table:
    """The patient profile, one row per registered patient ordered by patient id, with the
    columns of ``profile_schema`` (every provider by default)."""
    chosen = list(providers if providers is not None else PROFILE_PROVIDERS)
    schema = profile_schema(ctx, chosen)
    plan = ProfilePlan(ctx)
    finishers = [(provider, provider.plan(ctx, plan)) for provider in chosen]
    population = ctx.engine.to_arrow(ctx.population.select("patient_id", "practice_code"))
    population = population.sort_by("patient_id")
    data = plan.execute(population)
    for provider, finish in finishers:
        declared = provider.columns(ctx)
        produced = finish(data)
        if set(produced) != set(declared):
            missing = sorted(set(declared) - set(produced))
            extra = sorted(set(produced) - set(declared))
            raise ValueError(f"profile provider {provider.name!r}: missing {missing}, "
                             f"undeclared {extra}")
        for name, values in produced.items():
            column = to_arrow(values, declared[name])
            if len(column) != data.n:
                raise ValueError(f"profile provider {provider.name!r}: column {name!r} has "
                                 f"{len(column)} rows for {data.n} patients")
            data.columns[name] = (column if isinstance(column, pa.ChunkedArray)
                                  else pa.chunked_array([column], declared[name]))
    return pa.table([data.columns[f.name] for f in schema], schema=schema)
