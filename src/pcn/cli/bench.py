"""``pcn bench``: benchmarks that print figures and ratios."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from pcn.cli.common import console, user_errors
from pcn.config import get_settings

app = typer.Typer(help="Benchmarks: speed and memory, measured side by side.", no_args_is_help=True)


@app.command("synth")
def synth(
    sizes: str = typer.Option("50000,1000000,5000000", help="Comma-separated patient counts."),
    pcn: str = typer.Option("", help="PCN to twin (default: settings.default_pcn)."),
    workers: int = typer.Option(0, min=0, help="Worker processes; 0 = one per core."),
    out: Path = typer.Option(None, help="Scratch directory (default: DATA_DIR/bench)."),
    keep: bool = typer.Option(False, help="Keep the generated records."),
) -> None:
    """Time twin generation at several sizes: patients/minute and peak memory."""
    from pcn.bench.synth import run_synth_benchmark

    settings = get_settings()
    counts = [int(s.replace("_", "")) for s in sizes.split(",") if s.strip()]
    run_synth_benchmark(
        counts,
        out or settings.data_dir / "bench",
        pcn or settings.default_pcn,
        workers or settings.effective_workers(),
        console,
        keep=keep,
    )


@app.command("run")
def bench_run(
    sizes: Annotated[
        str, typer.Option("--sizes", help="Comma-separated patient counts (k/M suffixes allowed).")
    ] = "50k,500k,2M",
    work_dir: Annotated[
        Path,
        typer.Option("--work-dir", help="Where benchmark records are built and kept for reruns."),
    ] = Path("var/bench"),
    engine: Annotated[str, typer.Option("--engine", help="Engine for `pcn run`.")] = "duckdb",
    seed: Annotated[int, typer.Option("--seed", help="Twin seed.")] = 1,
) -> None:
    """Time `pcn run` at each size beside a raw DuckDB scan, and the ehrQL-comparable dataset."""
    from pcn.analytics.benchmark import parse_sizes, run_benchmarks

    run_benchmarks(
        parse_sizes(sizes),
        work_dir,
        engine=engine,  # type: ignore[arg-type]
        seed=seed,
        console=console,
    )


@app.command("dataset")
def bench_dataset(
    record: Annotated[Path, typer.Option("--record", help="Record directory.")],
    output: Annotated[Path, typer.Option("--output", help="Arrow IPC file to write (.arrow).")],
    index_date: Annotated[
        str, typer.Option("--index-date", help="Index date YYYY-MM-DD (default: the twin's date).")
    ] = "",
) -> None:
    """Write the ehrQL-comparable dataset (the side-by-side benchmark's pcn half)."""
    from pcn.analytics.benchmark import write_comparable_dataset

    when = None
    if index_date:
        try:
            when = dt.date.fromisoformat(index_date)
        except ValueError:
            raise typer.BadParameter(f"{index_date!r} is not a date (YYYY-MM-DD)",
                                     param_hint="--index-date") from None
    from pcn.record.store import RecordError

    with user_errors(RecordError):
        rows = write_comparable_dataset(record, output, when)
    console.print(f"wrote {rows:,} patients to {output}")
