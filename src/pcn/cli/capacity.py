"""``pcn capacity`` and ``pcn rota``: who works when, demand against capacity, forecasts."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from pcn.cli.common import console, fail, frame_table, require_record_dir, user_errors

app = typer.Typer(
    help="Demand against capacity by role and practice, forecasts and staffing.",
    no_args_is_help=True,
)
rota_app = typer.Typer(
    help="Who works when: the rota from the staff register, and the leave "
    "and training the PCN records against it.",
    no_args_is_help=True,
)

RecordOption = Annotated[Path, typer.Option("--record", help="Record directory.")]


def _date(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


def _open(record: Path) -> Any:
    from pcn.record.store import RecordError, open_record

    require_record_dir(record)
    with user_errors(RecordError):
        return open_record(record)


def _recorded_exceptions(start: dt.date, end: dt.date) -> list[Any]:
    """Exceptions from the store when one is set up; none otherwise (the twin's own leave)."""
    from sqlalchemy.exc import SQLAlchemyError

    from pcn.capacity.exceptions import list_exceptions
    from pcn.store.database import StoreError, open_store

    try:
        store = open_store()
    except StoreError:
        return []
    try:
        return [ex for _, ex in list_exceptions(store, start, end)]
    except SQLAlchemyError:  # a store not migrated yet has no exceptions to apply
        return []
    finally:
        store.dispose()


@app.command("report")
def report(
    record: RecordOption,
    start: Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last date (inclusive), YYYY-MM-DD.")],
    output: Annotated[Path, typer.Option("--output", help="CSV file to write.")],
) -> None:
    """Capacity, booked minutes, demand and 8-week forecast per date x practice x role (CSV).

    Planning figures: patients who opted out of secondary use are left out of the demand
    counts. Forecast columns are empty outside the 8 weeks after the record's last complete
    week; demand is empty for days after the record's date.
    """
    from pcn.access.secondary_use import opted_out
    from pcn.capacity.report import capacity_report

    lo, hi = _date(start, "--from"), _date(end, "--to")
    if hi < lo:
        raise fail("--to: is before --from")
    if (hi - lo).days > 3 * 366:
        raise fail("--to: a report covers at most three years")
    rec = _open(record)
    with console.status("reading the register, rota and appointments; forecasting"):
        table = capacity_report(rec, lo, hi, _recorded_exceptions(lo, hi), excluded=opted_out(rec))
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    table.to_csv(tmp, index=False)
    tmp.replace(output)
    console.print(f"wrote {len(table):,} rows to {output}")


@app.command("backtest")
def backtest_command(
    record: RecordOption, origins: Annotated[int, typer.Option(min=1, max=26)] = 6
) -> None:
    """Rolling-origin backtest of the 8-week demand forecast against the seasonal naive.

    Prints the mean absolute error per practice x role x week of both and their ratio (below 1
    means the forecast beats the naive).
    """
    from pcn.access.secondary_use import opted_out
    from pcn.capacity.demand import daily_demand
    from pcn.capacity.forecast import backtest
    from pcn.capacity.report import HISTORY_WEEKS, record_as_of

    rec = _open(record)
    as_of = record_as_of(rec)
    with console.status("backtesting"):
        daily = daily_demand(
            rec, as_of - dt.timedelta(weeks=HISTORY_WEEKS + 40), as_of, excluded=opted_out(rec)
        )
        from pcn.capacity.forecast import weekly_series

        with user_errors(ValueError):
            result = backtest(weekly_series(daily, as_of), origins=origins)
    console.print(
        f"origins: {', '.join(o.isoformat() for o in result.origins)}; horizon "
        f"{result.horizon_weeks} weeks; {result.series} practice x role series"
    )
    console.print(
        f"MAE forecast {result.model_mae:.2f}, seasonal naive {result.naive_mae:.2f} "
        f"requests per week; MAE ratio {result.mae_ratio:.3f}"
    )


@app.command("declare")
def declare(
    record: RecordOption,
    day: Annotated[str, typer.Option("--date", help="Day, YYYY-MM-DD (default today).")] = "",
) -> None:
    """Declare each practice's free slots per role for a day from the rota, for triage routing.

    Free = bookable slots of the staff working that day less appointments already booked.
    """
    from pcn.capacity.demand import daily_demand
    from pcn.capacity.report import is_twin, read_inputs, rota_for
    from pcn.capacity.rota import capacity_by_day
    from pcn.capacity.routing import declare_free_slots, free_slots
    from pcn.cli.store import _store

    rec = _open(record)
    on = _date(day, "--date") if day else dt.date.today()
    inputs = read_inputs(rec)
    capacity = capacity_by_day(
        rota_for(inputs, on, on, _recorded_exceptions(on, on), twin=is_twin(rec)),
        inputs.practice_weights,
    )
    demand = daily_demand(rec, on, on)
    store = _store()
    rows = []
    for practice in sorted(inputs.practice_weights):
        free = free_slots(capacity, demand, practice, on)
        declare_free_slots(store, practice, on, free, f"os:{getpass.getuser()}")
        rows.append({"practice": practice, **free})
    import pandas as pd

    console.print(frame_table(pd.DataFrame(rows), title=f"Free slots declared for {on:%d %B %Y}"))


@app.command("access")
def access_measures(
    months: Annotated[int, typer.Option(min=1, max=36, help="Months of requests.")] = 12,
) -> None:
    """Access measures from online requests in the store: answered within one working day,
    urgent answered the same working day, received in core hours; per practice with funnel
    position against the network, and the network's monthly SPC.

    Counts pass disclosure control (1-7 hidden, others rounded to 5).
    """
    from pcn.capacity.measures import MEASURES, access_summary, read_requests, request_measures
    from pcn.cli.store import _store
    from pcn.measures.sdc import protect_counts
    from pcn.store.database import now_utc

    now = now_utc()
    requests = read_requests(_store(), now - dt.timedelta(days=31 * months))
    if requests.empty:
        console.print("Not available: no online requests in the store for this period.")
        return
    per_request = request_measures(requests, now)
    for measure, title in MEASURES.items():
        points, chart = access_summary(per_request, measure)
        shown = points[["practice_code", "numerator", "denominator"]].copy()
        for col in ("numerator", "denominator"):
            shown[col] = protect_counts(shown[col].reset_index(drop=True)).to_numpy()
        shown["share"] = points["value"].round(3).where(shown["denominator"].notna())
        shown["funnel"] = points["position"].where(shown["denominator"].notna(), "hidden")
        console.print(frame_table(shown, title=title))
        if chart is not None:
            variation = getattr(chart, "variation", None)
            console.print(f"  monthly SPC: {variation or 'too few months to judge'}")


@rota_app.command("show")
def rota_show(
    record: RecordOption,
    start: Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD.")],
    days: Annotated[int, typer.Option(min=1, max=62, help="Days to show.")] = 7,
    practice: Annotated[str, typer.Option(help="Practice code; empty = all.")] = "",
) -> None:
    """Who works each day (sessions), and who is away and why."""
    from pcn.capacity.report import is_twin, read_inputs, rota_for

    rec = _open(record)
    lo = _date(start, "--from")
    inputs = read_inputs(rec)
    rota = rota_for(
        inputs,
        lo,
        lo + dt.timedelta(days=days - 1),
        _recorded_exceptions(lo, lo + dt.timedelta(days=days - 1)),
        twin=is_twin(rec),
    )
    if practice:
        rota = rota[rota["practice_code"] == practice]
    console.print(frame_table(rota, title="Rota", max_rows=500))


@rota_app.command("away")
def rota_away(
    clinician_id: Annotated[str, typer.Option("--who", help="Staff id from the register.")],
    start: Annotated[str, typer.Option("--from", help="First day away, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day away (inclusive).")],
    kind: Annotated[
        str, typer.Option(help="annual_leave, study_leave, training, sickness, other")
    ] = "annual_leave",
    note: str = "",
    record: Annotated[
        Path | None, typer.Option("--record", help="Record whose staff register the id must be in.")
    ] = None,
) -> None:
    """Record leave, training or sickness against someone's rota."""
    from pcn.capacity.exceptions import ExceptionError, add_exception
    from pcn.cli.store import _store

    known = None
    if record is not None:
        known = set(_open(record).read("staff", columns=["clinician_id"]).column(0).to_pylist())
    with user_errors(ExceptionError):
        new_id = add_exception(
            _store(),
            clinician_id,
            _date(start, "--from"),
            _date(end, "--to"),
            kind,
            f"os:{getpass.getuser()}",
            note,
            known,
        )
    console.print(f"recorded exception {new_id}")


@rota_app.command("exceptions")
def rota_exceptions() -> None:
    """List the leave, training and sickness recorded against the rota."""
    import pandas as pd

    from pcn.capacity.exceptions import list_exceptions
    from pcn.cli.store import _store

    rows = [
        {
            "id": i,
            "who": e.clinician_id,
            "from": e.start_date.isoformat(),
            "to": e.end_date.isoformat(),
            "kind": e.kind,
        }
        for i, e in list_exceptions(_store())
    ]
    console.print(
        frame_table(
            pd.DataFrame(rows, columns=["id", "who", "from", "to", "kind"]), title="Rota exceptions"
        )
    )


@rota_app.command("remove")
def rota_remove(
    exception_id: Annotated[int, typer.Argument(help="Id from `pcn rota exceptions`.")],
) -> None:
    """Remove a recorded exception."""
    from pcn.capacity.exceptions import remove_exception
    from pcn.cli.store import _store

    if not remove_exception(_store(), exception_id):
        raise fail(f"no rota exception {exception_id}")
    console.print(f"removed exception {exception_id}")
