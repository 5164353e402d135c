"""``pcn run`` and ``pcn definitions``: compute the outputs of a record; check definitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pcn.cli.common import console, fail, user_errors
from pcn.record.store import RecordError

definitions_app = typer.Typer(
    help="Validate and inspect the declarative definitions.", no_args_is_help=True
)


def _date(value: str, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2024-03-31", param_hint=option
        ) from None


def run(
    record: Annotated[Path, typer.Option("--record", help="Record directory.")],
    engine: Annotated[str, typer.Option("--engine", help="duckdb (default) or spark.")] = "duckdb",
    index_date: Annotated[
        str,
        typer.Option(
            "--index-date",
            help="Date the outputs describe (YYYY-MM-DD); default: the record's "
            "as_of date, else today.",
        ),
    ] = "",
    tasks: Annotated[
        bool,
        typer.Option(
            "--tasks/--no-tasks",
            help="First write closed tasks' coded outcomes from the operational store into "
            "the record (follow-through; default on when a store exists).",
        ),
    ] = True,
) -> None:
    """Compute patient_profile and practice_summary into RECORD/outputs (atomically)."""
    from pcn.analytics.engine import ENGINES, EngineError
    from pcn.analytics.registers import DefinitionError
    from pcn.analytics.run import run as run_outputs

    if engine not in ENGINES:
        raise typer.BadParameter(f"choose one of {', '.join(ENGINES)}", param_hint="--engine")
    day = _date(index_date, "--index-date")
    if tasks:
        from pcn.cli.tasks import write_back_before_run

        with user_errors(RecordError):
            write_back_before_run(record)
    with (
        user_errors(RecordError, EngineError, DefinitionError),
        console.status(f"running on {engine}…") as status,
    ):
        result = run_outputs(
            record,
            engine,
            day,
            progress=lambda name: status.update(f"{engine}: computing {name}…"),
        )
    console.print(
        f"[green]outputs written[/] to {result.path} (index date {result.index_date}, "
        f"engine {result.engine}, {result.seconds['total']:.1f} s)"
    )
    t = Table(header_style="bold")
    t.add_column("output")
    t.add_column("rows", justify="right")
    t.add_column("seconds", justify="right")
    for name, rows in result.rows.items():
        secs = result.seconds.get(name)
        t.add_row(name, f"{rows:,}", "" if secs is None else f"{secs:.2f}")
    console.print(t)


@definitions_app.command("check")
def check(
    engine: Annotated[str, typer.Option("--engine", help="Engine for the dry run.")] = "duckdb",
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Also check that this record (after `pcn run`) holds "
                     "every feature the definitions need."),
    ] = None,
) -> None:
    """Validate every register file and dry-run each on a tiny population; check that every
    definition (indicators, worklists, segments, inequalities, CMS, eFI) can be computed, or
    says plainly that it is not available."""
    from pcn.cli.common import require_record_dir

    if record is not None:
        require_record_dir(record)
    from pcn.analytics.dryrun import dry_run, tiny_population
    from pcn.analytics.registers import DefinitionError, load_registers, registers_dir

    with user_errors(DefinitionError):
        registers = load_registers()
    console.print(f"[green]✓[/] {len(registers)} register files in {registers_dir()} are valid")
    cases = len(tiny_population(registers).cases)
    with console.status(f"dry-running {len(registers)} registers ({cases} cases) on {engine}…"):
        mismatches = dry_run(registers, engine)  # type: ignore[arg-type]
    for m in mismatches:
        console.print(f"[red]✗[/] {m}", highlight=False)
    if mismatches:
        raise fail(f"{len(mismatches)} of {cases} dry-run cases disagree", code=1)
    console.print(f"[green]✓[/] dry run: all {cases} cases agree with the definitions")
    _check_availability(record)


def _check_availability(record: Path | None) -> None:
    """Every definition's features: derivable (and, given a record, recorded) or declared
    not available."""
    import pandas as pd

    from pcn.measures.availability import check_definitions
    from pcn.measures.indicators import DefinitionError as IndicatorDefinitionError
    from pcn.worklists.definitions import WorklistDefinitionError

    profile = None
    if record is not None:
        from pcn.reporting.network import open_network

        with user_errors(RecordError):
            view = open_network(record)
        if view.profile_source != "analytics":
            raise fail(f"{record} has no computed outputs: run `pcn run --record {record}` "
                       "first")
        profile = pd.DataFrame(view.profile)
    with user_errors(IndicatorDefinitionError, WorklistDefinitionError):
        statuses = check_definitions(profile)
    failed = [s for s in statuses if s.problems]
    for s in statuses:
        if s.declared and not s.problems:
            console.print(f"[yellow]•[/] {s.kind} {s.id}: not available - {s.declared}",
                          highlight=False)
    for s in failed:
        for problem in s.problems:
            console.print(f"[red]✗[/] {s.kind} {s.id}: {problem}", highlight=False)
    if failed:
        raise fail(f"{len(failed)} of {len(statuses)} definitions need features that are "
                   "missing", code=1)
    where = f" and recorded in {record}" if record is not None else ""
    console.print(f"[green]✓[/] {len(statuses)} definitions: every feature they need can be "
                  f"derived{where}, or they say they are not available")


@definitions_app.command("schema")
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Print (or write) the JSON Schema of register definitions."""
    from pcn.analytics.registers import register_json_schema

    text = register_json_schema()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        console.print(f"schema written to {out}")


@definitions_app.command("list")
def list_registers() -> None:
    """List the registers with their source and age limits."""
    from pcn.analytics.registers import load_registers

    t = Table(header_style="bold")
    for col in ("id", "title", "ages", "codelists", "source"):
        t.add_column(col)
    for r in load_registers():
        ages = f"{r.min_age or 0}+" if r.max_age is None else f"{r.min_age or 0}-{r.max_age}"
        t.add_row(r.id, r.title, ages, str(len(r.codelists)), r.source.document)
    console.print(t)
