"""Analytics primitives, written once as Ibis expressions over the network record tables.

Conventions (each chosen so DuckDB and Spark agree exactly; see DESIGN.md "Engine"):

* Dates are Python ``datetime.date`` values; any date arithmetic (windows, look-backs) is done in
  Python before it reaches an engine, never with engine intervals.
* Windows are inclusive at both ends: ``start <= date <= end``; ``None`` leaves a side open.
* Ages are whole years computed from year, month and day.
* "Latest" picks one row by a full ordering: date, then value, then code, so ties break the same
  way everywhere. Where one row per patient is wanted it is the ``max`` of a struct of those keys
  (a hash aggregate: several times cheaper than a sorted ``row_number`` window, and it orders
  structs field by field on both engines); the sort keys are never null there, because DuckDB and
  Spark order null struct fields differently. ``row_number`` remains where the last *k* rows are
  needed.
* A patient-level primitive returns one row per patient who has something (``patient_id`` plus
  named columns); ``attach`` left-joins such results onto a population and fills the gaps.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, TypeAlias

import ibis
import ibis.expr.types as ir
import numpy as np

#: Two-sided 95% normal quantile, used by the Wilson interval.
Z95 = 1.959963984540054

#: Default age bands (lower edges); the last band is open ("85+").
AGE_BAND_EDGES: tuple[int, ...] = (0, 5, 18, 40, 65, 75, 85)


# --- dates -------------------------------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def window_start(index_date: dt.date, months: int) -> dt.date:
    """First day of the ``months``-month window ending on (and including) ``index_date``."""
    return months_before(index_date, months) + dt.timedelta(days=1)


# --- population and demographics ---------------------------------------------------------------


def registered_population(
    patients: ir.Table, registrations: ir.Table, on: dt.date
) -> ir.Table:
    """Patients alive and registered on ``on``, with the practice (``patient_id, practice_code``).

    Registered means ``start_date <= on`` and ``end_date`` null or ``>= on``; alive means no date
    of death on or before ``on``. A patient with overlapping registrations counts once, at the
    practice with the latest start (then the highest practice code).
    """
    r = registrations
    current = r.filter((r.start_date <= on) & (r.end_date.isnull() | (r.end_date >= on))
                       & r.start_date.notnull() & r.practice_code.notnull())
    key = ibis.struct({"s": current.start_date, "p": current.practice_code})
    current = current.group_by("patient_id").agg(_k=key.max())
    current = current.select("patient_id", practice_code=current._k["p"])
    alive = patients.filter(
        patients.date_of_death.isnull() | (patients.date_of_death > on)
    ).select("patient_id")
    return current.join(alive, "patient_id").select("patient_id", "practice_code")


#: Multiplier and modulus of the patient sample hash (Knuth's multiplicative constant; a prime
#: modulus). Integer arithmetic, so both engines keep exactly the same patients.
_SAMPLE_MULTIPLIER = 2_654_435_761
_SAMPLE_MODULUS = 1_000_003


def sample_patients(table: ir.Table, share: float) -> ir.Table:
    """A deterministic pseudo-random ``share`` (0–1) of the rows of ``table``, chosen by a hash of
    ``patient_id``: the same patients on every engine and every run."""
    if not 0 <= share <= 1:
        raise ValueError("share must be between 0 and 1")
    threshold = round(share * _SAMPLE_MODULUS)
    bucket = (table.patient_id.cast("int64") * _SAMPLE_MULTIPLIER) % _SAMPLE_MODULUS
    return table.filter(bucket < threshold)


def age_at(patients: ir.Table, on: dt.date, name: str = "age") -> ir.Table:
    """Age in whole years on ``on`` (``patient_id, age``), from year, month and day of birth."""
    dob = patients.date_of_birth
    birthday_to_come = (dob.month() > on.month) | (
        (dob.month() == on.month) & (dob.day() > on.day)
    )
    age = (ibis.literal(on.year) - dob.year()) - birthday_to_come.ifelse(1, 0)
    return patients.select("patient_id", **{name: age.cast("int64")})


def age_band(age: ir.IntegerValue, edges: Sequence[int] = AGE_BAND_EDGES) -> ir.StringValue:
    """Label an age with its band: edges (0, 5, 18) give '0-4', '5-17', '18+'."""
    if list(edges) != sorted(set(edges)) or not edges:
        raise ValueError("age band edges must be strictly increasing")
    branches = []
    for lo, hi in zip(edges, [*edges[1:], None], strict=True):
        if hi is None:
            branches.append((age >= lo, f"{lo}+"))
        else:
            branches.append(((age >= lo) & (age < hi), f"{lo}-{hi - 1}"))
    return ibis.cases(*branches, else_=ibis.null("string"))


def age_band_labels(edges: Sequence[int] = AGE_BAND_EDGES) -> list[str]:
    return [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(edges)] + [f"{edges[-1]}+"]


def sex(patients: ir.Table) -> ir.Table:
    """Recorded sex (``patient_id, sex``: 'F' or 'M')."""
    return patients.select("patient_id", "sex")


def deprivation(patients: ir.Table, lsoa: ir.Table) -> ir.Table:
    """Where a patient lives: ``patient_id, lsoa_code, imd_decile, imd_quintile, rural_urban``.

    IMD 2019 national decile (1 = most deprived) of the patient's LSOA; quintile 1 holds deciles
    1-2. Patients without a known LSOA get nulls.
    """
    p = patients.select("patient_id", "lsoa_code")
    ref = lsoa.select(
        _lsoa=lsoa.lsoa_code, imd_decile=lsoa.imd_decile.cast("int64"), rural_urban=lsoa.rural_urban
    )
    j = p.left_join(ref, p.lsoa_code == ref._lsoa)
    return j.select(
        "patient_id",
        "lsoa_code",
        "imd_decile",
        imd_quintile=((j.imd_decile + 1) // 2).cast("int64"),
        rural_urban=j.rural_urban,
    )


# --- coded events ------------------------------------------------------------------------------


Codes: TypeAlias = Iterable[str] | ir.Table
"""A code set: Python strings, or a one-column table ``code`` (see ``Engine.code_table``)."""


def events_in(
    events: ir.Table,
    codes: Codes,
    start: dt.date | None = None,
    end: dt.date | None = None,
    code_column: str = "snomed_code",
) -> ir.Table:
    """Rows whose code is in ``codes`` and whose date lies in ``[start, end]``."""
    if isinstance(codes, ir.Table):
        events = events.semi_join(codes, events[code_column] == codes.code)
        cond = ibis.literal(True)
    else:
        values = sorted(set(codes))
        cond = events[code_column].isin(values) if values else ibis.literal(False)
    if start is not None:
        cond &= events.date >= start
    if end is not None:
        cond &= events.date <= end
    return events.filter(cond)


def has_code(
    events: ir.Table,
    codes: Codes,
    start: dt.date | None = None,
    end: dt.date | None = None,
    name: str = "has_code",
) -> ir.Table:
    """Patients with any code from ``codes`` in the window (``patient_id, <name>=True``)."""
    hits = events_in(events, codes, start, end)
    return hits.select("patient_id").distinct().mutate(**{name: ibis.literal(True)})


def first_date(
    events: ir.Table,
    codes: Codes,
    start: dt.date | None = None,
    end: dt.date | None = None,
    name: str = "first_date",
) -> ir.Table:
    """Earliest date of a code from ``codes`` in the window (``patient_id, <name>``)."""
    hits = events_in(events, codes, start, end)
    return hits.group_by("patient_id").agg(**{name: hits.date.min()})


def latest_date(
    events: ir.Table,
    codes: Codes,
    start: dt.date | None = None,
    end: dt.date | None = None,
    name: str = "latest_date",
) -> ir.Table:
    """Latest date of a code from ``codes`` in the window (``patient_id, <name>``)."""
    hits = events_in(events, codes, start, end)
    return hits.group_by("patient_id").agg(**{name: hits.date.max()})


def _ranked_values(
    events: ir.Table,
    codes: Codes,
    start: dt.date | None,
    end: dt.date | None,
    prefer: Literal["highest", "lowest"],
) -> ir.Table:
    """Numeric observations numbered per patient, latest first (``_rn`` = 0 is the latest)."""
    if prefer not in ("highest", "lowest"):
        raise ValueError("prefer must be 'highest' or 'lowest'")
    obs = events_in(events, codes, start, end)
    obs = obs.filter(obs.numeric_value.notnull())
    value_order = obs.numeric_value.desc() if prefer == "highest" else obs.numeric_value.asc()
    w = ibis.window(
        group_by=obs.patient_id,
        order_by=[obs.date.desc(), value_order, obs.snomed_code.desc()],
    )
    return obs.mutate(_rn=ibis.row_number().over(w))


def latest_value(
    events: ir.Table,
    codes: Codes,
    end: dt.date | None = None,
    start: dt.date | None = None,
    prefer: Literal["highest", "lowest"] = "highest",
    name: str = "value",
) -> ir.Table:
    """The latest numeric value of a code from ``codes`` on or before ``end``.

    Returns ``patient_id, <name>, <name>_date``. Several values on the latest date: the highest
    wins (``prefer="lowest"``: the lowest, as QOF takes the lowest blood pressure of the day), then
    the highest code.
    """
    if prefer not in ("highest", "lowest"):
        raise ValueError("prefer must be 'highest' or 'lowest'")
    obs = events_in(events, codes, start, end)
    obs = obs.filter(obs.numeric_value.notnull() & obs.date.notnull() & obs.snomed_code.notnull())
    sign = 1.0 if prefer == "highest" else -1.0
    key = ibis.struct({"d": obs.date, "v": obs.numeric_value * sign, "c": obs.snomed_code})
    latest = obs.group_by("patient_id").agg(_k=key.max())
    return latest.select(
        "patient_id", **{name: latest._k["v"] * sign, f"{name}_date": latest._k["d"]}
    )


def mean_sd_last(
    events: ir.Table,
    codes: Codes,
    k: int,
    end: dt.date | None = None,
    start: dt.date | None = None,
    name: str = "value",
) -> ir.Table:
    """Mean and sample SD of the last ``k`` numeric values (``patient_id, <name>_mean,
    <name>_sd, <name>_n``); SD is null with fewer than two values."""
    if k < 1:
        raise ValueError("k must be at least 1")
    ranked = _ranked_values(events, codes, start, end, "highest")
    last = ranked.filter(ranked._rn < k)
    return last.group_by("patient_id").agg(
        **{
            f"{name}_mean": last.numeric_value.mean(),
            f"{name}_sd": last.numeric_value.std(how="sample"),
            f"{name}_n": last.count().cast("int64"),
        }
    )


def count_events(
    events: ir.Table,
    codes: Codes,
    start: dt.date | None = None,
    end: dt.date | None = None,
    name: str = "events",
) -> ir.Table:
    """Number of coded events and of distinct codes in the window (``patient_id, <name>_n,
    <name>_codes``)."""
    hits = events_in(events, codes, start, end)
    return hits.group_by("patient_id").agg(
        **{
            f"{name}_n": hits.count().cast("int64"),
            f"{name}_codes": hits.snomed_code.nunique().cast("int64"),
        }
    )


def distinct_medications(
    medications: ir.Table,
    start: dt.date | None = None,
    end: dt.date | None = None,
    codes: Codes | None = None,
    name: str = "medications",
) -> ir.Table:
    """Number of distinct dm+d codes issued in the window (``patient_id, <name>``); all
    medicines unless ``codes`` restricts them."""
    meds = medications
    cond = ibis.literal(True)
    if isinstance(codes, ir.Table):
        meds = meds.semi_join(codes, meds.dmd_code == codes.code)
    elif codes is not None:
        values = sorted(set(codes))
        cond = meds.dmd_code.isin(values) if values else ibis.literal(False)
    if start is not None:
        cond &= meds.date >= start
    if end is not None:
        cond &= meds.date <= end
    meds = meds.filter(cond)
    return meds.group_by("patient_id").agg(**{name: meds.dmd_code.nunique().cast("int64")})


def latest_category(
    events: ir.Table,
    categories: Mapping[str, Codes],
    end: dt.date | None = None,
    start: dt.date | None = None,
    name: str = "category",
) -> ir.Table:
    """The category of the latest code from any of ``categories`` (``patient_id, <name>,
    <name>_date``), e.g. smoking status. On the same date the category listed first wins, then
    the highest code."""
    parts = []
    for rank, (label, codes) in enumerate(categories.items()):
        hits = events_in(events, codes, start, end)
        hits = hits.filter(hits.date.notnull() & hits.snomed_code.notnull())
        parts.append(
            hits.select(
                "patient_id",
                "date",
                "snomed_code",
                _cat=ibis.literal(label),
                # Negated so that ``max`` prefers the category listed first.
                _rank=ibis.literal(-rank),
            )
        )
    if not parts:
        raise ValueError("latest_category needs at least one category")
    allhits = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    key = ibis.struct({"d": allhits.date, "r": allhits._rank, "c": allhits.snomed_code,
                       "l": allhits._cat})
    latest = allhits.group_by("patient_id").agg(_k=key.max())
    return latest.select("patient_id", **{name: latest._k["l"], f"{name}_date": latest._k["d"]})


def on_register(
    events: ir.Table,
    codes: Codes,
    resolved_codes: Codes | None = None,
    end: dt.date | None = None,
    start: dt.date | None = None,
    name: str = "on_register",
) -> ir.Table:
    """Patients whose latest diagnosis in ``[start, end]`` is not ended by a resolved code.

    Following the QOF business-rule pattern, a patient stays on the register if they have no
    resolved code on or before ``end``, or their latest resolved code is dated before their
    latest diagnosis; a resolved code on the same day as, or after, the latest diagnosis ends
    it. Returns ``patient_id, <name>=True, <name>_date`` (the latest diagnosis date).
    """
    diag = latest_date(events, codes, start, end, name="_diag")
    if resolved_codes is not None:
        res = latest_date(events, resolved_codes, None, end, name="_res")
        j = diag.left_join(res, diag.patient_id == res.patient_id)
        diag = j.filter(j._res.isnull() | (j._res < j._diag)).select(
            patient_id=j.patient_id, _diag=j._diag
        )
    return diag.select("patient_id", **{name: ibis.literal(True), f"{name}_date": diag._diag})


def latest_by_tag(
    events: ir.Table, code_tags: ir.Table, end: dt.date | None = None, with_first: bool = False
) -> ir.Table:
    """Latest date, and optionally the latest numeric value, per patient and tag, for many code
    sets in one pass over ``events``.

    ``code_tags`` maps codes to tags: columns ``code``, ``tag``, ``start_date`` (events of a tag
    count from that date; null: from any date) and ``prefer`` (a float: ``0`` for a tag that
    wants only the latest date, ``1`` for the latest numeric value with the highest value
    winning on the latest day, ``-1`` for the lowest, as QOF takes the lowest blood pressure of
    the day; ``2`` for a tag that wants the *earliest* date instead, as a "new diagnosis in the
    window" rule does). A value tag reads only rows with a value. A code may carry several tags;
    a tag has one ``prefer``. Returns ``patient_id, tag, latest_date, latest_value`` (the value null
    for a date-only tag). One join and one hash aggregate over a struct key, however many code
    sets: how the profile evaluates every register, observation and flag at once.
    """
    j = events.join(code_tags, events.snomed_code == code_tags.code)
    cond = j.date.notnull() & (j.start_date.isnull() | (j.date >= j.start_date))
    if end is not None:
        cond &= j.date <= end
    j = j.filter(cond)
    # Two aggregates: a plain max for date-only tags (about half the groups, three times
    # cheaper than a struct), and a struct of never-null fields for value tags (DuckDB and
    # Spark order null struct fields differently). ``prefer`` is one per tag, so grouping by
    # it too only carries the sign through to undo it.
    d = j.filter(j.prefer == 0)
    dates = d.group_by(["patient_id", "tag"]).agg(latest_date=d.date.max())
    dates = dates.mutate(latest_value=ibis.null("float64"))
    if with_first:
        f = j.filter(j.prefer == 2)
        firsts = f.group_by(["patient_id", "tag"]).agg(latest_date=f.date.min())
        dates = dates.union(firsts.mutate(latest_value=ibis.null("float64")), distinct=False)
    v = j.filter(((j.prefer == 1) | (j.prefer == -1)) & j.numeric_value.notnull())
    key = ibis.struct({"d": v.date, "v": v.numeric_value.cast("float64") * v.prefer})
    values = v.group_by(["patient_id", "tag", "prefer"]).agg(_k=key.max())
    values = values.select("patient_id", "tag", latest_date=values._k["d"],
                           latest_value=values._k["v"] * values.prefer)
    return dates.union(values, distinct=False)


def issued_by_tag(
    medications: ir.Table, code_tags: ir.Table, end: dt.date | None = None
) -> ir.Table:
    """Patients issued a medicine of each tagged code set in its window, in one pass.

    ``code_tags``: columns ``code`` (dm+d), ``tag`` and ``start_date`` (issues count from that
    date; null: from any date). Returns the distinct ``patient_id, tag`` pairs with an issue in
    ``[start_date, end]``, with ``issues``: how many (for rules such as "4 prescriptions in 12
    months").
    """
    j = medications.join(code_tags, medications.dmd_code == code_tags.code)
    cond = j.date.notnull() & (j.start_date.isnull() | (j.date >= j.start_date))
    if end is not None:
        cond &= j.date <= end
    j = j.filter(cond)
    # A group-by, not ``distinct()``: Ibis' Spark compiler carries the filter's columns into
    # the DISTINCT when the result is ordered later (ibis 12), which duplicates pairs.
    return j.group_by(["patient_id", "tag"]).agg(issues=j.count().cast("int64"))


def is_active(diagnosis: ir.DateValue, resolved: ir.DateValue | None) -> ir.BooleanValue:
    """A diagnosis date stands unless a resolved date is on or after it (QOF pattern; see
    ``on_register``). Null diagnosis → False."""
    has = diagnosis.notnull()
    if resolved is None:
        return has
    return has & (resolved.isnull() | (resolved < diagnosis))


# --- combining and aggregating -----------------------------------------------------------------


def attach(
    population: ir.Table, feature: ir.Table, fill: Mapping[str, object] | None = None
) -> ir.Table:
    """Left-join a patient-level ``feature`` onto ``population``; ``fill`` replaces nulls in the
    named columns (e.g. ``{"has_code": False}`` or a count's 0)."""
    fill = dict(fill or {})
    cols = [c for c in feature.columns if c != "patient_id"]
    clash = [c for c in cols if c in population.columns]
    if clash:
        raise ValueError(f"attach: column(s) {', '.join(clash)} already in the population")
    f = feature.rename(_pid="patient_id")
    j = population.left_join(f, population.patient_id == f._pid)
    values = {c: (j[c].fill_null(fill[c]) if c in fill else j[c]) for c in cols}
    return j.select(*population.columns, **values)


def wilson_interval(
    successes: ir.NumericValue, trials: ir.NumericValue, z: float = Z95
) -> tuple[ir.FloatingValue, ir.FloatingValue]:
    """Wilson score interval for a proportion (null when there are no trials).

    Counts are cast to float64 first: on Spark an integer times a decimal literal becomes
    fixed-point decimal (DESIGN.md, "Engine").
    """
    x = successes.cast("float64")
    n = trials.cast("float64")
    z2 = z * z
    p = x / n
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = (z * ((p * (1 - p) / n + z2 / (4 * n * n)).sqrt())) / (1 + z2 / n)
    low = (n > 0).ifelse(ibis.greatest(centre - half, 0.0), ibis.null("float64"))
    high = (n > 0).ifelse(ibis.least(centre + half, 1.0), ibis.null("float64"))
    return low, high


def wilson_interval_arrays(
    successes: np.ndarray, trials: np.ndarray, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """The same interval over numpy arrays of counts, in the same order of operations as the
    Ibis form (so results agree to the last bit); NaN where there are no trials."""
    x = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2 = z * z
        p = x / n
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = (z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))) / (1 + z2 / n)
        low = np.where(n > 0, np.maximum(centre - half, 0.0), np.nan)
        high = np.where(n > 0, np.minimum(centre + half, 1.0), np.nan)
    return low, high


def wilson_interval_py(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The same interval in plain Python (for oracles and small reports)."""
    if trials <= 0:
        return math.nan, math.nan
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def grouped_rate(
    table: ir.Table,
    by: Sequence[str],
    numerator: ir.BooleanValue,
    denominator: ir.BooleanValue | None = None,
    name: str = "rate",
    z: float = Z95,
) -> ir.Table:
    """Per group: ``<name>_count`` (rows meeting ``numerator`` and ``denominator``),
    ``<name>_denominator``, ``<name>`` (the proportion) and its Wilson interval
    ``<name>_ci_low``/``<name>_ci_high``. ``by=[]`` gives one overall row."""
    in_denominator = denominator if denominator is not None else ibis.literal(True)
    t = table.mutate(
        _num=(numerator & in_denominator).ifelse(1, 0).cast("int64"),
        _den=in_denominator.ifelse(1, 0).cast("int64"),
    )
    agg = (t.group_by(list(by)) if by else t).agg(_x=t._num.sum(), _n=t._den.sum())
    x = agg._x.fill_null(0).cast("int64")
    n = agg._n.fill_null(0).cast("int64")
    low, high = wilson_interval(x, n, z)
    rate = (n > 0).ifelse(x.cast("float64") / n.cast("float64"), ibis.null("float64"))
    return agg.select(
        *by,
        **{
            f"{name}_count": x,
            f"{name}_denominator": n,
            name: rate,
            f"{name}_ci_low": low,
            f"{name}_ci_high": high,
        },
    )
