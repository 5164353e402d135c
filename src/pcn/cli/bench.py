"""``pcn bench``: benchmarks that print figures (never timed unit tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pcn.cli.common import console

app = typer.Typer(help="Benchmarks: time the pipeline and print figures.", no_args_is_help=True)


@app.command("run")
def bench_run(
    sizes: Annotated[str, typer.Option(
        "--sizes", help="Comma-separated patient counts (k/M suffixes allowed).")] = "50k,500k,2M",
    work_dir: Annotated[Path, typer.Option(
        "--work-dir", help="Where benchmark records are built and kept for reruns.")]
        = Path("var/bench"),
    engine: Annotated[str, typer.Option("--engine", help="Engine for `pcn run`.")] = "duckdb",
    seed: Annotated[int, typer.Option("--seed", help="Twin seed.")] = 1,
) -> None:
    """Time `pcn run` at each size beside a raw DuckDB scan, and the ehrQL-comparable dataset."""
    from pcn.analytics.benchmark import parse_sizes, run_benchmarks

    run_benchmarks(parse_sizes(sizes), work_dir, engine=engine, seed=seed,  # type: ignore[arg-type]
                   console=console)
