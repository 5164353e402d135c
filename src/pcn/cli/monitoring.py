"""``pcn monitoring``: home readings in (CSV), NG136 series summary out, alerts as tasks."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from pcn.cli.common import console, fail, require_record_dir, user_errors

app = typer.Typer(
    help="Home monitoring: home blood pressure readings, NICE NG136 averages and "
    "categories, alerts as tasks.",
    no_args_is_help=True,
)


SYSTEM_ROLE = "system"


def _operator() -> str:
    return f"os:{getpass.getuser()}"


def _errors() -> Any:
    from pcn.monitoring.readings import ReadingError
    from pcn.record.store import RecordError
    from pcn.store.database import StoreError
    from pcn.tasks.service import TaskConflict, TaskError

    return user_errors(ReadingError, RecordError, StoreError, TaskError, TaskConflict)


def operational_store() -> Any:
    """The configured store; a brand-new empty one is migrated first (a store at another
    revision is refused, as everywhere: `pcn db upgrade`)."""
    from pcn.store import migrate
    from pcn.store.database import open_store

    with _errors():
        store = open_store()
        if migrate.current_revision(store) is None:
            migrate.upgrade(store)
        migrate.require_head(store)
    return store


def _record(path: Path) -> Any:
    from pcn.record.store import open_record

    require_record_dir(path)
    with _errors():
        return open_record(path)


@app.command("import")
def import_(
    record: Annotated[
        Path,
        typer.Option("--record", help="Record directory (the patients the readings belong to)."),
    ],
    input_: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="CSV with columns patient_id,taken_at,systolic,diastolic,pulse."
        ),
    ],
) -> None:
    """Take in home blood pressure readings from a CSV (all rows checked before any is kept;
    re-importing the same readings changes nothing)."""
    from pcn.monitoring.alerts import raise_alerts
    from pcn.monitoring.readings import patient_facts, read_csv, store_bp_readings
    from pcn.monitoring.summary import series_of

    rec = _record(record)
    if not input_.is_file():
        raise fail(f"{input_} is not a file")
    with _errors():
        readings = read_csv(input_)
    known = patient_facts(rec, {r.patient_id for r in readings})
    store = operational_store()
    try:
        with _errors():
            result = store_bp_readings(store, readings, source="csv", created_by=_operator())
            series = series_of(store, rec, {r.patient_id for r in readings})
            tasks = raise_alerts(store, rec, series, username=_operator(), role=SYSTEM_ROLE)
    finally:
        store.dispose()
    if tasks:
        console.print(f"[yellow]{len(tasks):,} alert task(s) raised[/] (see `pcn tasks list`).")
    console.print(
        f"[green]{result.added:,} reading(s) added[/] for {result.patients:,} "
        f"patient(s); {result.already_held:,} already held."
    )
    unknown = {r.patient_id for r in readings} - set(known)
    if unknown:
        console.print(
            f"[yellow]{len(unknown):,} patient(s) are not in this record[/] "
            f"(e.g. {min(unknown)}): their series are judged without a register "
            "or age."
        )


@app.command("summary")
def summary(
    record: Annotated[
        Path,
        typer.Option(
            "--record", help="Record directory (hypertension register and dates of birth)."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write.")],
) -> None:
    """One row per series of home blood pressure readings with its NICE NG136 category:
    patient_id, series_start, n_readings_used, mean_systolic, mean_diastolic, category."""
    from pcn.monitoring.summary import series_of, write_summary

    rec = _record(record)
    store = operational_store()
    try:
        with _errors():
            series = series_of(store, rec)
    finally:
        store.dispose()
    write_summary(series, output)
    counts: dict[str, int] = {}
    for s in series:
        counts[s.category] = counts.get(s.category, 0) + 1
    detail = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) or "none"
    console.print(f"[green]{len(series):,} series[/] written to {output} ({detail}).")
