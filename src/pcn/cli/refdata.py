"""``pcn refdata``: look things up in the shipped reference data."""

from __future__ import annotations

import typer

from pcn import refdata as rd
from pcn.cli.common import console, frame_table, user_errors

app = typer.Typer(
    help="Look up practices, PCNs, LSOAs and codelists in the reference data.", no_args_is_help=True
)


@app.command("pcn")
def pcn(code: str = typer.Argument(..., help="PCN ODS code, e.g. U55830")) -> None:
    """Print a PCN's member practices with list sizes and age structure."""
    with user_errors(rd.UnknownCode):
        df = rd.pcn_practices(code)
    view = df[
        [
            "practice_code",
            "practice_name",
            "list_size",
            "age_0_64",
            "age_65_over",
            "percent_male",
            "postcode",
        ]
    ].copy()
    view["percent_male"] = (view.percent_male * 100).round(1)
    first = df.iloc[0]
    console.print(
        f"[bold]{first.pcn_name}[/] ({first.pcn_code}) — {first.sub_icb_name}, "
        f"{first.icb_name}, {first.region_name}"
    )
    console.print(frame_table(view))
    total = int(df.list_size.fillna(0).sum())
    console.print(f"{len(df)} practices, {total:,} registered patients (Apr 2020 list sizes)")


@app.command("pcns")
def pcns(
    search: str = typer.Option("", help="Filter PCN or ICB names containing this text."),
) -> None:
    """List PCNs (code, name, ICB, practices, list size)."""
    df = rd.pcns()
    if search:
        mask = df.pcn_name.str.contains(search, case=False) | df.icb_name.str.contains(
            search, case=False
        )
        df = df[mask]
    console.print(
        frame_table(
            df[["pcn_code", "pcn_name", "icb_code", "practices", "list_size"]], max_rows=2000
        )
    )
    console.print(f"{len(df)} PCNs")


@app.command("practice")
def practice(code: str = typer.Argument(..., help="Practice ODS code, e.g. A81016")) -> None:
    """Print one practice's reference data."""
    with user_errors(rd.UnknownCode):
        row = rd.practice(code)
    for k, v in row.items():
        console.print(f"[bold]{k}[/]: {v}")


@app.command("lsoa")
def lsoa(code: str = typer.Argument(..., help="LSOA 2011 code, e.g. E01012000")) -> None:
    """Print an LSOA's deprivation, rurality and population."""
    with user_errors(rd.UnknownCode):
        row = rd.lsoa(code)
    console.print(f"[bold]{code.upper()}[/] {row['lsoa_name']}")
    for k, v in row.items():
        if k != "lsoa_name":
            console.print(f"  {k}: {v}")


@app.command("near")
def near(
    code: str = typer.Argument(..., help="Practice ODS code"),
    n: int = typer.Option(15, help="How many LSOAs to show."),
) -> None:
    """The LSOAs nearest a practice, with IMD decile and distance."""
    with user_errors(rd.UnknownCode):
        df = rd.lsoas_near(code, n=n)
    df["distance_km"] = df.distance_km.round(2)
    console.print(
        frame_table(
            df[["lsoa_code", "lsoa_name", "imd_decile", "rural_urban", "pop_total", "distance_km"]]
        )
    )


@app.command("codelist")
def codelist(
    codelist_id: str = typer.Argument(
        "", help="Codelist id (file name without .csv); omit to list them all."
    ),
) -> None:
    """List codelists, or print one codelist's codes and terms."""
    if not codelist_id:
        for cid in rd.codelist_ids():
            console.print(cid, highlight=False)
        return
    with user_errors(rd.UnknownCodelist):
        cl = rd.codelist(codelist_id)
    for code in sorted(cl.codes):
        console.print(f"{code}\t{cl.terms[code]}", highlight=False)
    console.print(f"{len(cl)} codes", style="dim")
