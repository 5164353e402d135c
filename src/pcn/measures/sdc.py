"""Statistical disclosure control: the ONE place every export and every aggregate shown to a
non-clinical role goes through.

Rules (TRUST.md row 9; NHS Digital small-number policy, OpenSAFELY output checking):

1. **Primary suppression**: a count from 1 to 7 (``policy.threshold``) is hidden (``<NA>``,
   displayed as ``policy.marker``). Zero is shown: it discloses nothing about a person.
2. **Rounding**: every count that is shown is rounded to the nearest 5 (``policy.rounding_base``).
   Counts of 8 or more round to 10 or more, so no shown count can be 1-7.
3. **Secondary suppression** (differencing): assume the attacker knows every true row and column
   total from elsewhere (list sizes, published QOF), the shown cells exactly, and that counts
   are never negative. Solving those linear constraints (:func:`feasible_ranges`) gives each
   hidden cell a range of values it could take; we hide further cells until no hidden cell's
   range is narrower than the threshold (a hidden 3 that can only be 0-3 is as good as shown).
   Being merely non-unique is not enough: the test is the range. Zeros are hidden only when
   nothing else widens the range. When even hiding everything leaves the range narrow, the
   whole table is hidden and its total is *not available*.
4. **Totals are recomputed after** from the shown (rounded) parts: a total is the sum of the
   visible cells, so a total never reveals anything its parts do not. ``incomplete`` marks totals
   that leave out hidden parts.
5. **Rates and percentages** come only from protected counts: hidden numerator or denominator →
   hidden rate. For proportions, a numerator whose complement (denominator − numerator) is 1-7 is
   hidden too, because "all but three" discloses as much as "three".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TOTAL = "Total"


@dataclass(frozen=True)
class DisclosurePolicy:
    """How small numbers are protected. The defaults are the network's published policy."""

    threshold: int = 7
    rounding_base: int = 5
    marker: str = "*"

    def __post_init__(self) -> None:
        if self.threshold < 0 or self.rounding_base < 1:
            raise ValueError("threshold must be >= 0 and rounding_base >= 1")


DEFAULT_POLICY = DisclosurePolicy()


class DisclosureInputError(ValueError):
    """Counts given to the disclosure module were not non-negative whole numbers."""


def round_to_base(values: np.ndarray, base: int) -> np.ndarray:
    """Round non-negative integers to the nearest multiple of ``base`` (halves round up)."""
    values = np.asarray(values, dtype=np.int64)
    return (values + base // 2) // base * base


def _as_counts(frame: pd.DataFrame) -> np.ndarray:
    """Validate and convert to an int64 matrix, naming the first bad cell."""
    if frame.empty:
        return np.zeros(frame.shape, dtype=np.int64)
    for col in frame.columns:
        series = frame[col]
        if not (pd.api.types.is_numeric_dtype(series) or series.isna().all()):
            raise DisclosureInputError(
                f"column {col!r}: counts must be numeric, got {series.dtype}"
            )
        bad = series.isna() | (series < 0) | (series != np.floor(series.astype("float64")))
        if bad.any():
            row = series.index[bad.to_numpy().nonzero()[0][0]]
            value = series.loc[row]
            raise DisclosureInputError(
                f"row {row!r}, column {col!r}: count {value!r} is not a non-negative whole number"
            )
    return frame.to_numpy(dtype="float64").astype(np.int64)


def _primary(true: np.ndarray, policy: DisclosurePolicy) -> np.ndarray:
    """Cells that are small themselves, or would look small once rounded (11 -> 10 with t=10)."""
    rounded = round_to_base(true, policy.rounding_base)
    return (true >= 1) & ((true <= policy.threshold) | (rounded <= policy.threshold))


def _system(true: np.ndarray, hidden: np.ndarray
            ) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
    """Hidden cells, and the equations an attacker has about them: each known margin minus its
    shown cells equals the sum of its hidden cells."""
    cells = [(int(r), int(c)) for r, c in np.argwhere(hidden)]
    n_rows, n_cols = true.shape
    if n_rows == 1 or n_cols == 1:
        groups = [list(range(len(cells)))]
    else:
        groups = [[k for k, (rr, _) in enumerate(cells) if rr == r] for r in range(n_rows)]
        groups += [[k for k, (_, cc) in enumerate(cells) if cc == c] for c in range(n_cols)]
    groups = [g for g in groups if g]
    a_eq = np.zeros((len(groups), len(cells)))
    b_eq = np.zeros(len(groups))
    for i, g in enumerate(groups):
        a_eq[i, g] = 1.0
        b_eq[i] = float(sum(int(true[cells[k]]) for k in g))
    return cells, a_eq, b_eq


def _range_of(true: np.ndarray, hidden: np.ndarray, cell: tuple[int, int]
              ) -> tuple[float, float]:
    """Smallest and largest value ``cell`` (hidden) can take given what is known."""
    if true.shape[0] == 1 or true.shape[1] == 1:
        # one equation (the grand total): with another hidden cell beside it, anything from 0
        # to the hidden sum; alone, exactly itself
        n_hidden = int(hidden.sum())
        total = float(true[hidden].sum())
        return (0.0, total) if n_hidden > 1 else (float(true[cell]), float(true[cell]))
    from scipy.optimize import linprog

    cells, a_eq, b_eq = _system(true, hidden)
    k = cells.index(cell)
    objective = np.zeros(len(cells))
    objective[k] = 1.0
    bounds = []
    for sign in (1.0, -1.0):
        res = linprog(sign * objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        bounds.append(sign * res.fun if res.status == 0 else float(true[cell]))
    return bounds[0], bounds[1]


def feasible_ranges(true: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """What an attacker can deduce about each hidden cell: ``(n_hidden, 2)`` min and max of the
    cell over every non-negative table that agrees with the shown cells (taken as exact, the
    worst case: rounding only adds doubt) and the true margins (row and column totals of a 2-D
    table; the grand total of a 1-D one). Rows follow ``np.argwhere(hidden)``. Linear
    programmes (scipy's HiGHS) for 2-D tables; closed form for 1-D ones."""
    cells = [(int(r), int(c)) for r, c in np.argwhere(hidden)]
    out = np.zeros((len(cells), 2))
    for k, cell in enumerate(cells):
        out[k] = _range_of(true, hidden, cell)
    return out


def _narrow(true: np.ndarray, hidden: np.ndarray, width: int, sensitive: np.ndarray
            ) -> list[tuple[int, int]]:
    """Sensitive hidden cells whose feasible range is narrower than ``width``, narrowest
    first. A zero hidden only to protect others is not sensitive: pinned at zero it discloses
    nothing; a zero hidden for itself (e.g. "none of 3", a small complement) is."""
    if width <= 0:
        return []
    ranges = feasible_ranges(true, hidden)
    cells = [(int(r), int(c)) for r, c in np.argwhere(hidden)]
    spread = ranges[:, 1] - ranges[:, 0]
    return [cells[k] for k in np.argsort(spread, kind="stable")
            if spread[k] < width - 1e-9 and bool(sensitive[cells[k]])]


def _options(hidden: np.ndarray, r: int, c: int) -> list[list[tuple[int, int]]]:
    """Sets of visible cells whose hiding could widen hidden cell (r, c): any one visible cell
    (a 1-D table), or in 2-D one cell of its row or column, or the rest of a rectangle through
    it (the classic complementary-suppression move)."""
    n_rows, n_cols = hidden.shape
    visible = [(int(a), int(b)) for a, b in np.argwhere(~hidden)]
    if n_rows == 1 or n_cols == 1:
        return [[cell] for cell in visible]
    options = [[cell] for cell in visible if cell[0] == r or cell[1] == c]
    for r2 in range(n_rows):
        for c2 in range(n_cols):
            if r2 == r or c2 == c:
                continue
            new = [cell for cell in ((r, c2), (r2, c), (r2, c2)) if not hidden[cell]]
            if len(new) > 1:
                options.append(new)
    return options or [[cell] for cell in visible]


def secondary_suppression(true: np.ndarray, hidden: np.ndarray,
                          width: int = DEFAULT_POLICY.threshold) -> np.ndarray:
    """Hide more cells until every hidden cell's feasible range (:func:`feasible_ranges`) is at
    least ``width`` wide (the policy threshold), or every cell is hidden.

    Greedy: for the narrowest hidden cell, hide the option (:func:`_options`) that makes its
    range wide enough while hiding the fewest people and the fewest zeros (a hidden zero widens
    nothing); if no option is enough, the one that widens it most."""
    hidden = hidden.copy()
    if true.size == 0 or not hidden.any():
        return hidden
    sensitive = hidden | (true > 0)
    while True:
        narrow = _narrow(true, hidden, width, sensitive)
        if not narrow or hidden.all():
            return hidden
        r, c = narrow[0]
        best: tuple[tuple[float, ...], list[tuple[int, int]]] | None = None
        for option in _options(hidden, r, c):
            trial = hidden.copy()
            for cell in option:
                trial[cell] = True
            lo, hi = _range_of(true, trial, (r, c))
            gained = hi - lo
            enough = gained >= width - 1e-9
            people = sum(int(true[cell]) for cell in option)
            zeros = sum(int(true[cell]) == 0 for cell in option)
            key = ((0.0, float(zeros), float(people), float(len(option))) if enough
                   else (1.0, -gained, float(zeros), float(people)))
            if best is None or key < best[0]:
                best = (key, option)
        assert best is not None
        for cell in best[1]:
            hidden[cell] = True


@dataclass(frozen=True)
class ProtectedTable:
    """A table after disclosure control.

    ``values`` holds the publishable counts (nullable Int64, ``<NA>`` = hidden) with a ``Total``
    row and column when totals were requested; ``hidden`` marks hidden cells; ``incomplete`` marks
    totals that leave out hidden parts.
    """

    values: pd.DataFrame
    hidden: pd.DataFrame
    incomplete: pd.DataFrame
    policy: DisclosurePolicy

    def display(self) -> pd.DataFrame:
        """Strings for people: hidden cells as the marker, incomplete totals flagged."""
        out = self.values.astype("object")
        out = out.where(~self.hidden, self.policy.marker)
        return out.map(lambda v: v if isinstance(v, str)
                       else "not available" if pd.isna(v) else f"{int(v):,}")


def protect_table(
    counts: pd.DataFrame,
    policy: DisclosurePolicy = DEFAULT_POLICY,
    *,
    totals: bool = True,
) -> ProtectedTable:
    """Protect a table of counts (rows × columns of people or events).

    Raises :class:`DisclosureInputError` naming the row and column of any count that is negative,
    missing or fractional; nothing is returned half-protected.
    """
    true = _as_counts(counts)
    hidden = _primary(true, policy)
    hidden = secondary_suppression(true, hidden, policy.threshold)
    shown = np.where(hidden, 0, round_to_base(true, policy.rounding_base))

    values = pd.DataFrame(shown, index=counts.index, columns=counts.columns).astype("Int64")
    hidden_frame = pd.DataFrame(hidden, index=counts.index, columns=counts.columns)
    values = values.mask(hidden_frame)
    incomplete = pd.DataFrame(False, index=counts.index, columns=counts.columns)
    if totals:
        row_total = pd.Series(shown.sum(axis=1), index=counts.index, dtype="Int64")
        col_total = pd.Series(shown.sum(axis=0), index=counts.columns, dtype="Int64")
        # a total of parts that are all hidden is not available, never a 0 that reads as a count
        row_total = row_total.mask(pd.Series(hidden.all(axis=1) & (hidden.shape[1] > 0),
                                             index=counts.index))
        col_total = col_total.mask(pd.Series(hidden.all(axis=0) & (hidden.shape[0] > 0),
                                             index=counts.columns))
        grand = None if hidden.size and hidden.all() else int(shown.sum())
        values[TOTAL] = row_total
        values.loc[TOTAL] = [*col_total.tolist(), grand]
        values = values.astype("Int64")
        hidden_frame[TOTAL] = False
        hidden_frame.loc[TOTAL] = False
        incomplete[TOTAL] = pd.Series(hidden.any(axis=1), index=counts.index)
        incomplete.loc[TOTAL] = [*np.asarray(hidden.any(axis=0)).tolist(), bool(hidden.any())]
        hidden_frame = hidden_frame.astype(bool)
        incomplete = incomplete.astype(bool)
    return ProtectedTable(values, hidden_frame, incomplete, policy)


def protect_counts(
    counts: pd.Series, policy: DisclosurePolicy = DEFAULT_POLICY
) -> pd.Series:
    """Protect a 1-D list of counts (e.g. one count per practice); no total row added."""
    table = protect_table(counts.to_frame(name=counts.name or "count"), policy, totals=False)
    out = table.values.iloc[:, 0]
    out.name = counts.name
    return out


def protect_rates(
    frame: pd.DataFrame,
    numerator: str = "numerator",
    denominator: str = "denominator",
    *,
    per: float = 100.0,
    proportion: bool = True,
    policy: DisclosurePolicy = DEFAULT_POLICY,
) -> pd.DataFrame:
    """Protect a per-unit numerator/denominator table and recompute ``value`` from it.

    Each of numerator and denominator is protected as a 1-D list across the units (rows). For
    proportions the numerator is also hidden when its complement is 1-7. ``value`` =
    numerator / denominator × ``per`` from the protected counts, hidden when either is hidden.
    """
    true = frame[[numerator, denominator]]
    counts = _as_counts(true)
    num, den = counts[:, 0], counts[:, 1]
    if proportion and (num > den).any():
        row = frame.index[int(np.argmax(num > den))]
        raise DisclosureInputError(f"row {row!r}: numerator {num[num > den][0]} > denominator")
    hidden_num = _primary(num, policy)
    if proportion:
        hidden_num |= _primary(den - num, policy)
    hidden_den = _primary(den, policy)
    hidden_num = secondary_suppression(num[:, None], hidden_num[:, None], policy.threshold)[:, 0]
    hidden_den = secondary_suppression(den[:, None], hidden_den[:, None], policy.threshold)[:, 0]
    shown_num = pd.array(round_to_base(num, policy.rounding_base), dtype="Int64")
    shown_den = pd.array(round_to_base(den, policy.rounding_base), dtype="Int64")
    out = frame.drop(columns=[numerator, denominator]).copy()
    out[numerator] = pd.Series(shown_num, index=frame.index).mask(hidden_num)
    out[denominator] = pd.Series(shown_den, index=frame.index).mask(hidden_den)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = out[numerator].astype("Float64") / out[denominator].astype("Float64") * per
    out["value"] = value.mask(out[denominator].astype("Float64") == 0)
    if "value" in frame.columns:
        out = out[[*frame.columns]]
    return out


def protect_rates_with_total(
    frame: pd.DataFrame,
    *,
    org_column: str,
    total_code: str,
    numerator: str = "numerator",
    denominator: str = "denominator",
    per: float = 100.0,
    proportion: bool = True,
    policy: DisclosurePolicy = DEFAULT_POLICY,
) -> pd.DataFrame:
    """Protect unit rows (e.g. practices) with :func:`protect_rates`, then recompute the total row
    (``org_column == total_code``) from the protected parts: Σ shown numerators over units whose
    numerator and denominator are both shown, over Σ of those units' shown denominators.
    ``incomplete`` marks a total that leaves units out."""
    is_total = frame[org_column] == total_code
    parts = protect_rates(
        frame.loc[~is_total], numerator, denominator, per=per, proportion=proportion,
        policy=policy,
    )
    parts["incomplete"] = False
    both = parts[numerator].notna() & parts[denominator].notna()
    num_total = int(parts.loc[both, numerator].sum())
    den_total = int(parts.loc[both, denominator].sum())
    total = frame.loc[is_total].drop(columns=[numerator, denominator], errors="ignore").copy()
    if total.empty:
        return parts
    if not both.any():
        # every part hidden: the total is not available (never a 0/0 that reads as a count)
        total[numerator] = pd.array([None] * len(total), dtype="Int64")
        total[denominator] = pd.array([None] * len(total), dtype="Int64")
        total["value"] = pd.array([None] * len(total), dtype="Float64")
        total["incomplete"] = True
        return pd.concat([parts, total[parts.columns]], ignore_index=True)
    total[numerator] = pd.array([num_total] * len(total), dtype="Int64")
    total[denominator] = pd.array([den_total] * len(total), dtype="Int64")
    total["value"] = pd.array(
        [num_total / den_total * per if den_total else None] * len(total), dtype="Float64"
    )
    total["incomplete"] = not bool(both.all())
    return pd.concat([parts, total[parts.columns]], ignore_index=True)


def protect_long(
    frame: pd.DataFrame,
    *,
    rows: str,
    columns: str,
    count: str = "count",
    policy: DisclosurePolicy = DEFAULT_POLICY,
) -> pd.DataFrame:
    """Protect a long table (one row per ``rows`` × ``columns`` cell, e.g. practice × IMD quintile)
    as the 2-D table it describes; missing combinations count as 0. Returns the long form with
    ``count`` (nullable, hidden = <NA>), ``hidden`` and totals as rows/columns named ``Total``."""
    duplicated = frame.duplicated([rows, columns])
    if duplicated.any():
        first = frame.loc[duplicated, [rows, columns]].iloc[0].tolist()
        raise DisclosureInputError(f"cell {first} appears more than once")
    wide = frame.pivot(index=rows, columns=columns, values=count).fillna(0)
    protected = protect_table(wide, policy)
    values = pd.Series(protected.values.stack(future_stack=True), name=count)
    hidden = pd.Series(protected.hidden.stack(future_stack=True), name="hidden")
    out = pd.concat([values, hidden], axis=1).reset_index()
    out.columns = [rows, columns, count, "hidden"]
    return out
