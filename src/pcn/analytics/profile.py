"""The patient profile: one row per patient registered on the index date.

The profile is assembled by an ordered list of **profile column providers**. Each provider
declares the columns (and Arrow types) it adds and a ``build`` function that takes the profile so
far (an Ibis table) and returns it with those columns added, so a provider may use columns from
earlier ones (a risk score reads ``age``, ``sex`` and ``reg_*``). Later features (eFI, QRISK3,
segments, flags) plug in with ``add_profile_provider`` without touching this module's callers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from pcn.analytics import primitives as p
from pcn.analytics.engine import Engine
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
        codes: set[str] = set(extra)
        for cid in codelist_ids:
            codes |= codelist(cid).codes
        return self.engine.code_table(codes)

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

    def restrict(self, table: ir.Table, reused: bool = True) -> ir.Table:
        """``table`` (with ``patient_id``) for the profile's patients, as per-patient features
        read it.

        Spark keeps a cached copy of the population's rows when ``reused`` (it would run a job
        per re-read). On
        DuckDB the rows are not filtered here at all: the profile left-joins every feature onto
        the population anyway, and probing the population for each of the profile's ~20 scans
        cost more (a hash probe per event row) than aggregating the few events of patients who
        have left or died; DuckDB re-reads Parquet cheaply, and a materialised copy cost 1.5x
        the peak memory for no CPU gain at 500k patients.
        """
        if self.engine.kind == "spark":
            rows = table.semi_join(self.population, "patient_id")
            return self.engine.cache(rows) if reused else rows
        if self.sample is not None and self.sample < 1:
            return table.semi_join(self.population, "patient_id")  # a small share: worth it
        return table


@dataclass(frozen=True)
class ProfileProvider:
    """Adds a group of columns to the patient profile."""

    name: str
    columns: Callable[[RunContext], dict[str, pa.DataType]]
    build: Callable[[RunContext, ir.Table], ir.Table]


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


def _demographics(ctx: RunContext, profile: ir.Table) -> ir.Table:
    patients = ctx.table("patients")
    profile = p.attach(profile, p.age_at(patients, ctx.index_date))
    profile = profile.mutate(age_band=p.age_band(profile.age))
    profile = p.attach(profile, p.sex(patients))
    eth = _ethnicity_lookup(ctx)
    pe = patients.select("patient_id", "ethnicity_code")
    pe = pe.join(eth, pe.ethnicity_code == eth._eth_code).select(
        "patient_id", ethnicity_6=eth.label_6
    )
    profile = p.attach(profile, pe)
    return p.attach(profile, p.deprivation(patients, ctx.table("lsoa")))


def _register_code_tags(ctx: RunContext) -> ir.Table:
    """The code → tag map of every register: ``<id>:dx`` diagnosis codes (with the earliest date
    they count from) and ``<id>:res`` resolved codes."""
    codes: list[str] = []
    tags: list[str] = []
    starts: list[dt.date | None] = []
    for r in ctx.registers:
        start = r.diagnosed_from
        if r.lookback_months is not None:
            lookback = p.window_start(ctx.index_date, r.lookback_months)
            start = lookback if start is None else max(start, lookback)
        for code in sorted(r.codes()):
            codes.append(code)
            tags.append(f"{r.id}:dx")
            starts.append(start)
        for code in sorted(r.resolved_codes()):
            codes.append(code)
            tags.append(f"{r.id}:res")
            starts.append(None)
    data = pa.table({"code": pa.array(codes, pa.string()), "tag": pa.array(tags, pa.string()),
                     "start_date": pa.array(starts, pa.date32())})
    return ctx.engine.arrow_table(data)


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


def _register_columns(ctx: RunContext) -> dict[str, pa.DataType]:
    cols = {f"reg_{r.id}": pa.bool_() for r in ctx.registers}
    cols["ltc_count"] = pa.int64()
    return cols


def _registers(ctx: RunContext, profile: ir.Table) -> ir.Table:
    """Every register in one pass over the events (``primitives.latest_dates_by_tag``), then
    per register: active diagnosis, or a qualifying observation; age/sex conditions; and not on
    a register it excludes (registers come in dependency order)."""
    regs = list(ctx.registers)
    if not regs:
        return profile.mutate(ltc_count=ibis.literal(0).cast("int64"))
    idx = ctx.index_date
    long = p.latest_dates_by_tag(ctx.events, _register_code_tags(ctx), end=idx)
    tags = [f"{r.id}:dx" for r in regs] + [f"{r.id}:res" for r in regs if r.resolved_codelists]
    dates = p.pivot_tags(long, tags)
    t = p.attach(profile, dates.rename({f"_d_{i}": tag for i, tag in enumerate(tags)}))
    names = {tag: f"_d_{i}" for i, tag in enumerate(tags)}
    for r in regs:
        vc = r.value_criterion
        if vc is not None:
            value = p.latest_value(ctx.events, ctx.codes(vc.codelist), end=idx,
                                   start=p.window_start(idx, vc.lookback_months),
                                   name=f"_v_{r.id}")
            t = p.attach(t, value.select("patient_id", f"_v_{r.id}"))
    flags: dict[str, ir.BooleanValue] = {}
    for r in regs:
        resolved = t[names[f"{r.id}:res"]] if r.resolved_codelists else None
        on = p.is_active(t[names[f"{r.id}:dx"]], resolved)
        vc = r.value_criterion
        if vc is not None:
            v = t[f"_v_{r.id}"]
            ok = v.notnull()
            if vc.min_value is not None:
                ok &= v >= vc.min_value
            if vc.max_value is not None:
                ok &= v <= vc.max_value
            on |= ok
        on &= eligibility(r, t)
        for other in r.excluding_registers:
            on &= ~flags[other]
        flags[r.id] = on.fill_null(False)
    t = t.mutate(**{f"reg_{r.id}": flags[r.id] for r in regs})
    ltc = [t[f"reg_{r.id}"].ifelse(1, 0) for r in regs if r.long_term_condition]
    total = sum(ltc[1:], ltc[0]) if ltc else ibis.literal(0)
    t = t.mutate(ltc_count=total.cast("int64"))
    return t.select(*profile.columns, *[f"reg_{r.id}" for r in regs], "ltc_count")


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


def _observations(ctx: RunContext, profile: ir.Table) -> ir.Table:
    idx = ctx.index_date
    # One pass over the events picks out every code used below; each observation then scans
    # only that small subset.
    ev = ctx.engine.cache(p.events_in(ctx.events, ctx.codes(
        SBP_CODELIST, DBP_CODELIST, BMI_CODELIST, CURRENT_SMOKER_CODELIST, EX_SMOKER_CODELIST,
        extra=[NEVER_SMOKED_CODE])))
    # QOF takes the lowest reading of the latest day for blood pressure.
    profile = p.attach(profile, p.latest_value(ev, ctx.codes(SBP_CODELIST), end=idx,
                                               prefer="lowest", name="sbp"))
    profile = p.attach(profile, p.latest_value(ev, ctx.codes(DBP_CODELIST), end=idx,
                                               prefer="lowest", name="dbp"))
    profile = p.attach(profile, p.latest_value(ev, ctx.codes(BMI_CODELIST), end=idx,
                                               name="bmi"))
    smoking = {
        "current": ctx.codes(CURRENT_SMOKER_CODELIST),
        "ex": ctx.codes(EX_SMOKER_CODELIST),
        "never": ctx.codes(extra=[NEVER_SMOKED_CODE]),
    }
    return p.attach(profile, p.latest_category(ev, smoking, end=idx, name="smoking_status"))


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


def build_profile(ctx: RunContext, providers: Sequence[ProfileProvider] | None = None) -> ir.Table:
    """The patient-profile expression (not yet executed), ordered by patient id."""
    profile = ctx.population
    for provider in providers if providers is not None else PROFILE_PROVIDERS:
        profile = provider.build(ctx, profile)
    return profile.order_by("patient_id")
