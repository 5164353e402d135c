"""``pcn risk``: compute risk scores from files (checking pcn against other implementations)."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import typer

from pcn.cli.common import console, err_console, fail
from pcn.reporting.csv_safe import neutralise
from pcn.risk import qrisk3 as q

app = typer.Typer(help="Risk scores: QRISK3-2017 batch scoring.", no_args_is_help=True)

#: How many problems to print before summarising the rest.
SHOWN_PROBLEMS = 20


def _scores_csv(ids: np.ndarray, scores: np.ndarray) -> str:
    """``id,score`` CSV text; scores in the shortest text that reads back to the same double."""
    as_text = pc.cast(pa.array(scores, type=pa.float64()), pa.string()).to_pylist()
    ids_text = [str(neutralise(str(i))) for i in ids]  # no id may start a spreadsheet formula
    all_ids = "".join(ids_text)
    if any(ch in all_ids for ch in ',"\r\n'):
        # ids that need CSV quoting: let the csv module do it
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["id", "score"])
        writer.writerows(zip(ids_text, as_text, strict=True))
        return buffer.getvalue()
    return "id,score\n" + "".join(f"{i},{t}\n" for i, t in zip(ids_text, as_text, strict=True))


def _write_atomically(text: str, path: Path) -> None:
    """Write beside ``path`` and rename into place, so no half-written file is ever seen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_INPUT_HELP = ("CSV with columns " + ",".join(q.BATCH_COLUMNS)
               + " (extra columns are ignored).")
InputOption = Annotated[Path, typer.Option("--input", "-i", help=_INPUT_HELP, exists=True,
                                           dir_okay=False, readable=True)]
OutputOption = Annotated[Path, typer.Option("--output", "-o", help="CSV to write: id,score "
                                            "(10-year risk in percent, unrounded).")]
SkipInvalidOption = Annotated[bool, typer.Option(
    "--skip-invalid", help="Skip and report bad rows instead of refusing the whole file.")]


def _read_as_text(path: Path) -> pd.DataFrame:
    """Every cell as text (none null), read by Arrow's multi-threaded CSV reader."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), None)
        if not header:
            raise fail(f"{path}: empty file, expected a header row")
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error) as e:
        raise fail(f"{path}: not a readable CSV ({e})") from None
    return table.to_pandas(types_mapper=pd.ArrowDtype)


@app.command("qrisk3")
def qrisk3(input: InputOption, output: OutputOption, skip_invalid: SkipInvalidOption = False,
           ) -> None:
    """QRISK3-2017 10-year CVD risk for every row of a CSV (both sex equations).

    Bad cells are reported by row (data rows counted from 1) and column.
    A file with any bad row writes nothing unless --skip-invalid is given.
    """
    with console.status("reading input"):
        text = _read_as_text(input)
    missing = [c for c in q.BATCH_COLUMNS if c not in text.columns]
    if missing:
        raise fail(f"{input}: missing column(s) {', '.join(missing)}; "
                   f"expected {','.join(q.BATCH_COLUMNS)}")
    with console.status(f"checking {len(text):,} rows"):
        typed, problems = q.check_qrisk3_frame(text)
    bad_rows = sorted({p.row for p in problems})
    for p in problems[:SHOWN_PROBLEMS]:
        verdict = "skipped" if skip_invalid else "error"
        err_console.print(f"{verdict}: {p.message()}", soft_wrap=True, highlight=False)
    if len(problems) > SHOWN_PROBLEMS:
        err_console.print(f"... and {len(problems) - SHOWN_PROBLEMS:,} more problem(s)")
    if problems and not skip_invalid:
        raise fail(f"{len(problems):,} problem(s) in {len(bad_rows):,} row(s); nothing written "
                   "(use --skip-invalid to score the good rows)")
    keep = [r - 1 for r in bad_rows]
    good = typed.drop(index=keep) if keep else typed
    ids = (text.drop(index=keep) if keep else text)[q.ID_COLUMN].to_numpy()
    with console.status(f"scoring {len(good):,} rows"):
        scores = q.qrisk3_scores(good) if len(good) else np.array([], dtype=float)
    _write_atomically(_scores_csv(ids, scores), output)
    skipped = f", skipped {len(bad_rows):,} bad row(s)" if bad_rows else ""
    console.print(f"wrote {len(ids):,} scores to {output}{skipped}", highlight=False,
                  soft_wrap=True)
    console.print(f"[dim]{q.QRISK3_IMPLEMENTATION_NOTE} {q.QRISK3_DISCLAIMER}[/]")
