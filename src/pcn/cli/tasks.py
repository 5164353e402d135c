"""``pcn tasks``: create tasks from a worklist, list them, write closed tasks into the record."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from pcn.cli.common import console, fail, frame_table, require_record_dir, user_errors

app = typer.Typer(help="The one work model: tasks about patients, followed through to a coded "
                  "outcome.", no_args_is_help=True)


def _operator() -> str:
    return f"os:{getpass.getuser()}"


def _store() -> Any:
    from pcn.cli.store import _store as migrated_store

    return migrated_store()


def _errors() -> Any:
    from pcn.access.guard import NotFound
    from pcn.record.store import RecordError
    from pcn.store.database import StoreError
    from pcn.tasks.service import TaskConflict, TaskError

    return user_errors(TaskError, TaskConflict, RecordError, StoreError, NotFound)


def _worklist_frame(record: Path, worklist_id: str) -> pd.DataFrame:
    from pcn.cli.worklist import _path, _stale_outputs

    path = _path(record, worklist_id)
    if not path.exists():
        raise fail(f"no worklist {worklist_id!r} in {record}: run `pcn run --record {record}` "
                   "first (or see `pcn worklist list`)")
    stale = _stale_outputs(record)
    if stale:
        raise fail(stale)
    return pd.read_parquet(path)


@app.command("create")
def create(
    worklist: Annotated[str, typer.Option("--worklist", help="Worklist id, e.g. "
                                          "smr_candidates.")],
    record: Annotated[Path, typer.Option("--record", help="Record directory (its published "
                                         "worklist is read).")] = Path("var/twin"),
    practice: Annotated[str, typer.Option("--practice", help="Only this practice's "
                                          "patients (ODS code).")] = "",
    owner: Annotated[str, typer.Option("--owner", help="A role queue (e.g. "
                                       "clinical_pharmacist) or a username.")] = "",
    priority: Annotated[str, typer.Option("--priority", help="urgent, high, routine or "
                                          "low.")] = "routine",
    due: Annotated[str, typer.Option("--due", help="Due date (YYYY-MM-DD).")] = "",
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many patients, "
                                       "in the worklist's order.")] = 100_000,
) -> None:
    """A task for every patient on a worklist who has no open task on it (audited as the
    operating-system user, role ``system``)."""
    from pcn.tasks import service
    from pcn.worklists import load_worklists

    require_record_dir(record)
    due_date = None
    if due:
        try:
            due_date = dt.date.fromisoformat(due)
        except ValueError:
            raise typer.BadParameter(f"{due!r} is not a date like 2026-12-31",
                                     param_hint="--due") from None
    frame = _worklist_frame(record, worklist)
    if practice:
        frame = frame[frame["practice_code"].astype(str) == practice.upper()]
    frame = frame.head(limit)
    reasons = frame["reasons"] if "reasons" in frame.columns else frame.get("reason")
    candidates = [service.Candidate(int(p), str(c), str(r) if r is not None else "")
                  for p, c, r in zip(frame["patient_id"], frame["practice_code"],
                                     reasons if reasons is not None else [""] * len(frame),
                                     strict=True)]
    titles = {w: d.title for w, d in load_worklists().items()}
    store = _store()
    with _errors(), console.status(f"creating tasks for {len(candidates):,} patients…"):
        result = service.create_for_worklist_as_operator(
            store, _operator(), worklist, candidates, worklists=titles, owner=owner or None,
            priority=priority, due_date=due_date)
    console.print(f"[green]{len(result.created):,} task(s) created[/] on {worklist}; "
                  f"{len(result.already_open):,} patient(s) already had an open task.")


@app.command("list")
def list_(
    status: Annotated[list[str] | None, typer.Option("--status", help="open, in_progress, "
                                                     "done, declined, not_appropriate, "
                                                     "unable_to_contact (repeat for "
                                                     "several).")] = None,
    worklist: Annotated[str, typer.Option("--worklist", help="Worklist id.")] = "",
    owner: Annotated[str, typer.Option("--owner", help="Username or role queue.")] = "",
    limit: Annotated[int, typer.Option("--limit", min=1)] = 200,
) -> None:
    """Tasks, open first and most urgent first (audited as the operating-system user)."""
    from pcn.tasks import service
    from pcn.tasks.vocabulary import STATUS_TEXT

    store = _store()
    with _errors():
        views = service.list_tasks_as_operator(
            store, _operator(), service.TaskFilter(status=tuple(status or ()),
                                                   worklist_id=worklist or None,
                                                   owner=owner or None), limit=limit)
    rows = [{"task": v.id, "patient": v.patient_id if v.patient_id is not None else "",
             "practice": v.practice_code or "PCN", "worklist": v.worklist_id or v.kind,
             "priority": v.priority, "owner": v.owner_user or v.owner_role or "Unassigned",
             "status": STATUS_TEXT.get(v.status, v.status), "attempts": v.attempts,
             "outcome": f"{v.outcome_code} {v.outcome_term}" if v.outcome_code else "",
             "created": f"{v.created_at:%-d %b %Y}"} for v in views]
    if not rows:
        console.print("No tasks match.")
        return
    console.print(frame_table(pd.DataFrame(rows), title=f"Tasks ({len(rows):,})"))


@app.command("writeback")
def writeback(
    record: Annotated[Path, typer.Option("--record", help="Record directory.")],
) -> None:
    """Write closed tasks' coded outcomes into the record as clinical events (a new snapshot;
    `pcn run` does this first by itself)."""
    require_record_dir(record)
    store = _store()
    with _errors():
        result = write_back_and_report(record, store)
    if not result:
        console.print("Nothing new to write.")


def write_back_and_report(record: Path, store: Any) -> int:
    from pcn.tasks.writeback import write_back

    result = write_back(record, store)
    if result.written:
        console.print(f"[green]{len(result.written):,} task outcome(s) written[/] into the "
                      f"record (snapshot {result.snapshot.name}).")
    if result.not_in_record:
        console.print(f"{result.not_in_record:,} coded task(s) are about patients this record "
                      "does not hold (left out).")
    return len(result.written)


def existing_store() -> Any:
    """The configured store when it exists and is migrated, else None (never creates one)."""
    from pcn.config import get_settings
    from pcn.store import migrate
    from pcn.store.database import StoreError, database_url, open_store

    settings = get_settings()
    if not settings.database_url.strip() and not (settings.data_dir / "pcn.sqlite3").exists():
        return None
    try:
        store = open_store(database_url(settings))
        if migrate.current_revision(store) != migrate.head_revision():
            console.print("operational store not at the latest revision: tasks left out "
                          "(run `pcn db upgrade`).")
            store.dispose()
            return None
    except StoreError:
        return None
    return store


def write_back_before_run(record: Path) -> None:
    """For ``pcn run``: write task outcomes first when an operational store exists (a missing
    or unmigrated store is not an error: there is simply no work recorded)."""
    store = existing_store()
    if store is None:
        return
    try:
        write_back_and_report(record, store)
    finally:
        store.dispose()
