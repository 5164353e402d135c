"""The PCN funding summary page: DES money for a year, the weighted list, workforce benchmarks.

Aggregate, non-identifiable figures: the page needs ``view_aggregates`` and its CSV download
``export_aggregates`` (:mod:`pcn.web.guarded`), like every other aggregate page. Every money figure
says its financial year and its source.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from pcn.access.guard import NotFound
from pcn.web import guarded
from pcn.web.pages import SignedIn, _store, _view, render

router = APIRouter(include_in_schema=False)
DEFAULT_YEAR = "2025/26"
BENCHMARK_YEAR = 2024


@lru_cache(maxsize=4)
def _comparison(record_dir: str, content_hash: str) -> tuple[pd.DataFrame, int]:
    from pcn.funding.weighted import comparison, record_population

    pop = record_population(Path(record_dir))
    return comparison(pop), int(pop.patients["care_home"].sum())


def _year(raw: str | None) -> str:
    from pcn.funding.money import arrs_years, funding_years

    years = sorted(set(arrs_years()) | set(funding_years()))
    if raw is None or raw == "":
        return DEFAULT_YEAR
    if raw not in years:
        raise NotFound()
    return raw


def _protected(comparison: pd.DataFrame, residents: int) -> tuple[pd.DataFrame, int | None]:
    """Disclosure control for roles outside the clinical boundary (pcn.measures.sdc): patient
    counts rounded to 5, counts of 1-7 hidden (then the figure built on it is not available)."""
    from pcn.measures.sdc import protect_counts

    out = comparison.copy()
    out["registered"] = protect_counts(out["registered"].astype("int64")).astype("Float64")
    shown = protect_counts(pd.Series([residents], name="residents", dtype="int64")).iloc[0]
    return out, (None if pd.isna(shown) else int(shown))


def _residents(request: Request, protected: bool) -> tuple[pd.DataFrame, int | None]:
    view = _view(request)
    comparison, residents = _comparison(str(view.record_dir), view.record.manifest.content_hash)
    if protected:
        return _protected(comparison, residents)
    return comparison, residents


def _page_data(request: Request, year: str, protected: bool) -> dict[str, Any]:
    from pcn.funding.benchmarks import NoWorkforceData, benchmark
    from pcn.funding.definitions import carr_hill, imd_need
    from pcn.funding.money import MissingPublishedList, UnknownPcn, arrs_years, funding_years
    from pcn.funding.summary import funding_summary
    from pcn.funding.weighted import GLOBAL_SUM_RATE_SOURCE, global_sum_rate
    from pcn.refdata.funding import WORKFORCE_SOURCE

    view = _view(request)
    comparison, residents = _residents(request, protected)
    summary = None
    problem = None
    try:
        summary = funding_summary(view.pcn_code, year, care_home_beds=residents)
    except (MissingPublishedList, UnknownPcn) as e:
        problem = str(e).strip("'\"")
    try:
        workforce = benchmark(view.pcn_code, BENCHMARK_YEAR)
    except (NoWorkforceData, UnknownPcn):
        workforce = None
    return {"year": year, "years": sorted(set(arrs_years()) | set(funding_years())),
            "summary": summary, "problem": problem, "comparison": comparison,
            "components": carr_hill().components, "carr_hill": carr_hill(),
            "imd_need": imd_need(), "rate": global_sum_rate(),
            "rate_source": GLOBAL_SUM_RATE_SOURCE, "workforce": workforce,
            "workforce_year": BENCHMARK_YEAR, "workforce_source": WORKFORCE_SOURCE}


@router.get("/funding")
def funding(request: Request, principal: SignedIn, year: str | None = None) -> Response:
    protected = guarded.aggregates(_store(request), principal, "/funding",
                                   year=year or DEFAULT_YEAR)
    chosen = _year(year)
    return render(request, "funding.html", principal, **_page_data(request, chosen, protected))


@router.get("/funding/export.csv")
def funding_export(request: Request, principal: SignedIn, year: str | None = None) -> Response:
    from pcn.funding.summary import funding_summary

    guarded.export_aggregates(_store(request), principal, "/funding/export.csv",
                              year=year or DEFAULT_YEAR)
    chosen = _year(year)
    view = _view(request)
    # exports always go through disclosure control (pcn.web.guarded.export_aggregates)
    _, residents = _residents(request, protected=True)
    try:
        summary = funding_summary(view.pcn_code, chosen, care_home_beds=residents)
    except LookupError:
        raise NotFound() from None
    filename = f"funding_{view.pcn_code}_{chosen.replace('/', '-')}.csv"
    return StreamingResponse(iter([summary.csv()]), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
