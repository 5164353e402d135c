"""The measured errors published in docs/reference/funding.md are what the code measures on the
default twin (Central Middlesbrough, seed 1): rebuild the twin, recompute, compare every cell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "funding.md"


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from pcn.funding.weighted import comparison, record_population
    from pcn.synth import build_twin

    record = tmp_path_factory.mktemp("funding-twin") / "twin"
    build_twin(record, pcn_code="U55830", seed=1)
    return comparison(record_population(record)).set_index("practice_code")


def _rows(header: str) -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index(header):]
    rows = {}
    for line in table.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].split()[0]] = cells[1:]
    return rows


def _number(cell: str) -> float:
    return float(re.sub(r"[£,%]", "", cell))


@pytest.mark.slow
def test_published_errors_are_the_measured_ones(measured) -> None:  # type: ignore[no-untyped-def]
    rows = _rows("| Practice | Registered (twin, opted-out left out) |")
    assert set(rows) == set(measured.index)
    for code, cells in rows.items():
        m = measured.loc[code]
        assert _number(cells[0]) == m["registered"], code
        assert _number(cells[2]) == pytest.approx(m["carr_hill"], abs=0.5), code
        assert _number(cells[3]) == pytest.approx(m["weighted_published"], abs=0.005), code
        for cell, column in zip(cells[4:9], ["error_pct", "list_effect_pct", "opt_out_effect_pct",
                                             "age_mix_effect_pct", "missing_components_pct"],
                                strict=True):
            assert _number(cell) == pytest.approx(m[column], abs=0.05), (code, column)
        assert _number(cells[9]) == pytest.approx(m["imd_need"], abs=0.5), code


@pytest.mark.slow
def test_published_allocations_are_the_measured_ones(measured) -> None:  # type: ignore[no-untyped-def]
    rows = _rows("| Practice | Carr-Hill-style | Deprivation-adjusted |")
    assert set(rows) == set(measured.index)
    for code, cells in rows.items():
        m = measured.loc[code]
        for cell, column in zip(cells[:3], ["allocation_carr_hill", "allocation_imd_need",
                                            "allocation_difference"], strict=True):
            assert _number(cell) == pytest.approx(m[column], abs=0.5), (code, column)
