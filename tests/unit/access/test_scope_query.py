"""scope_patients applied to a patient_profile query in DuckDB, through Ibis and through SQL."""

from __future__ import annotations

import datetime as dt

import duckdb
import ibis
import pyarrow as pa
import pytest

from pcn.access.policy import (
    NETWORK,
    AccessContext,
    Action,
    Agreement,
    BreakGlassGrant,
    DataScope,
    Principal,
    Purpose,
    Role,
    scope_patients,
)

NOW = dt.datetime(2026, 3, 31, 12, 0)
PROFILE = pa.table({
    "patient_id": [1, 2, 3, 4, 5, 6],
    "practice_code": ["A81001", "A81001", "B82002", "B82002", "C83003", "C83003"],
    "age": [70, 45, 81, 30, 66, 52],
})
GP_A = Principal("gp.a", Role.PRACTICE_CLINICIAN, "A81001")
B_TO_A = Agreement(1, frozenset({"B82002"}), frozenset({"A81001"}), DataScope.VIEW,
                   Purpose.DIRECT_CARE, dt.date(2026, 1, 1))
GRANT_5 = BreakGlassGrant(9, "gp.a", 5, NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=7))


def _ibis_ids(scope) -> list[int]:  # type: ignore[no-untyped-def]
    raw = duckdb.connect()
    raw.register("profile_arrow", PROFILE)
    raw.execute("CREATE TABLE patient_profile AS SELECT * FROM profile_arrow")
    table = ibis.duckdb.from_connection(raw).table("patient_profile")
    query = table.filter(scope.ibis_filter(table)).order_by("patient_id")
    return query.to_pyarrow()["patient_id"].to_pylist()


def _sql_ids(scope) -> list[int]:  # type: ignore[no-untyped-def]
    con = duckdb.connect()
    con.register("patient_profile", PROFILE)
    predicate, params = scope.sql_filter()
    rows = con.execute(f"SELECT patient_id FROM patient_profile WHERE {predicate} "
                       "ORDER BY patient_id", params).fetchall()
    return [r[0] for r in rows]


# ibis 10 still calls a DuckDB method that DuckDB 1.5 deprecated; not ours to fix.
@pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")
@pytest.mark.parametrize(("principal", "context", "purpose", "action", "expected"), [
    (GP_A, AccessContext(NOW), Purpose.DIRECT_CARE, Action.SEARCH_PATIENTS, [1, 2]),
    (GP_A, AccessContext(NOW, (B_TO_A,)), Purpose.DIRECT_CARE, Action.SEARCH_PATIENTS,
     [1, 2, 3, 4]),
    # the agreement is for direct care, not population health
    (GP_A, AccessContext(NOW, (B_TO_A,)), Purpose.POPULATION_HEALTH, Action.SEARCH_PATIENTS,
     [1, 2]),
    # break-glass adds one patient for viewing only
    (GP_A, AccessContext(NOW, (B_TO_A,), (GRANT_5,)), Purpose.DIRECT_CARE, Action.VIEW_PATIENT,
     [1, 2, 3, 4, 5]),
    (GP_A, AccessContext(NOW, (B_TO_A,), (GRANT_5,)), Purpose.DIRECT_CARE,
     Action.SEARCH_PATIENTS, [1, 2, 3, 4]),
    (GP_A, AccessContext(NOW, (B_TO_A,)), Purpose.PLANNING, Action.SEARCH_PATIENTS, []),
    (Principal("ana", Role.ANALYST, None), AccessContext(NOW, (B_TO_A,)), Purpose.DIRECT_CARE,
     Action.SEARCH_PATIENTS, []),
    (Principal("cd", Role.CLINICAL_DIRECTOR, None),
     AccessContext(NOW, (Agreement(2, frozenset({"A81001", "C83003"}), frozenset({NETWORK}),
                                   DataScope.VIEW_AND_EXPORT, Purpose.POPULATION_HEALTH,
                                   dt.date(2026, 1, 1)),)),
     Purpose.POPULATION_HEALTH, Action.EXPORT_IDENTIFIABLE, [1, 2, 5, 6]),
    (Principal("gp.a", Role.PRACTICE_CLINICIAN, "A81001", active=False), AccessContext(NOW),
     Purpose.DIRECT_CARE, Action.SEARCH_PATIENTS, []),
])
def test_scope_filters_patient_profile_identically_in_ibis_and_sql(
        principal: Principal, context: AccessContext, purpose: Purpose, action: Action,
        expected: list[int]) -> None:
    scope = scope_patients(principal, purpose, context, action)
    assert _ibis_ids(scope) == expected
    assert _sql_ids(scope) == expected
