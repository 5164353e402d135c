"""Issue 19: disclosure control that cannot be undone. An attacker who knows the true margins
(row and column totals of a 2-D table, the grand total of a 1-D one), takes every shown cell as
exact and knows counts are never negative solves the linear constraints for each hidden cell
(scipy linprog, minimise and maximise). The attacker is written here, independently of
:mod:`pcn.measures.sdc`; no hidden count of 1 or more may be pinned to a range narrower than
the policy threshold, unless the whole table is hidden (then it is not available)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from pcn.measures.sdc import TOTAL, DisclosurePolicy, protect_counts, protect_table


def attack(true: np.ndarray, hidden: np.ndarray) -> dict[tuple[int, int], tuple[float, float]]:
    """Min and max each hidden cell can take, by linear programming over the hidden cells."""
    cells = [tuple(int(v) for v in c) for c in np.argwhere(hidden)]
    if not cells:
        return {}
    n_rows, n_cols = true.shape
    rows_eq, rhs = [], []
    if n_rows == 1 or n_cols == 1:
        margins = [[True] * len(cells)]
        sums = [true.sum()]
    else:
        margins = [[c[0] == r for c in cells] for r in range(n_rows)]
        margins += [[c[1] == k for c in cells] for k in range(n_cols)]
        sums = [true[r].sum() for r in range(n_rows)] + [true[:, k].sum() for k in range(n_cols)]
    for members, total in zip(margins, sums, strict=True):
        if not any(members):
            continue
        shown = total - sum(true[c] for c, m in zip(cells, members, strict=True) if m)
        rows_eq.append([1.0 if m else 0.0 for m in members])
        rhs.append(float(total - shown))
    out = {}
    for i, cell in enumerate(cells):
        goal = np.zeros(len(cells))
        goal[i] = 1.0
        lo = linprog(goal, A_eq=rows_eq, b_eq=rhs, bounds=(0, None), method="highs")
        hi = linprog(-goal, A_eq=rows_eq, b_eq=rhs, bounds=(0, None), method="highs")
        out[cell] = (lo.fun, -hi.fun)
    return out


def assert_not_pinned(true: np.ndarray, hidden: np.ndarray, threshold: int) -> None:
    if hidden.all():
        return  # nothing shown: the table (and its total) is not available
    for cell, (lo, hi) in attack(true, hidden).items():
        if true[cell] >= 1:
            assert hi - lo >= threshold - 1e-6, (cell, int(true[cell]), lo, hi, hidden)


small = st.one_of(st.integers(0, 9), st.integers(0, 60))


@st.composite
def tables(draw: st.DrawFn) -> np.ndarray:
    n_rows = draw(st.integers(2, 5))
    n_cols = draw(st.integers(2, 5))
    values = draw(st.lists(small, min_size=n_rows * n_cols, max_size=n_rows * n_cols))
    return np.array(values, dtype=np.int64).reshape(n_rows, n_cols)


@settings(max_examples=100, deadline=None)
@given(tables(), st.sampled_from([5, 7, 10]))
def test_attacker_never_pins_a_hidden_cell_in_a_2d_table(true: np.ndarray, threshold: int) -> None:
    policy = DisclosurePolicy(threshold=threshold)
    frame = pd.DataFrame(true, columns=[f"c{k}" for k in range(true.shape[1])])
    protected = protect_table(frame, policy)
    hidden = protected.hidden.drop(index=TOTAL, columns=TOTAL).to_numpy()
    assert_not_pinned(true, hidden, threshold)
    if hidden.all():
        assert pd.isna(protected.values.loc[TOTAL, TOTAL])  # not available, never 0


@settings(max_examples=100, deadline=None)
@given(st.lists(small, min_size=1, max_size=10))
def test_attacker_never_pins_a_hidden_cell_in_a_list(values: list[int]) -> None:
    out = protect_counts(pd.Series(values, name="n"))
    true = np.array(values, dtype=np.int64)[:, None]
    assert_not_pinned(true, out.isna().to_numpy()[:, None], DisclosurePolicy().threshold)


def test_the_known_weak_case_is_now_closed() -> None:
    """Hidden 3 beside a hidden 0 in a 1-D table: before issue 19 the 0 could be the complement
    and the 3 was recoverable as 'between 0 and 3'."""
    values = [40, 3, 0, 25]
    out = protect_counts(pd.Series(values, name="n"))
    hidden = out.isna().to_numpy()
    assert hidden[1] and not hidden[2]  # the zero stays shown
    assert_not_pinned(np.array(values)[:, None], hidden[:, None], 7)
