"""``pcn social``: the community directory (Open Referral UK) and social prescribing reports."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from pcn.cli.common import console, fail, frame_table, user_errors

app = typer.Typer(
    help="Social prescribing: the community directory, referrals and outcomes.",
    no_args_is_help=True,
)
directory_app = typer.Typer(
    help="The community directory in the Open Referral UK (HSDS) data model.", no_args_is_help=True
)
app.add_typer(directory_app, name="directory")


def _errors() -> Any:
    from pcn.social.directory import DirectoryError
    from pcn.store.database import StoreError

    return user_errors(DirectoryError, StoreError)


def _store() -> Any:
    from pcn.cli.monitoring import operational_store

    return operational_store()


@directory_app.command("import")
def directory_import(
    input_: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help="ORUK JSON: a services list page, a list of services or one service.",
        ),
    ],
) -> None:
    """Add (or replace, by id) services from Open Referral UK JSON; the whole file is checked
    before anything is written."""
    from pcn.social.directory import import_services, read_directory_file

    if not input_.is_file():
        raise fail(f"{input_} is not a file")
    with _errors():
        services = read_directory_file(input_)
    store = _store()
    try:
        with _errors():
            result = import_services(store, services, username=f"os:{getpass.getuser()}")
    finally:
        store.dispose()
    console.print(f"[green]{result.added:,} service(s) added[/], {result.updated:,} updated.")


@directory_app.command("export")
def directory_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="JSON file to write.")],
) -> None:
    """Every service as one Open Referral UK list page (imports back to the same directory)."""
    from pcn.social.directory import all_services, export_page

    store = _store()
    try:
        services = all_services(store)
    finally:
        store.dispose()
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".oruk-", suffix=".json", dir=output.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(export_page(services), handle, indent=2, ensure_ascii=False)
    os.replace(tmp, output)
    console.print(f"[green]{len(services):,} service(s)[/] written to {output}.")


@directory_app.command("search")
def directory_search(
    need: Annotated[str, typer.Option("--need", help="A need, e.g. loneliness.")] = "",
    postcode: Annotated[
        str, typer.Option("--postcode", help="The person's postcode (its district is matched).")
    ] = "",
    age: Annotated[int | None, typer.Option("--age", min=0, max=130)] = None,
    text: Annotated[str, typer.Option("--text", help="Words in the name or description.")] = "",
) -> None:
    """Active services that meet every criterion given."""
    from pcn.social.directory import Search, all_services, search

    store = _store()
    try:
        services = all_services(store)
    finally:
        store.dispose()
    with _errors():
        found = search(
            services,
            Search(need=need or None, postcode=postcode or None, age=age, text=text or None),
        )
    if not found:
        console.print("No services match.")
        return
    rows = [
        {
            "service": s.name,
            "provider": s.organization.name,
            "ages": _ages(s.minimum_age, s.maximum_age),
            "where": ", ".join(s.outcodes) or "Not given",
            "id": s.id,
        }
        for s in found
    ]
    console.print(frame_table(pd.DataFrame(rows), title=f"Services ({len(rows):,})"))


def _ages(low: int | None, high: int | None) -> str:
    if low is None and high is None:
        return "All ages"
    if high is None:
        return f"{low} and over"
    if low is None:
        return f"Up to {high}"
    return f"{low} to {high}"


@app.command("report")
def report(
    by: Annotated[
        str, typer.Option("--by", help="link_worker, service, need or network.")
    ] = "link_worker",
) -> None:
    """Outcomes of social prescribing referrals: the share of closed referrals with ONS4
    recorded at start and end, and the median change of each ONS4 item (never summed)."""
    from pcn.social.directory import all_services
    from pcn.social.referrals import referrals
    from pcn.social.report import caseloads, outcome_report
    from pcn.social.vocabulary import definitions

    if by not in ("link_worker", "service", "need", "network"):
        raise typer.BadParameter("choose link_worker, service, need or network", param_hint="--by")
    store = _store()
    try:
        rows = referrals(store)
        names = {s.id: s.name for s in all_services(store)}
    finally:
        store.dispose()
    labels = {i.key: i.label for i in definitions().ons4.items}
    table = [
        {
            "group": r.group,
            "referrals": r.referrals,
            "closed": r.closed,
            "with outcome": r.closed_with_outcome,
            "share with outcome": "Not available"
            if r.share_with_outcome is None
            else f"{r.share_with_outcome:.0%}",
            **{
                f"{labels[k]} (median change)": "Not available" if v is None else f"{v:+g}"
                for k, v in r.median_change.items()
            },
        }
        for r in outcome_report(rows, by, names)
    ]
    if not table:
        console.print("No referrals yet.")
        return
    console.print(
        frame_table(
            pd.DataFrame(table), title=f"Social prescribing outcomes by {by.replace('_', ' ')}"
        )
    )
    loads = [
        {
            "link worker": c.link_worker,
            "open": c.open,
            "referred in last 12 months": c.referred_last_12_months,
            "waiting for first contact": c.waiting_first_contact,
            "median wait (days)": "Not available"
            if c.median_wait_days is None
            else f"{c.median_wait_days:g}",
        }
        for c in caseloads(rows, dt.date.today())
    ]
    console.print(frame_table(pd.DataFrame(loads), title="Caseloads"))
