"""Helpers shared by the CLI modules: one console, clean error exits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def user_errors(*kinds: type[BaseException]) -> Iterator[None]:
    """Turn expected domain errors into a one-line message and exit status 2."""
    try:
        yield
    except kinds as e:
        raise fail(str(e).strip("'\"")) from None


def require_record_dir(path: Path) -> Path:
    """A ``--record`` that exists must be a directory: otherwise a clear error (exit 2)."""
    if path.exists() and not path.is_dir():
        raise fail(f"{path} is a file, not a record directory")
    return path


def frame_table(df: pd.DataFrame, title: str | None = None, max_rows: int = 200) -> Table:
    table = Table(title=title, header_style="bold")
    for col in df.columns:
        numeric = pd.api.types.is_numeric_dtype(df[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for _, row in df.head(max_rows).iterrows():
        table.add_row(
            *("" if pd.isna(v) else f"{v:,}" if isinstance(v, int) else str(v) for v in row)
        )
    return table
