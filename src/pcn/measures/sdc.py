"""Statistical disclosure control: the ONE place every export and every aggregate shown to a
non-clinical role goes through.

Rules (TRUST.md row 9; NHS Digital small-number policy, OpenSAFELY output checking):

1. **Primary suppression**: a count from 1 to 7 (``policy.threshold``) is hidden (``<NA>``,
   displayed as ``policy.marker``). Zero is shown: it discloses nothing about a person.
2. **Rounding**: every count that is shown is rounded to the nearest 5 (``policy.rounding_base``).
   Counts of 8 or more round to 10 or more, so no shown count can be 1-7.
3. **Secondary suppression** (differencing): assume the attacker knows every true row and column
   total from elsewhere (list sizes, published QOF). A hidden cell is then recoverable exactly when
   it is the only unknown in some linear combination of those totals — in a 2-D table, when the
   cell is a *bridge* of the bipartite graph rows–columns whose edges are the hidden cells; in a
   1-D table, when it is the only hidden cell. We hide further cells (the smallest first) until no
   hidden cell is recoverable.
4. **Totals are recomputed after** from the shown (rounded) parts: a total is the sum of the
   visible cells, so a total never reveals anything its parts do not. ``incomplete`` marks totals
   that leave out hidden parts.
5. **Rates and percentages** come only from protected counts: hidden numerator or denominator →
   hidden rate. For proportions, a numerator whose complement (denominator − numerator) is 1-7 is
   hidden too, because "all but three" discloses as much as "three".
"""

from __future__ import annotations

from collections import deque
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


def _bridges(hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells that lie on no cycle of the rows–columns graph (recoverable ones)."""
    n_rows, _ = hidden.shape
    cells = [tuple(map(int, c)) for c in np.argwhere(hidden)]
    adjacency: dict[int, set[int]] = {}
    for r, c in cells:
        adjacency.setdefault(r, set()).add(n_rows + c)
        adjacency.setdefault(n_rows + c, set()).add(r)
    found = []
    for r, c in cells:
        if not _connected_without(adjacency, r, n_rows + c):
            found.append((r, c))
    return found


def _connected_without(adjacency: dict[int, set[int]], a: int, b: int) -> bool:
    seen = {a}
    queue = deque([a])
    while queue:
        node = queue.popleft()
        for nxt in adjacency[node]:
            if node == a and nxt == b:
                continue  # the edge under test
            if nxt == b:
                return True
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


def _pick_smallest(true: np.ndarray, candidates: np.ndarray) -> tuple[int, int] | None:
    """The visible candidate with the smallest positive count, else the smallest zero."""
    if not candidates.any():
        return None
    big = np.iinfo(np.int64).max
    positive = np.where(candidates & (true > 0), true, big)
    if positive.min() < big:
        r, c = np.unravel_index(int(np.argmin(positive)), true.shape)
        return int(r), int(c)
    r, c = np.unravel_index(int(np.argmax(candidates)), true.shape)
    return int(r), int(c)


def secondary_suppression(true: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Hide more cells until no hidden cell is recoverable from the true margins."""
    hidden = hidden.copy()
    n_rows, n_cols = true.shape
    if n_rows == 0 or n_cols == 0:
        return hidden
    if n_rows == 1 or n_cols == 1:
        # A 1-D table has one constraint (its total): a lone hidden cell is recoverable.
        flat_true, flat_hidden = true.reshape(-1), hidden.reshape(-1)
        if flat_hidden.sum() == 1 and flat_true.size > 1:
            pick = _pick_smallest(flat_true[None, :], ~flat_hidden[None, :])
            assert pick is not None
            flat_hidden[pick[1]] = True
        return flat_hidden.reshape(true.shape)
    while True:
        bridges = _bridges(hidden)
        if not bridges:
            return hidden
        r, c = bridges[0]
        hidden[_cheapest_rectangle(true, hidden, r, c)] = True


def _cheapest_rectangle(
    true: np.ndarray, hidden: np.ndarray, r: int, c: int
) -> tuple[np.ndarray, np.ndarray]:
    """Cells to hide so that (r, c) becomes a corner of a hidden rectangle (hence on a cycle).

    Chooses the rectangle that hides the fewest people (then the fewest new cells): the classic
    complementary-suppression heuristic. Returns index arrays for the new cells.
    """
    best: tuple[int, int, list[tuple[int, int]]] | None = None
    n_rows, n_cols = true.shape
    for r2 in range(n_rows):
        if r2 == r:
            continue
        for c2 in range(n_cols):
            if c2 == c:
                continue
            new = [cell for cell in ((r, c2), (r2, c), (r2, c2)) if not hidden[cell]]
            cost = (sum(int(true[cell]) for cell in new), len(new))
            if best is None or cost < best[:2]:
                best = (*cost, new)
    assert best is not None  # a table of 2 x 2 or more always has a rectangle
    rows, cols = zip(*best[2], strict=True) if best[2] else ((), ())
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


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
        return out.map(lambda v: v if isinstance(v, str) else f"{int(v):,}")


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
    hidden = secondary_suppression(true, hidden)
    shown = np.where(hidden, 0, round_to_base(true, policy.rounding_base))

    values = pd.DataFrame(shown, index=counts.index, columns=counts.columns).astype("Int64")
    hidden_frame = pd.DataFrame(hidden, index=counts.index, columns=counts.columns)
    values = values.mask(hidden_frame)
    incomplete = pd.DataFrame(False, index=counts.index, columns=counts.columns)
    if totals:
        row_total = pd.Series(shown.sum(axis=1), index=counts.index, dtype="Int64")
        col_total = pd.Series(shown.sum(axis=0), index=counts.columns, dtype="Int64")
        values[TOTAL] = row_total
        values.loc[TOTAL] = [*col_total.tolist(), int(shown.sum())]
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
    hidden_num = secondary_suppression(num[:, None], hidden_num[:, None])[:, 0]
    hidden_den = secondary_suppression(den[:, None], hidden_den[:, None])[:, 0]
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
