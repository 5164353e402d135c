"""The access dashboard and the rota pages (issue 20): who sees what, and what they see."""

from __future__ import annotations

import datetime as dt

from pcn.capacity.exceptions import add_exception, remove_exception
from pcn.record.store import open_record
from pcn.reporting.display import date


def test_manager_sees_every_practice_today_this_week_forecast_and_staffing(
    clients, web_world
) -> None:  # type: ignore[no-untyped-def]
    page = clients["manager"].get("/access")
    assert page.status_code == 200
    html = page.text
    today, monday = date(dt.date(2026, 3, 31)), date(dt.date(2026, 3, 30))
    for heading in (
        f"Today, {today}",
        f"This week, from {monday} to {today}",
        "Trend: the last 12 weeks",
        "Forecast: requests in the next 8 weeks",
        "Staff needed to meet the target wait",
    ):
        assert heading in html
    names = open_record(web_world.record).read("practices").to_pandas()
    for name in names["name"]:
        assert str(name).replace("&", "&amp;") in html
    assert "Erlang C" in html and "Requests arrive at random" in html
    assert ">nan<" not in html and ">None<" not in html and "NaT" not in html


def test_a_practice_clinician_sees_only_their_practice(clients, web_world) -> None:  # type: ignore[no-untyped-def]
    names = open_record(web_world.record).read("practices").to_pandas().set_index("practice_code")
    own, other = web_world.practices[0], web_world.practices[1]
    html = clients["clin_a"].get("/access").text
    assert str(names.loc[own, "name"]).replace("&", "&amp;") in html
    assert str(names.loc[other, "name"]).replace("&", "&amp;") not in html


def test_rota_shows_bank_holidays_and_recorded_leave(clients, web_world) -> None:  # type: ignore[no-untyped-def]
    staff = open_record(web_world.record).read("staff").to_pandas()
    someone = str(staff[staff["end_date"].isna()]["clinician_id"].iloc[0])
    html = clients["manager"].get("/rota?week=2026-03-30").text
    assert f"Friday {date(dt.date(2026, 4, 3))}" in html and "Bank holiday: Good Friday" in html
    new_id = add_exception(
        web_world.store, someone, dt.date(2026, 4, 13), dt.date(2026, 4, 17), "study_leave", "test"
    )
    try:
        html = clients["manager"].get("/rota?week=2026-04-13").text
        row = html[html.index(f">{someone}<") :]
        row = row[: row.index("</tr>")]
        assert "Away: study leave" in row
    finally:
        remove_exception(web_world.store, new_id)


def test_roles_without_aggregates_do_not_see_access_or_rota(clients) -> None:  # type: ignore[no-untyped-def]
    for path in ("/access", "/rota"):
        assert clients["admin"].get(path).status_code == 404
