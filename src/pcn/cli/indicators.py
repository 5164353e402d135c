"""``pcn indicators``: list and validate indicator definitions; build their monthly series."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from pcn.cli.common import console, fail, user_errors

app = typer.Typer(help="List and validate indicator definitions (YAML).", no_args_is_help=True)

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="Folder of indicator YAML files (default: the shipped ones)."),
]


@app.command("check")
def check(directory: DirOption = None) -> None:
    """Validate every definition: schema, expressions, column and codelist references."""
    from pcn.measures.indicators import DefinitionError, indicators_dir, load_indicator
    from pcn.refdata import codelist_ids

    folder = directory or indicators_dir()
    codelists = set(codelist_ids())
    errors = []
    paths = sorted(folder.glob("*.yaml"))
    for path in paths:
        try:
            load_indicator(path, codelists)
        except DefinitionError as e:
            errors.append(str(e))
    for message in errors:
        console.print(f"[red]✗[/] {message}")
    if errors:
        raise fail(f"{len(errors)} of {len(paths)} definitions are invalid", code=1)
    console.print(f"[green]✓[/] {len(paths)} indicator definitions valid in {folder}")


@app.command("list")
def list_(directory: DirOption = None) -> None:
    """List indicators: id, kind, direction, source."""
    from pcn.measures.indicators import DefinitionError, load_indicators

    try:
        indicators = load_indicators(directory)
    except DefinitionError as e:
        raise fail(str(e)) from None
    table = Table(header_style="bold")
    for col in ("id", "title", "kind", "low is good", "source"):
        table.add_column(col)
    for ind in indicators.values():
        direction = "neither" if ind.low_is_good is None else str(ind.low_is_good).lower()
        table.add_row(ind.id, ind.title, ind.kind, direction, ind.source[0].reference)
    console.print(table)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of an indicator definition file."""
    from pcn.measures.indicators import Indicator

    typer.echo(json.dumps(Indicator.model_json_schema(), indent=2))


@app.command("series")
def series(
    record: Annotated[Path, typer.Option("--record", help="Record directory (after `pcn run`).")],
    months: Annotated[int, typer.Option("--months", min=1, max=120,
                                        help="Month ends to evaluate, up to the index date.")] = 24,
    engine: Annotated[str, typer.Option("--engine", help="duckdb (default) or spark.")] = "duckdb",
) -> None:
    """Monthly series of patient-based indicators (for SPC charts), added to RECORD/outputs."""
    from pcn.analytics.engine import ENGINES, EngineError
    from pcn.measures.series import SeriesError, build_series
    from pcn.record.store import RecordError

    if engine not in ENGINES:
        raise typer.BadParameter(f"choose one of {', '.join(ENGINES)}", param_hint="--engine")
    with (
        user_errors(RecordError, EngineError, SeriesError),
        console.status("building monthly series…") as status,
    ):
        result = build_series(record, months=months, engine_kind=engine,
                              progress=lambda step: status.update(f"{engine}: {step}…"))
    console.print(
        f"[green]series written[/] to {result.path}: {len(result.indicators)} indicators × "
        f"{len(result.months)} month ends ({result.months[0]} to {result.months[-1]}), "
        f"{result.rows:,} rows, {result.seconds:.1f} s"
    )


@app.command("show")
def show(
    indicator_id: Annotated[str, typer.Argument(help="Indicator id (see `pcn indicators list`).")],
    record: Annotated[Path, typer.Option("--record", help="Record directory (after `pcn run`).")],
) -> None:
    """One indicator per practice and for the PCN, or why it is not available (secondary use:
    opted-out patients left out, small numbers protected)."""
    from pcn.access.secondary_use import secondary_view
    from pcn.cli.common import frame_table, require_record_dir
    from pcn.record.store import RecordError
    from pcn.reporting.network import OutputsMissing, open_network

    with user_errors(RecordError):
        view = secondary_view(open_network(require_record_dir(record)))
    if indicator_id not in view.indicator_definitions:
        raise fail(f"no indicator {indicator_id!r}: see `pcn indicators list`")
    definition = view.indicator_definitions[indicator_id]
    state = view.indicator(indicator_id)
    if state.not_available:
        console.print(f"[bold]{definition.title}[/]: [yellow]not available[/] - it "
                      f"{state.unavailable}", highlight=False)
        return
    try:
        table = view.indicator_table(indicator_id, protected=True)
    except OutputsMissing as err:
        raise fail(str(err)) from None
    unit = "%" if definition.kind == "proportion" else f"per {definition.per:,}"
    shown = table[["level", "org_code", "name", "numerator", "denominator", "value",
                   "position"]].copy()
    shown["value"] = shown["value"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}")
    console.print(frame_table(shown, title=f"{definition.title} ({unit}), as of {view.as_of}"))
