"""``pcn worklist``: the case-finding worklists written by ``pcn run``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer

from pcn.cli.common import console, fail, frame_table, require_record_dir
from pcn.worklists import load_worklists

app = typer.Typer(
    help="List and show case-finding worklists (written by `pcn run`).", no_args_is_help=True
)


def _path(record: Path, worklist_id: str) -> Path:
    """The published worklist (``outputs/current/worklists``, where `pcn run` writes it), else
    the older unpublished layout."""
    published = record / "outputs" / "current" / "worklists" / f"{worklist_id}.parquet"
    if published.exists() or published.with_suffix(".json").exists():
        return published
    return record / "outputs" / "worklists" / f"{worklist_id}.parquet"


def _stale_outputs(record: Path) -> str:
    """Why the outputs must not be shown (computed from another record than the current one:
    a patient may since have moved practice), or "" when they match."""
    import json

    from pcn.record.store import RecordError, open_record

    manifest = record / "outputs" / "current" / "manifest.json"
    try:
        built_from = json.loads(manifest.read_text()).get("record_content_hash")
        current = open_record(record).manifest.content_hash
    except (OSError, ValueError, RecordError):
        return ""
    if built_from and built_from != current:
        return (f"the worklists were computed from an older record ({str(built_from)[:12]}, "
                f"now {current[:12]}): run `pcn run --record {record}` first")
    return ""


@app.command("list")
def list_(
    record: Path = typer.Option(None, "--record", help="Record directory (for counts)."),
) -> None:
    """Every worklist definition, with its size when the record has outputs."""
    if record is not None:
        require_record_dir(record)
    rows = []
    for wid, d in load_worklists().items():
        n: object = ""
        if record is not None and _path(record, wid).exists():
            n = len(pd.read_parquet(_path(record, wid), columns=["patient_id"]))
        elif record is not None and _path(record, wid).with_suffix(".json").exists():
            meta = json.loads(_path(record, wid).with_suffix(".json").read_text())
            n = "not available" if meta.get("not_available") else ""
        rows.append({"id": wid, "title": d.title, "service": d.service, "patients": n})
    console.print(frame_table(pd.DataFrame(rows), title="Worklists"))


@app.command("show")
def show(
    worklist_id: str = typer.Argument(..., help="Worklist id (see `pcn worklist list`)."),
    record: Path = typer.Option(..., "--record", help="Record directory."),
    practice: str = typer.Option("", "--practice", help="Only this practice (ODS code)."),
    core20: bool = typer.Option(False, "--core20", help="Only people in the most deprived 20%."),
    plus: str = typer.Option("", "--plus", help="Only this PLUS group (e.g. learning_disability)."),
    limit: int = typer.Option(50, min=1, help="Rows to print."),
) -> None:
    """Print a worklist: who, why (reasons) and what the clinician needs to act."""
    require_record_dir(record)
    defs = load_worklists()
    if worklist_id not in defs:
        raise fail(f"no worklist {worklist_id!r}; known: {', '.join(defs)}")
    path = _path(record, worklist_id)
    meta = path.with_suffix(".json")
    if not path.exists() and meta.exists():
        reason = json.loads(meta.read_text()).get("not_available")
        if reason:  # not built: without what it needs it would name everyone eligible
            console.print(f"[bold]{defs[worklist_id].title}[/]: [yellow]not available[/] - "
                          f"{reason}", highlight=False)
            return
    if not path.exists():
        raise fail(f"{path} not found: run `pcn run --record {record}` first")
    stale = _stale_outputs(record)
    if stale:
        raise fail(stale)
    df = pd.read_parquet(path)
    if practice:
        df = df[df["practice_code"] == practice.upper()]
    if core20:
        df = df[df["core20"]]
    if plus:
        df = df[df["plus_groups"].str.split(";").apply(lambda g: plus in g)]
    d = defs[worklist_id]
    console.print(f"[bold]{d.title}[/] — {len(df):,} patient(s)")
    console.print(d.why.strip(), style="dim")
    console.print(frame_table(df.head(limit)))
