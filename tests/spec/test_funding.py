"""Weighted populations, ARRS entitlement and DES lines on tiny hand-made populations.

Expected values are worked out here by hand from the coefficients the definition files publish
(definitions/funding/carr_hill.yaml) and from the published lists, never read back from the code.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pcn.cli.main import app
from tests.spec.conftest import build_record, lsoa_row, patient, practice, reg

# carr_hill.yaml, as published: age 0-15, 16-64, 65+ and the rural term per patient
W_0_15, W_16_64, W_65_PLUS, W_RURAL = 0.8699, 0.8425, 1.7533, 0.0241
URBAN = "A81016"  # Park Surgery, Middlesbrough: "Urban" in NHS Payments 2022-23
RURAL = "A81013"  # a practice the 2022-23 publication classes "Rural" (checked below)
UNLISTED = "A00001"  # not in the publication
AS_OF = dt.date(2026, 3, 31)
runner = CliRunner()


def said(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.output.split())


def payments_row(code: str) -> pd.Series:
    from pcn.refdata.funding import gp_payments

    pay = gp_payments()
    return pay[pay["practice_code"] == code].iloc[0]


def need_index_by_hand(decile: int) -> float:
    """QOF 2019-20 prevalence summed over the 21 register groups in the decile, over the
    England mean of that sum weighted by each decile's whole list (the AF group's list)."""
    from pcn.refdata import qof_prevalence_by_imd

    q = qof_prevalence_by_imd()
    burden = {d: q[q.imd_decile == d].prevalence.sum() for d in range(1, 11)}
    lists = {d: float(q[(q.imd_decile == d) & (q.group_code == "AF")].list_size.iloc[0])
             for d in range(1, 11)}
    mean = sum(burden[d] * lists[d] for d in lists) / sum(lists.values())
    return burden[decile] / mean


def test_the_rural_and_urban_practices_are_classed_as_the_tests_assume() -> None:
    assert payments_row(URBAN)["rurality"] == "Urban"
    assert payments_row(RURAL)["rurality"] == "Rural"


def tiny_population() -> pd.DataFrame:
    # URBAN: a child (decile 1), two working-age adults (deciles 1 and 10), one 80-year-old
    #   with no known LSOA. RURAL: one 15-year-old and one 65-year-old (decile 10).
    return pd.DataFrame([
        {"practice_code": URBAN, "age": 4, "imd_decile": 1},
        {"practice_code": URBAN, "age": 16, "imd_decile": 1},
        {"practice_code": URBAN, "age": 64, "imd_decile": 10},
        {"practice_code": URBAN, "age": 80, "imd_decile": None},
        {"practice_code": RURAL, "age": 15, "imd_decile": 10},
        {"practice_code": RURAL, "age": 65, "imd_decile": 10},
    ])


def test_carr_hill_style_weights_by_hand() -> None:
    from pcn.funding.weighted import weighted_lists

    got = weighted_lists(tiny_population(), [URBAN, RURAL])
    ch = got[got.formula == "carr_hill"].set_index("practice_code")
    assert ch.loc[URBAN, "weighted_estimate"] == pytest.approx(
        W_0_15 + W_16_64 + W_16_64 + W_65_PLUS, abs=0.005)
    assert ch.loc[RURAL, "weighted_estimate"] == pytest.approx(
        (W_0_15 + W_RURAL) + (W_65_PLUS + W_RURAL), abs=0.005)
    assert ch.loc[URBAN, "registered"] == 4 and ch.loc[RURAL, "registered"] == 2
    assert ch.loc[URBAN, "weighted_published"] == pytest.approx(
        payments_row(URBAN)["weighted_patients"])


def test_deprivation_adjusted_weights_by_hand() -> None:
    from pcn.funding.weighted import weighted_lists

    n1, n10 = need_index_by_hand(1), need_index_by_hand(10)
    assert n1 > 1 > n10  # the most deprived decile carries more need than the least
    got = weighted_lists(tiny_population(), [URBAN, RURAL])
    dep = got[got.formula == "imd_need"].set_index("practice_code")
    # the patient with no LSOA keeps need 1 (imd_need.yaml missing_decile_need)
    assert dep.loc[URBAN, "weighted_estimate"] == pytest.approx(
        W_0_15 * n1 + W_16_64 * n1 + W_16_64 * n10 + W_65_PLUS * 1.0, abs=0.005)
    assert dep.loc[RURAL, "weighted_estimate"] == pytest.approx(
        (W_0_15 + W_RURAL) * n10 + (W_65_PLUS + W_RURAL) * n10, abs=0.005)


def test_need_index_averages_one_over_england() -> None:
    from pcn.funding.weighted import need_by_decile
    from pcn.refdata import qof_prevalence_by_imd

    q = qof_prevalence_by_imd()
    lists = q[q.group_code == "AF"].set_index("imd_decile").list_size
    needs = need_by_decile()
    mean = sum(needs[int(d)] * float(n) for d, n in lists.items()) / float(lists.sum())
    assert mean == pytest.approx(1.0, abs=1e-9)


def test_a_negative_or_missing_age_is_refused_naming_the_row() -> None:
    from pcn.funding.weighted import FundingInputError, weighted_lists

    bad = tiny_population()
    bad.loc[2, "age"] = -1
    with pytest.raises(FundingInputError, match="row 2: age"):
        weighted_lists(bad, [URBAN, RURAL])


def test_the_shipped_weights_are_the_fit_to_the_shipped_data() -> None:
    """carr_hill.yaml records what pcn.funding.fit gives on the shipped reference data."""
    from pcn.funding.definitions import carr_hill
    from pcn.funding.fit import fit

    f = fit()
    spec = carr_hill()
    for band in spec.age_bands:
        assert band.weight == pytest.approx(f.weights[band.id], abs=5e-5), band.id
    assert spec.rural_weight == pytest.approx(f.weights["rural"], abs=5e-5)
    assert spec.fit["n_practices"] == f.n_practices
    assert spec.fit["r_squared"] == pytest.approx(f.r_squared, abs=5e-4)


def test_every_carr_hill_component_says_what_pcn_does_about_it() -> None:
    from pcn.funding.definitions import carr_hill

    comps = {c.id: c for c in carr_hill().components}
    assert set(comps) == {"age_sex_workload", "additional_needs", "list_turnover",
                          "nursing_residential_homes", "market_forces_factor", "rurality"}
    for cid in ("additional_needs", "list_turnover", "nursing_residential_homes",
                "market_forces_factor"):
        assert comps[cid].status == "not_available"


# ---- the CLI contract ---------------------------------------------------------------------
def tiny_record(base: Path) -> Path:
    dob = {4: dt.date(2021, 6, 1), 16: dt.date(2009, 6, 1), 64: dt.date(1961, 6, 1),
           80: dt.date(1945, 6, 1), 15: dt.date(2010, 6, 1), 65: dt.date(1960, 6, 1)}
    people = [(1, URBAN, 4, "E01000001"), (2, URBAN, 16, "E01000001"),
              (3, URBAN, 64, "E01000010"), (4, URBAN, 80, None),
              (5, RURAL, 15, "E01000010"), (6, RURAL, 65, "E01000010"),
              (7, UNLISTED, 64, "E01000010")]
    patients = [patient(pid, dob=dob[age], lsoa=lsoa) for pid, _, age, lsoa in people]
    # one who left and one who died before the record date are not registered
    patients.append(patient(8, dob=dob[64], lsoa="E01000001"))
    patients.append(patient(9, dob=dob[64], lsoa="E01000001", died=dt.date(2025, 1, 1)))
    regs = [reg(pid, prac) for pid, prac, _, _ in people]
    regs.append(reg(8, URBAN, end=dt.date(2024, 1, 1)))
    regs.append(reg(9, URBAN))
    build_record(base, as_of=AS_OF, patients=patients, registrations=regs,
                 practices=[practice(URBAN), practice(RURAL), practice(UNLISTED)],
                 lsoa=[lsoa_row("E01000001", 1), lsoa_row("E01000010", 10)])
    return base


def test_weighted_list_cli_contract(tmp_path: Path) -> None:
    record = tiny_record(tmp_path / "rec")
    out = tmp_path / "weighted.csv"
    result = runner.invoke(app, ["funding", "weighted-list", "--record", str(record),
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    with open(out, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["practice_code", "registered", "weighted_estimate",
                                     "weighted_published", "formula"]
        rows = list(reader)
    assert len(rows) == 6  # 3 practices x 2 formulas
    by = {(r["formula"], r["practice_code"]): r for r in rows}
    assert {f for f, _ in by} == {"carr_hill", "imd_need"}
    urban = by[("carr_hill", URBAN)]
    assert urban["registered"] == "4"
    assert float(urban["weighted_estimate"]) == pytest.approx(
        W_0_15 + 2 * W_16_64 + W_65_PLUS, abs=0.005)
    assert float(urban["weighted_published"]) == pytest.approx(
        payments_row(URBAN)["weighted_patients"], abs=0.005)
    unlisted = by[("carr_hill", UNLISTED)]
    assert unlisted["weighted_published"] == ""  # absent from the publication: empty
    assert float(unlisted["weighted_estimate"]) == pytest.approx(W_16_64, abs=0.005)
    n10 = need_index_by_hand(10)
    assert float(by[("imd_need", UNLISTED)]["weighted_estimate"]) == pytest.approx(
        W_16_64 * n10, abs=0.005)


def test_weighted_list_cli_refuses_a_missing_record_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "weighted.csv"
    result = runner.invoke(app, ["funding", "weighted-list", "--record",
                                 str(tmp_path / "nowhere"), "--output", str(out)])
    assert result.exit_code == 2
    assert "error" in said(result)
    assert not out.exists()
    assert not list(tmp_path.glob(".weighted.csv.*"))


# ---- ARRS and the DES lines ---------------------------------------------------------------
#: Central Middlesbrough PCN's seven practices: weighted lists published for 2022-23
MIDDLESBROUGH = {"A81016": 12051.28, "A81020": 9247.67, "A81023": 9545.47, "A81029": 7910.35,
                 "A81037": 7749.56, "A81064": 8831.46, "A81621": 2843.20}


def test_arrs_entitlement_cli_prints_pounds() -> None:
    result = runner.invoke(app, ["arrs", "entitlement", "--pcn", "U55830", "--year", "2025/26"])
    assert result.exit_code == 0, result.output
    expected = round(26.631 * sum(MIDDLESBROUGH.values()), 2)
    assert result.stdout.splitlines()[0] == f"£{expected:,.2f}"


@pytest.mark.parametrize(("year", "rate"), [("2023/24", 22.671), ("2024/25", 22.894)])
def test_arrs_rate_per_year(year: str, rate: float) -> None:
    from pcn.funding.money import arrs_entitlement

    e = arrs_entitlement("U55830", year)
    assert e.amount == pytest.approx(rate * sum(MIDDLESBROUGH.values()), abs=0.01)
    assert e.sources and all(s.startswith("https://") for s in e.sources)


@pytest.mark.parametrize(("args", "message"), [
    (["--pcn", "U55830", "--year", "2022/23"], "no ARRS rate for 2022/23"),
    (["--pcn", "U55830", "--year", "2025-26"], "not a financial year"),
    (["--pcn", "U00ZZZ", "--year", "2025/26"], "no PCN with ODS code"),
])
def test_arrs_entitlement_refuses_unknown_pcn_or_year(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["arrs", "entitlement", *args])
    assert result.exit_code == 2
    assert message in said(result)
    assert "£" not in result.stdout


def test_funding_lines_2025_26_by_hand() -> None:
    from pcn.funding.summary import funding_summary

    weighted = sum(MIDDLESBROUGH.values())
    registered = float(sum(payments_row(c)["registered_patients"] for c in MIDDLESBROUGH))
    s = funding_summary("U55830", "2025/26", care_home_beds=40)
    lines = s.lines.set_index("stream")
    assert lines.loc["core_pcn_funding", "amount"] == pytest.approx(2.266 * registered, abs=0.01)
    assert lines.loc["enhanced_access", "amount"] == pytest.approx(8.427 * weighted, abs=0.01)
    assert lines.loc["care_home_premium", "amount"] == pytest.approx(130.253 * 40, abs=0.01)
    assert lines.loc["capacity_access_support", "amount"] == pytest.approx(3.208 * weighted,
                                                                           abs=0.01)
    assert lines.loc["arrs", "amount"] == pytest.approx(26.631 * weighted, abs=0.01)
    assert (s.lines["year"] == "2025/26").all()
    assert s.lines["sources"].str.startswith("https://").all()


def test_care_home_premium_is_not_available_without_beds() -> None:
    from pcn.funding.summary import funding_summary

    s = funding_summary("U55830", "2025/26")
    line = s.lines.set_index("stream").loc["care_home_premium"]
    assert pd.isna(line["amount"]) and pd.isna(line["population"])
    assert any("Care home premium: not available" in n for n in s.notes)


def test_funding_summary_cli_writes_a_csv(tmp_path: Path) -> None:
    out = tmp_path / "summary.csv"
    result = runner.invoke(app, ["funding", "summary", "--pcn", "U55830", "--year", "2024/25",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert set(frame["year"]) == {"2024/25"}
    assert "arrs_gp_ringfence" in set(frame["stream"])
    ring = frame.set_index("stream").loc["arrs_gp_ringfence", "amount"]
    assert ring == pytest.approx(1.303 * sum(MIDDLESBROUGH.values()) * 0.5, abs=0.01)


def test_a_pcn_with_a_practice_missing_from_the_publication_gets_no_amount() -> None:
    """U95154's member Y04225 has no 2022-23 published list: no understated total."""
    from pcn.refdata import pcn_practices
    from pcn.refdata.funding import gp_payments

    members = set(pcn_practices("U95154")["practice_code"])
    assert "Y04225" in members
    assert "Y04225" not in set(gp_payments()["practice_code"])
    result = runner.invoke(app, ["arrs", "entitlement", "--pcn", "U95154", "--year", "2025/26"])
    assert result.exit_code == 2
    assert "Y04225" in said(result) and "understated" in said(result)
    assert "£" not in result.stdout


def test_care_home_residents_are_counted_from_the_record_of_that_pcn(tmp_path: Path) -> None:
    from pcn.funding.summary import funding_summary
    from tests.spec.conftest import ev

    people = [patient(1), patient(2), patient(3)]
    events = [ev(1, dt.date(2024, 5, 1), "160734000"),  # lives in a nursing home
              ev(2, dt.date(2024, 5, 1), "248171000000108"),  # lives in a care home
              ev(3, dt.date(2024, 5, 1), "38341003")]  # hypertension: not a care home code
    own = build_record(tmp_path / "own", as_of=AS_OF, patients=people,
                       registrations=[reg(1, URBAN), reg(2, URBAN), reg(3, URBAN)],
                       practices=[practice(URBAN, pcn="U55830")], clinical_events=events)
    line = funding_summary("U55830", "2025/26", own.base).lines.set_index("stream")
    assert line.loc["care_home_premium", "population"] == 2
    assert line.loc["care_home_premium", "amount"] == pytest.approx(2 * 130.253, abs=0.01)
    # a record of another PCN says nothing about this one's care homes
    other = build_record(tmp_path / "other", as_of=AS_OF, patients=people,
                         registrations=[reg(1, URBAN)], practices=[practice(URBAN)],
                         clinical_events=events)
    line = funding_summary("U55830", "2025/26", other.base).lines.set_index("stream")
    assert pd.isna(line.loc["care_home_premium", "amount"])
