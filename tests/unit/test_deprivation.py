"""Townsend stand-in from IMD 2019 decile (ADR 0031)."""

from __future__ import annotations

import pandas as pd
import pytest

from pcn.risk.deprivation import townsend_from_imd_decile, townsend_from_imd_deciles


def test_townsend_stand_in_values_worked_by_hand() -> None:
    # decile d -> -3.0 * z((d - 0.5) / 10); z(0.05) = -1.644854, z(0.45) = -0.125661
    assert townsend_from_imd_decile(1) == pytest.approx(4.934561, abs=1e-5)
    assert townsend_from_imd_decile(5) == pytest.approx(0.376984, abs=1e-5)
    assert townsend_from_imd_decile(10) == pytest.approx(-4.934561, abs=1e-5)


def test_townsend_stand_in_falls_as_deprivation_falls_and_is_centred() -> None:
    values = [townsend_from_imd_decile(d) for d in range(1, 11)]
    assert values == sorted(values, reverse=True)
    assert sum(values) == pytest.approx(0.0, abs=1e-9)


def test_unknown_decile_is_average_and_bad_decile_is_refused() -> None:
    assert townsend_from_imd_decile(None) == 0.0
    for bad in (0, 11, 2.5, True):
        with pytest.raises(ValueError, match="1-10"):
            townsend_from_imd_decile(bad)  # type: ignore[arg-type]


def test_vectorised_mapping_matches_scalar() -> None:
    deciles = pd.Series([1, None, 7, 10], dtype="Int64")
    got = townsend_from_imd_deciles(deciles).tolist()
    assert got == [townsend_from_imd_decile(1), 0.0, townsend_from_imd_decile(7),
                   townsend_from_imd_decile(10)]
    with pytest.raises(ValueError, match="1-10"):
        townsend_from_imd_deciles(pd.Series([3, 12]))
