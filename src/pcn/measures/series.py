"""Monthly series of patient-based indicators, for SPC charts (``pcn indicators series``).

An indicator whose numerator counts patients (BP to target in hypertension, HbA1c in diabetes ...)
has no event dates to bin by month: each month's value needs the patient profile *as it stood at
that month end* — who was registered and alive, who was on each register (diagnosis before the
date, not resolved by then), the latest readings before the date, windows counted back from it.
We get exactly that by building the analytics engine's own profile (``pcn.analytics.profile``,
enriched by ``pcn.risk.pipeline.enrich``) at each month end and evaluating every patient-based
indicator on it with :func:`pcn.measures.indicators.compute_indicator`, so a month's point means
the same as the indicator page's table at ``as_of``.

That is one profile per month (~3 s each on the 50k-patient twin), too slow to sit inside
``pcn run``; so it is a separate step that adds ``indicator_series.parquet`` to the published
outputs as a new snapshot (``pcn.record.atomic``: readers see the old outputs or the new ones).
Re-running ``pcn run`` publishes outputs without the series until this step runs again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pcn.measures.indicators import Indicator, compute_indicator, load_indicators

SERIES_FILE = "indicator_series.parquet"
#: Month ends evaluated by default: the SPC charts show 24 months (MDC asks for at least 15).
DEFAULT_MONTHS = 24
SERIES_COLUMNS = ["indicator_id", "level", "org_code", "month_end", "numerator", "denominator",
                  "value"]
SERIES_SCHEMA = pa.schema([
    ("indicator_id", pa.string()), ("level", pa.string()), ("org_code", pa.string()),
    ("month_end", pa.date32()), ("numerator", pa.int64()), ("denominator", pa.int64()),
    ("value", pa.float64()),
])


class SeriesError(ValueError):
    """The series cannot be built (no published outputs, bad month count)."""


def month_ends(as_of: dt.date, months: int) -> list[dt.date]:
    """The last ``months`` month ends on or before ``as_of``, oldest first (whole months only:
    a mid-month ``as_of`` ends the series at the previous month end)."""
    if months < 1:
        raise SeriesError(f"months must be at least 1, not {months}")
    last = (pd.Timestamp(as_of) + pd.offsets.MonthEnd(0)).date()
    if last != as_of:
        last = (pd.Timestamp(as_of) - pd.offsets.MonthEnd(1)).date()
    ends = pd.date_range(end=pd.Timestamp(last), periods=months, freq="ME")
    return [d.date() for d in ends]


def patient_indicators(indicators: Iterable[Indicator] | None = None) -> list[Indicator]:
    """Indicators whose numerator counts patients (event-based ones get monthly series from
    their event dates in ``compute_indicator``)."""
    from pcn.measures.availability import unsupported

    pool = load_indicators().values() if indicators is None else indicators
    # never a series of zeros for what no record can hold (pcn.measures.availability)
    return [i for i in pool if i.numerator.table == "patients" and not i.not_available
            and not unsupported(i.columns())]


def series_from_profiles(
    indicators: Iterable[Indicator],
    profiles: Iterable[tuple[dt.date, pd.DataFrame]],
    *,
    pcn_code: str = "PCN",
) -> pd.DataFrame:
    """One row per indicator, organisation (practices and the PCN) and month end: each indicator
    evaluated on the profile of that month end with ``as_of`` = the month end."""
    chosen = list(indicators)
    parts: list[pd.DataFrame] = []
    for day, profile in profiles:
        for indicator in chosen:
            frame = compute_indicator(indicator, profile, as_of=day, pcn_code=pcn_code).by_practice
            frame = frame.assign(indicator_id=indicator.id, month_end=day)
            parts.append(frame)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t.to_pandas_dtype())
                             for c, t in zip(SERIES_SCHEMA.names, SERIES_SCHEMA.types,
                                             strict=True)})
    out = pd.concat(parts, ignore_index=True)[SERIES_COLUMNS]
    return out.sort_values(["indicator_id", "month_end", "level", "org_code"], ignore_index=True)


def profiles_at(
    engine: object,
    days: Iterable[dt.date],
    *,
    ready: dict[dt.date, pd.DataFrame] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Iterator[tuple[dt.date, pd.DataFrame]]:
    """The enriched patient profile at each day, built one at a time (memory: one profile).

    ``ready`` supplies profiles already built (``pcn run``'s own profile at the index date)."""
    from pcn.analytics.engine import Engine
    from pcn.analytics.profile import RunContext, compute_profile
    from pcn.risk.pipeline import enrich  # registers the PHM profile columns on import

    assert isinstance(engine, Engine)
    for day in days:
        if ready and day in ready:
            yield day, ready[day]
            continue
        if progress:
            progress(f"profile at {day}")
        ctx = RunContext(engine=engine, index_date=day)
        raw = compute_profile(ctx).to_pandas()
        yield day, enrich(raw, day)


@dataclass(frozen=True)
class SeriesResult:
    path: Path
    rows: int
    months: list[dt.date]
    indicators: list[str]
    seconds: float


def build_series(
    record_dir: str | Path,
    *,
    months: int = DEFAULT_MONTHS,
    engine_kind: str = "duckdb",
    progress: Callable[[str], None] | None = None,
) -> SeriesResult:
    """Compute the monthly series of every patient-based indicator for the record's published
    outputs and publish them, with those outputs, as a new snapshot."""
    from pcn.analytics.engine import Engine
    from pcn.analytics.run import OUTPUTS_DIR
    from pcn.record import atomic, open_record

    t0 = time.perf_counter()
    record = open_record(record_dir)
    base = record.base / OUTPUTS_DIR
    current = base / "current"
    manifest_path = current / "manifest.json"
    if not manifest_path.exists():
        raise SeriesError(f"{record_dir}: no published outputs; run `pcn run --record "
                          f"{record_dir}` first")
    manifest = json.loads(manifest_path.read_text())
    index_date = dt.date.fromisoformat(manifest["index_date"])
    days = month_ends(index_date, months)
    practices = record.read("practices").to_pandas()
    codes = practices["pcn_code"].dropna().unique()
    pcn_code = str(codes[0]) if len(codes) else "PCN"
    chosen = patient_indicators()
    # pcn run's profile at the index date is the same profile: reuse it (and so the last point
    # equals the indicator table exactly)
    ready = {index_date: pd.read_parquet(current / "patient_profile.parquet")} \
        if index_date in days else {}
    with Engine.for_record(record, engine_kind) as engine:  # type: ignore[arg-type]
        frame = series_from_profiles(
            chosen, profiles_at(engine, days, ready=ready, progress=progress), pcn_code=pcn_code)
    table = pa.Table.from_pandas(frame, schema=SERIES_SCHEMA, preserve_index=False)

    source = current.resolve()
    with atomic.writing(base) as staging:
        for item in source.iterdir():
            target = staging / item.name
            if item.is_dir():
                shutil.copytree(item, target, copy_function=_link_or_copy)
            elif item.name not in (SERIES_FILE, "manifest.json"):
                _link_or_copy(str(item), str(target))
        pq.write_table(table, staging / SERIES_FILE, compression="zstd")
        digest = hashlib.sha256((staging / SERIES_FILE).read_bytes()).hexdigest()
        manifest["rows"] = {**manifest.get("rows", {}), "indicator_series": table.num_rows}
        manifest["indicator_series"] = {
            "months": len(days), "first_month_end": days[0].isoformat(),
            "last_month_end": days[-1].isoformat(), "indicators": [i.id for i in chosen],
            "content_hash": digest,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        # from the run's own content hash (kept in the copied manifest), so building the same
        # series again, even on top of an earlier series snapshot, publishes nothing new
        run_hash = manifest.get("content_hash", source.name)
        snapshot_id = hashlib.sha256(f"{run_hash}:series:{digest}".encode()).hexdigest()[:20]
        path, _changed = atomic.publish(base, staging, snapshot_id)
    return SeriesResult(path, table.num_rows, days, [i.id for i in chosen],
                        time.perf_counter() - t0)


def _link_or_copy(src: str, dst: str) -> None:
    """Published snapshots are immutable, so the new one can share their files (hard links)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def read_series(outputs_dir: Path) -> pd.DataFrame | None:
    """The stored series (``None`` when ``pcn indicators series`` has not run on these outputs)."""
    path = Path(outputs_dir) / SERIES_FILE
    if not path.exists():
        return None
    return pd.read_parquet(path)


def as_monthly(series: pd.DataFrame, indicator_id: str) -> pd.DataFrame | None:
    """One indicator's stored series in ``IndicatorResult.monthly`` shape (``month`` periods)."""
    rows = series[series["indicator_id"] == indicator_id]
    if rows.empty:
        return None
    out = rows.drop(columns=["indicator_id"]).copy()
    out.insert(0, "month", pd.PeriodIndex(pd.to_datetime(out.pop("month_end")), freq="M"))
    return out.sort_values(["month", "level", "org_code"], ignore_index=True)
