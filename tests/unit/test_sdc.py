"""Disclosure control: spec examples and Hypothesis property tests.

The property tests use an INDEPENDENT checker written here: it knows nothing of bridges or of the
module's algorithm. It decides recoverability by linear algebra — a hidden cell is recoverable by
subtraction when its unit vector lies in the row space of the known-total constraints restricted to
the hidden cells (i.e. some combination of published totals isolates it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcn.measures.sdc import (
    TOTAL,
    DisclosureInputError,
    DisclosurePolicy,
    protect_counts,
    protect_rates,
    protect_rates_with_total,
    protect_table,
)


def recoverable_cells(hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells an attacker who knows every true row and column total can solve for."""
    n_rows, n_cols = hidden.shape
    cells = [tuple(c) for c in np.argwhere(hidden)]
    if not cells:
        return []
    constraints = []
    if n_cols > 1:  # a row total is extra knowledge only when a row has several cells
        for r in range(n_rows):
            constraints.append([1.0 if c[0] == r else 0.0 for c in cells])
    if n_rows > 1:
        for col in range(n_cols):
            constraints.append([1.0 if c[1] == col else 0.0 for c in cells])
    a = np.array(constraints) if constraints else np.zeros((0, len(cells)))
    rank = np.linalg.matrix_rank(a) if a.size else 0
    out = []
    for i, cell in enumerate(cells):
        unit = np.zeros((1, len(cells)))
        unit[0, i] = 1.0
        # unit in row space  <=>  adding it does not raise the rank
        if a.size and np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            out.append(cell)
    return out


def check_protected(true: pd.DataFrame, protected: pd.DataFrame, policy: DisclosurePolicy) -> None:
    data = protected.drop(index=TOTAL, columns=TOTAL)
    hidden = data.isna().to_numpy()
    t = true.to_numpy()
    shown = protected.to_numpy(dtype="float64", na_value=np.nan)
    visible = shown[~np.isnan(shown)]
    # no small number visible anywhere, totals included
    assert not ((visible >= 1) & (visible <= policy.threshold)).any()
    # every shown count is a multiple of the rounding base
    assert (visible % policy.rounding_base == 0).all()
    # every small true count is hidden
    assert hidden[(t >= 1) & (t <= policy.threshold)].all()
    # shown cells are the true value rounded (within half a base)
    d = data.to_numpy(dtype="float64", na_value=np.nan)
    assert (np.abs(d[~hidden] - t[~hidden]) <= policy.rounding_base / 2).all()
    # totals are the sum of the shown parts; a total of nothing shown is not available
    row_totals = protected[TOTAL].drop(TOTAL).to_numpy(dtype="float64", na_value=np.nan)
    col_totals = protected.loc[TOTAL].drop(TOTAL).to_numpy(dtype="float64", na_value=np.nan)
    row_all_hidden, col_all_hidden = hidden.all(axis=1), hidden.all(axis=0)
    assert np.isnan(row_totals[row_all_hidden]).all()
    assert np.isnan(col_totals[col_all_hidden]).all()
    assert (row_totals[~row_all_hidden] == np.nansum(d, axis=1)[~row_all_hidden]).all()
    assert (col_totals[~col_all_hidden] == np.nansum(d, axis=0)[~col_all_hidden]).all()
    if hidden.all():
        assert pd.isna(protected.loc[TOTAL, TOTAL])
    else:
        assert protected.loc[TOTAL, TOTAL] == np.nansum(d)
    # nothing recoverable by subtraction, even from the true totals
    assert recoverable_cells(hidden) == []


count_values = st.one_of(st.integers(0, 12), st.integers(0, 400))


@st.composite
def count_tables(draw: st.DrawFn) -> pd.DataFrame:
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 5))
    cells = draw(st.lists(count_values, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    return pd.DataFrame(
        np.array(cells, dtype=np.int64).reshape(n_rows, n_cols),
        index=[f"P{i}" for i in range(n_rows)],
        columns=[f"c{j}" for j in range(n_cols)],
    )


@settings(max_examples=200, deadline=None)
@given(count_tables())
def test_random_tables_disclose_nothing(table: pd.DataFrame) -> None:
    policy = DisclosurePolicy()
    check_protected(table, protect_table(table, policy).values, policy)


@settings(max_examples=100, deadline=None)
@given(count_tables(), st.integers(3, 10), st.sampled_from([5, 10]))
def test_other_policies_disclose_nothing(table: pd.DataFrame, threshold: int, base: int) -> None:
    policy = DisclosurePolicy(threshold=threshold, rounding_base=base)
    check_protected(table, protect_table(table, policy).values, policy)


def test_checker_catches_a_lone_hidden_cell() -> None:
    # The checker itself must be able to fail: one hidden cell per row in a 2x2 is recoverable.
    assert recoverable_cells(np.array([[True, False], [False, False]])) == [(0, 0)]
    # A hidden 2x2 rectangle is safe.
    assert recoverable_cells(np.array([[True, True], [True, True]])) == []
    # Two cycles joined by a bridge: the bridge cell is recoverable even though every row and
    # column with a hidden cell holds at least two.
    h = np.zeros((4, 4), bool)
    h[0, 0] = h[0, 1] = h[1, 0] = h[1, 1] = True
    h[2, 2] = h[2, 3] = h[3, 2] = h[3, 3] = True
    h[1, 2] = True
    assert recoverable_cells(h) == [(1, 2)]


def test_bridge_between_two_hidden_blocks_is_closed() -> None:
    true = np.full((4, 4), 100)
    true[[0, 0, 1, 1], [0, 1, 0, 1]] = 3
    true[[2, 2, 3, 3], [2, 3, 2, 3]] = 4
    true[1, 2] = 5
    out = protect_table(pd.DataFrame(true)).values
    hidden = out.drop(index=TOTAL, columns=TOTAL).isna().to_numpy()
    assert recoverable_cells(hidden) == []


def test_spec_table_rounds_suppresses_and_totals() -> None:
    # practice x role, worked by hand:
    # B.gp = 3 is small. Alone in its column it is pinned by the column total, so a rectangle
    # through it is hidden. (B,ph 22)+(C,gp 48)+(C,ph 0) hides fewest people (70) but its zero
    # caps how far B.gp can move (3 to 25) and a hidden zero protects nothing; (B,nurse 40)+
    # (C,gp 48)+(C,nurse 12) hides no zero and leaves B.gp anywhere from 0 to 43 (issue 19).
    table = pd.DataFrame(
        {"gp": [120, 3, 48], "nurse": [61, 40, 12], "ph": [9, 22, 0]},
        index=["A", "B", "C"],
    )
    na = pd.NA
    expected = pd.DataFrame(
        {
            "gp": [120, na, na, 120],
            "nurse": [60, na, na, 60],
            "ph": [10, 20, 0, 30],
            TOTAL: [190, 20, 0, 210],
        },
        index=["A", "B", "C", TOTAL],
        dtype="Int64",
    )
    result = protect_table(table)
    pd.testing.assert_frame_equal(result.values, expected)
    assert result.incomplete.loc["B", TOTAL] and not result.incomplete.loc["A", TOTAL]


def test_counts_series_hides_a_second_cell() -> None:
    out = protect_counts(pd.Series([50, 4, 23, 112], index=list("ABCD"), name="n"))
    assert out.isna().tolist() == [False, True, True, False]  # 23 hidden so 4 cannot be derived
    assert out.dropna().tolist() == [50, 110]


def test_zero_is_shown_and_never_needs_protection() -> None:
    out = protect_counts(pd.Series([0, 0, 15]))
    assert out.tolist() == [0, 0, 15]


def test_rates_from_protected_counts() -> None:
    frame = pd.DataFrame(
        {
            "practice_code": ["A", "B", "C", "D"],
            "numerator": [45, 3, 120, 47],
            "denominator": [90, 60, 200, 50],
        }
    )
    out = protect_rates(frame)
    # B: numerator 3 hidden; D: complement 50-47 = 3 hidden too, so two hidden already
    assert out["numerator"].isna().tolist() == [False, True, False, True]
    assert out["denominator"].tolist() == [90, 60, 200, 50]
    assert out.loc[0, "value"] == pytest.approx(45 / 90 * 100)
    assert out.loc[2, "value"] == pytest.approx(120 / 200 * 100)
    assert pd.isna(out.loc[1, "value"]) and pd.isna(out.loc[3, "value"])


def test_rate_uses_rounded_counts_not_true_ones() -> None:
    frame = pd.DataFrame({"numerator": [13, 40], "denominator": [52, 40]})
    out = protect_rates(frame, per=1000, proportion=False)
    assert out.loc[0, "value"] == pytest.approx(15 / 50 * 1000)


@pytest.mark.parametrize(
    ("column", "bad", "needle"),
    [("gp", -1, "row 'B', column 'gp'"), ("gp", 2.5, "not a non-negative whole number")],
)
def test_bad_counts_are_refused_with_row_and_column(column: str, bad: float, needle: str) -> None:
    table = pd.DataFrame({"gp": [10.0, bad]}, index=["A", "B"])
    with pytest.raises(DisclosureInputError, match=needle):
        protect_table(table)


def test_display_shows_marker() -> None:
    shown = protect_table(pd.DataFrame({"x": [3, 30, 9]}, index=list("ABC"))).display()
    assert shown.loc["A", "x"] == "*"
    assert shown.loc["B", "x"] == "30"


@st.composite
def unit_rates(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 8))
    dens = draw(st.lists(st.one_of(st.integers(0, 15), st.integers(0, 500)), min_size=n,
                         max_size=n))
    nums = [draw(st.integers(0, d)) for d in dens]
    frame = pd.DataFrame({"org": [f"P{i}" for i in range(n)], "numerator": nums,
                          "denominator": dens})
    total = pd.DataFrame({"org": ["PCN"], "numerator": [sum(nums)], "denominator": [sum(dens)]})
    return pd.concat([frame, total], ignore_index=True)


@settings(max_examples=100, deadline=None)
@given(unit_rates())
def test_rates_with_total_disclose_nothing(frame: pd.DataFrame) -> None:
    out = protect_rates_with_total(frame, org_column="org", total_code="PCN")
    units = out[out["org"] != "PCN"]
    true_units = frame[frame["org"] != "PCN"].reset_index(drop=True)
    for col in ("numerator", "denominator"):
        shown = out[col].dropna().astype(int)
        assert not ((shown >= 1) & (shown <= 7)).any()
        assert (shown % 5 == 0).all()
        hidden = units[col].isna().to_numpy()
        # in a column of 2+ units a lone hidden cell could be recovered from the true total
        if len(units) > 1:
            assert hidden.sum() != 1
    complement = true_units["denominator"] - true_units["numerator"]
    small_complement = ((complement >= 1) & (complement <= 7)).to_numpy()
    assert units["numerator"].isna().to_numpy()[small_complement].all()
    # value only from shown counts
    shown_both = units["numerator"].notna() & units["denominator"].notna() & (
        units["denominator"] > 0)
    assert units.loc[~shown_both.fillna(False).astype(bool), "value"].isna().all()
    total = out[out["org"] == "PCN"].iloc[0]
    both = (units["numerator"].notna() & units["denominator"].notna()).to_numpy()
    if not both.any():  # everything hidden: the total is not available, never 0/0
        assert pd.isna(total["numerator"]) and pd.isna(total["denominator"])
        assert pd.isna(total["value"]) and bool(total["incomplete"])
    else:
        assert total["numerator"] == units.loc[both, "numerator"].sum()


def test_long_tables_are_protected_as_their_cross_tab() -> None:
    from pcn.measures.sdc import protect_long

    long = pd.DataFrame(
        {"practice": ["A", "A", "B", "B"], "quintile": [1, 2, 1, 2], "count": [3, 40, 50, 60]}
    )
    out = protect_long(long, rows="practice", columns="quintile").set_index(
        ["practice", "quintile"])
    # 2x2 with one small cell: all four must go (any single visible cell + margins reveals it)
    assert out.loc[[("A", 1), ("A", 2), ("B", 1), ("B", 2)], "hidden"].all()
    assert pd.isna(out.loc[(TOTAL, TOTAL), "count"])  # everything hidden: not available, not 0
    with pytest.raises(DisclosureInputError, match="more than once"):
        protect_long(pd.concat([long, long]), rows="practice", columns="quintile")
