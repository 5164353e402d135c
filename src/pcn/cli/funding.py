"""``pcn funding`` and ``pcn arrs``: weighted populations, DES money and workforce benchmarks."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape

from pcn.cli.common import console, err_console, frame_table, require_record_dir, user_errors

app = typer.Typer(help="Weighted populations, Network Contract DES money and workforce "
                  "benchmarks.", no_args_is_help=True)
arrs_app = typer.Typer(help="The Additional Roles Reimbursement Scheme (ARRS).",
                       no_args_is_help=True)

RecordOpt = Annotated[Path, typer.Option("--record", help="Network record directory.")]


def _errors() -> tuple[type[BaseException], ...]:
    from pcn.funding.benchmarks import NoWorkforceData
    from pcn.funding.definitions import FundingDefinitionError
    from pcn.funding.money import MissingPublishedList, UnknownPcn, UnknownYear
    from pcn.funding.weighted import FundingInputError
    from pcn.record.store import RecordError

    return (RecordError, FundingInputError, FundingDefinitionError, UnknownPcn, UnknownYear,
            MissingPublishedList, NoWorkforceData, FileNotFoundError)


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


def _money(value: float | None) -> str:
    return "not available" if value is None or pd.isna(value) else f"£{value:,.2f}"


def _num(value: float | None, digits: int = 0) -> str:
    return "not available" if value is None or pd.isna(value) else f"{value:,.{digits}f}"


@app.command("weighted-list")
def weighted_list(
    record: RecordOpt,
    output: Annotated[Path, typer.Option("--output", help="CSV to write.")],
) -> None:
    """Weighted list per practice under each formula (carr_hill, imd_need), beside the published
    one: columns practice_code,registered,weighted_estimate,weighted_published,formula."""
    from pcn.funding.weighted import comparison, record_population, weighted_lists

    require_record_dir(record)
    with user_errors(*_errors()), console.status("weighting the registered list…"):
        pop = record_population(record)
        table = weighted_lists(pop.patients, list(pop.practices["practice_code"]))
        buffer = io.StringIO()
        table.to_csv(buffer, index=False, lineterminator="\n", float_format="%.2f")
        _write_atomically(buffer.getvalue(), output)
        report = comparison(pop)
    console.print(_comparison_table(report))
    console.print(f"[green]written[/] {output}: {len(table)} rows "
                  f"({len(pop.practices)} practices × 2 formulas), record date {pop.as_of}; "
                  f"{pop.opted_out_left_out:,} opted-out patients left out (planning use)")


def _comparison_table(df: pd.DataFrame) -> object:
    view = pd.DataFrame({
        "Practice": df["practice_code"],
        "Registered (record)": df["registered"].map(_num),
        "Carr-Hill-style": df["carr_hill"].map(_num),
        "Published 2022/23": df["weighted_published"].map(_num),
        "Error %": df["error_pct"].map(lambda v: _num(v, 1)),
        "of which list %": df["list_effect_pct"].map(lambda v: _num(v, 1)),
        "opted out %": df["opt_out_effect_pct"].map(lambda v: _num(v, 1)),
        "age mix %": df["age_mix_effect_pct"].map(lambda v: _num(v, 1)),
        "missing components %": df["missing_components_pct"].map(lambda v: _num(v, 1)),
        "IMD need": df["imd_need"].map(_num),
    })
    return frame_table(view, title="Weighted list: estimate from the record against the published")


@app.command("report")
def report(record: RecordOpt) -> None:
    """Estimate against published per practice, what each component contributes, and the money
    each formula would allocate at the 2022/23 Global Sum per weighted patient."""
    from pcn.funding.definitions import carr_hill
    from pcn.funding.weighted import (
        GLOBAL_SUM_RATE_SOURCE,
        comparison,
        global_sum_rate,
        record_population,
    )

    require_record_dir(record)
    with user_errors(*_errors()), console.status("weighting the registered list…"):
        pop = record_population(record)
        df = comparison(pop)
    console.print(_comparison_table(df))
    console.print(f"{pop.opted_out_left_out:,} registered patients who opted out (type 1 or "
                  "national data opt-out) are left out, as from every planning output; the "
                  "published lists count them.")
    money = pd.DataFrame({
        "Practice": df["practice_code"],
        "Carr-Hill-style £": df["allocation_carr_hill"].map(_money),
        "IMD need £": df["allocation_imd_need"].map(_money),
        "Difference £": df["allocation_difference"].map(_money),
        "Published Global Sum 2022/23 £": df["global_sum_published"].map(_money),
    })
    console.print(frame_table(money, title="Allocation under each formula"))
    console.print(f"Rate: £{global_sum_rate():.2f} — {GLOBAL_SUM_RATE_SOURCE}")
    console.print("\n[bold]Carr-Hill components[/]")
    for c in carr_hill().components:
        console.print(escape(f"- {c.title} [{c.status.replace('_', ' ')}]: {c.pcn}"))


@app.command("summary")
def summary(
    pcn: Annotated[str, typer.Option("--pcn", help="PCN ODS code, e.g. U55830.")],
    year: Annotated[str, typer.Option("--year", help="Financial year, e.g. 2025/26.")] = "2025/26",
    record: Annotated[Path | None, typer.Option(
        "--record", help="Network record: counts coded care home residents as a stand-in for "
        "CQC beds (otherwise the care home premium is not available).")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Also write a CSV.")] = None,
) -> None:
    """The PCN's Network Contract DES money for a year: every line with its rate, population,
    amount, year and sources."""
    from pcn.funding.summary import funding_summary

    if record is not None:
        require_record_dir(record)
    with user_errors(*_errors()):
        s = funding_summary(pcn, year, record)
    view = pd.DataFrame({
        "Line": s.lines["title"], "Rate £": s.lines["rate"].map(lambda v: f"{v:,.3f}"),
        "Per": s.lines["population_text"], "Population": s.lines["population"].map(_num),
        "Amount": s.lines["amount"].map(_money), "Year": s.lines["year"],
        "Sources": s.lines["sources"]})
    console.print(f"[bold]{s.pcn_name}[/] ({s.pcn_code}) — Network Contract DES {s.year}")
    console.print(frame_table(view))
    console.print(f"Total of the lines with an amount: {_money(s.total)} ({s.year}); "
                  f"populations from {s.population_source}")
    for note in s.notes:
        console.print(f"- {note}")
    if output is not None:
        with user_errors(*_errors()):
            _write_atomically(s.csv(), output)
        console.print(f"[green]written[/] {output}")


@app.command("benchmarks")
def benchmarks(
    pcn: Annotated[str, typer.Option("--pcn", help="PCN ODS code, e.g. U55830.")],
    year: Annotated[int, typer.Option("--year", help="Workforce census year (2020-2025).")] = 2024,
) -> None:
    """PCN-employed FTE per 1,000 registered patients by staff group against PCNs in the same
    IMD quintile and England (NHS Digital PCN workforce)."""
    from pcn.funding.benchmarks import benchmark
    from pcn.refdata.funding import WORKFORCE_SOURCE

    with user_errors(*_errors()):
        df = benchmark(pcn, year)
    view = pd.DataFrame({
        "Staff group": df["staff_group"], "FTE": df["fte"].map(lambda v: _num(v, 2)),
        "FTE per 1,000": df["fte_per_1000"].map(lambda v: _num(v, 3)),
        "Peer median": df["peer_median"].map(lambda v: _num(v, 3)),
        "Peer IQR": [f"{a:.3f}–{b:.3f}" for a, b in zip(df["peer_q1"], df["peer_q3"],
                                                        strict=True)],
        "England median": df["england_median"].map(lambda v: _num(v, 3))})
    console.print(frame_table(view, title=f"{pcn.upper()} workforce {year}: peers are the "
                              f"{int(df['peers'].iloc[0])} PCNs in IMD quintile "
                              f"{int(df['imd_quintile'].iloc[0])} (5 = most deprived)"))
    console.print(f"Sources: {WORKFORCE_SOURCE}; registered lists from NHS Payments to General "
                  "Practice 2022-23.")


@arrs_app.command("entitlement")
def entitlement(
    pcn: Annotated[str, typer.Option("--pcn", help="PCN ODS code, e.g. U55830.")],
    year: Annotated[str, typer.Option("--year", help="Financial year, e.g. 2025/26.")],
) -> None:
    """The PCN's ARRS entitlement for a year in pounds: rate × PCN weighted population."""
    from pcn.funding.money import arrs_entitlement

    with user_errors(*_errors()):
        e = arrs_entitlement(pcn, year)
    typer.echo(f"£{e.amount:,.2f}")
    err_console.print(
        f"{e.pcn_name} ({e.pcn_code}) ARRS {e.year}: £{e.rate:.3f} × "
        f"{e.weighted_population:,.2f} weighted patients. Population: {e.population_text}. "
        f"Rate sources: {'; '.join(e.sources)}." + (f" {e.note}" if e.note else ""))
