"""A small, safe filter language for indicator definitions.

Expressions read like the business rules they encode::

    reg_hypertension and age <= 79
    latest_sbp <= 140 and latest_dbp <= 90 and within_months(latest_sbp_date, 12)
    kind == 'emergency_admission' and in_codelist(icd10_code, 'nhsof-chronic-acsc-icd10')
    status in ['attended', 'did_not_attend']

Grammar (a subset of Python expression syntax, parsed with :mod:`ast` and checked node by node —
nothing is ever passed to ``eval``): ``and``/``or``/``not``, comparisons (``== != < <= > >=``,
chained ``a <= x <= b``, ``in``/``not in`` a list of constants), column names, numbers, strings,
``true``/``false``, and these functions:

- ``within_months(date_column, n)`` — the date is in the n months up to and including ``as_of``;
- ``is_null(column)``, ``not_null(column)``;
- ``in_codelist(code_column, 'codelist-id')`` — the code, or its 3- or 4-character parent (ICD-10
  style), is in the codelist;
- ``arrs_role(role_column)`` — the role is reimbursable under ARRS (``pcn.record.vocab.ROLES``).

Null semantics: a comparison with a missing value is false (no valid reading = not achieved).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd

from pcn.record.vocab import ROLES

FUNCTIONS: dict[str, tuple[int, str]] = {
    # name: (number of arguments, description)
    "within_months": (2, "date column is within n months up to as_of"),
    "is_null": (1, "column has no value"),
    "not_null": (1, "column has a value"),
    "in_codelist": (2, "code column (or its ICD-10 parent) is in a codelist"),
    "arrs_role": (1, "role is an ARRS role"),
}
CONSTANT_NAMES = {"true": True, "false": False, "True": True, "False": False}
ARRS_ROLES = frozenset(role for role, info in ROLES.items() if info["arrs"])


class ExpressionError(ValueError):
    """An expression that cannot be parsed or that refers to something unknown."""


@dataclass(frozen=True)
class Expression:
    """A parsed, validated expression and what it refers to."""

    text: str
    tree: ast.Expression
    columns: frozenset[str]
    codelists: frozenset[str]


_COMPARE: dict[type, Callable[[object, object], object]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Lt: lambda a, b: a < b,  # type: ignore[operator]
    ast.LtE: lambda a, b: a <= b,  # type: ignore[operator]
    ast.Gt: lambda a, b: a > b,  # type: ignore[operator]
    ast.GtE: lambda a, b: a >= b,  # type: ignore[operator]
}


def parse(text: str) -> Expression:
    """Parse and check the shape of an expression; raise :class:`ExpressionError` naming why."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"cannot parse {text!r}: {e.msg} at column {e.offset}") from None
    columns: set[str] = set()
    codelists: set[str] = set()
    _check(tree.body, text, columns, codelists)
    return Expression(text, tree, frozenset(columns), frozenset(codelists))


def _check(node: ast.AST, text: str, columns: set[str], codelists: set[str]) -> None:
    where = f"in {text!r}"
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, text, columns, codelists)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text, columns, codelists)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if not isinstance(node.operand, ast.Constant):
            raise ExpressionError(f"minus only applies to numbers {where}")
    elif isinstance(node, ast.Compare):
        _check(node.left, text, columns, codelists)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(comparator, ast.List) or not all(
                    isinstance(e, ast.Constant) for e in comparator.elts
                ):
                    raise ExpressionError(f"'in' needs a list of constants {where}")
            elif type(op) in _COMPARE:
                _check(comparator, text, columns, codelists)
            else:
                raise ExpressionError(f"operator {type(op).__name__} is not allowed {where}")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = getattr(node.func, "id", "?")
            raise ExpressionError(
                f"unknown function {name!r} {where}; known: {', '.join(sorted(FUNCTIONS))}"
            )
        arity = FUNCTIONS[node.func.id][0]
        if len(node.args) != arity or node.keywords:
            raise ExpressionError(f"{node.func.id}() takes {arity} argument(s) {where}")
        first = node.args[0]
        if not isinstance(first, ast.Name):
            raise ExpressionError(f"{node.func.id}() needs a column name first {where}")
        columns.add(first.id)
        if node.func.id == "within_months" and not (
            isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, int)
        ):
            raise ExpressionError(f"within_months() needs a whole number of months {where}")
        if node.func.id == "in_codelist":
            arg = node.args[1]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                raise ExpressionError(f"in_codelist() needs a codelist id string {where}")
            codelists.add(arg.value)
    elif isinstance(node, ast.Name):
        if node.id not in CONSTANT_NAMES:
            columns.add(node.id)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, bool | int | float | str):
            raise ExpressionError(f"constant {node.value!r} is not allowed {where}")
    else:
        raise ExpressionError(f"{type(node).__name__} is not allowed {where}")


def evaluate(
    expression: Expression,
    frame: pd.DataFrame,
    *,
    as_of: date,
    codelist_codes: Callable[[str], frozenset[str]],
) -> pd.Series:
    """Boolean mask over ``frame`` rows (missing values never satisfy a comparison)."""
    missing = sorted(expression.columns - set(frame.columns))
    if missing:
        raise ExpressionError(
            f"{expression.text!r} refers to column(s) not in the data: {', '.join(missing)}"
        )
    env = _Env(frame, pd.Timestamp(as_of), codelist_codes)
    result = env.eval(expression.tree.body)
    if not isinstance(result, pd.Series):
        return pd.Series(bool(result), index=frame.index)
    return _as_mask(result)


def joined_labels(matches: np.ndarray, labels: Sequence[str], sep: str = ";") -> np.ndarray:
    """For each row of a boolean matrix (rows × labels), the labels of its true cells joined by
    ``sep`` in label order. Joins once per distinct row pattern, not once per row: a population
    has millions of rows but only dozens of patterns."""
    rows, width = matches.shape
    if width != len(labels):
        raise ValueError(f"{width} columns but {len(labels)} labels")
    if rows == 0 or width == 0:
        return np.full(rows, "", dtype=object)
    names = np.array(list(labels), dtype=object)
    matches = matches.astype(bool, copy=False)
    if width <= 62:  # a pattern as one integer: hashing integers beats sorting byte rows
        key = np.zeros(rows, dtype=np.int64)
        for j in range(width):
            key |= matches[:, j].astype(np.int64) << j
        inverse, keys = pd.factorize(key)
        unpacked = ((keys[:, None] >> np.arange(width)) & 1).astype(bool)
    else:
        patterns, inverse = np.unique(np.packbits(matches, axis=1), axis=0, return_inverse=True)
        unpacked = np.unpackbits(patterns, axis=1, count=width).astype(bool)
    joined = np.array([sep.join(names[row]) for row in unpacked], dtype=object)
    return joined[inverse.reshape(-1)]


def _as_mask(series: pd.Series) -> pd.Series:
    if series.dtype == bool:
        return series
    return series.astype("boolean").fillna(False).astype(bool)


@dataclass
class _Env:
    frame: pd.DataFrame
    as_of: pd.Timestamp
    codelist_codes: Callable[[str], frozenset[str]]

    def eval(self, node: ast.AST) -> object:
        if isinstance(node, ast.BoolOp):
            parts = [self._mask(self.eval(v)) for v in node.values]
            out = parts[0]
            for part in parts[1:]:
                out = (out & part) if isinstance(node.op, ast.And) else (out | part)
            return out
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return ~self._mask(self.eval(node.operand))
            return -node.operand.value  # type: ignore[attr-defined]
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Name):
            if node.id in CONSTANT_NAMES:
                return CONSTANT_NAMES[node.id]
            return self.frame[node.id]
        if isinstance(node, ast.Constant):
            return node.value
        raise ExpressionError(f"{type(node).__name__} is not allowed")  # guarded by parse()

    def _mask(self, value: object) -> pd.Series:
        if isinstance(value, pd.Series):
            return _as_mask(value)
        return pd.Series(bool(value), index=self.frame.index)

    def _compare(self, node: ast.Compare) -> pd.Series:
        left = self.eval(node.left)
        out = pd.Series(True, index=self.frame.index)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                values = [e.value for e in comparator.elts]  # type: ignore[attr-defined]
                series = self._series(left)
                hit = series.isin(values) & series.notna()
                out &= hit if isinstance(op, ast.In) else (~hit & series.notna())
                continue
            right = self.eval(comparator)
            result = _COMPARE[type(op)](self._comparable(left), self._comparable(right))
            out &= _as_mask(self._series(result))
            left = right
        return out

    def _comparable(self, value: object) -> object:
        if isinstance(value, pd.Series) and value.dtype == object:
            # pandas refuses < between object and number; compare as numbers where possible
            converted = pd.to_numeric(value, errors="coerce")
            if converted.notna().sum() == value.notna().sum():
                return converted
        return value

    def _series(self, value: object) -> pd.Series:
        if isinstance(value, pd.Series):
            return value
        return pd.Series(value, index=self.frame.index)

    def _call(self, node: ast.Call) -> pd.Series:
        name = node.func.id  # type: ignore[attr-defined]
        column = cast(pd.Series, self.frame[node.args[0].id])  # type: ignore[attr-defined]
        if name == "is_null":
            return column.isna()
        if name == "not_null":
            return column.notna()
        if name == "within_months":
            months = node.args[1].value  # type: ignore[attr-defined]
            when = pd.to_datetime(column)
            start = self.as_of - pd.DateOffset(months=months)
            return (when > start) & (when <= self.as_of)
        if name == "in_codelist":
            codes = self.codelist_codes(node.args[1].value)  # type: ignore[attr-defined]
            text = column.astype("string")
            hit = text.isin(codes) | text.str[:3].isin(codes) | text.str[:4].isin(codes)
            return _as_mask(hit)
        if name == "arrs_role":
            return column.isin(ARRS_ROLES)
        raise ExpressionError(f"unknown function {name!r}")  # guarded by parse()


def check_references(
    expression: Expression, known_columns: Mapping[str, str], known_codelists: set[str]
) -> list[str]:
    """Problems with what an expression refers to (empty when all is well)."""
    problems = [
        f"unknown column {col!r} in {expression.text!r}"
        for col in sorted(expression.columns - set(known_columns))
    ]
    problems += [
        f"unknown codelist {cl!r} in {expression.text!r}"
        for cl in sorted(expression.codelists - known_codelists)
    ]
    return problems


def to_ibis(
    expression: Expression,
    table: Any,
    *,
    as_of: date,
    codelist_codes: Callable[[str], frozenset[str]],
) -> Any:
    """The same filter as an Ibis boolean expression over ``table`` (an Ibis table), so the
    analytics engine can evaluate definitions in DuckDB or Spark. Null semantics match
    :func:`evaluate`: every comparison with a missing value is false."""
    import ibis

    as_of_ts = pd.Timestamp(as_of)

    def literal_for(column: Any, when: pd.Timestamp) -> Any:
        if column.type().is_date():
            return ibis.literal(when.date())
        return ibis.literal(when.to_pydatetime())

    def visit(node: ast.AST) -> Any:
        if isinstance(node, ast.BoolOp):
            parts = [visit(v) for v in node.values]
            out = parts[0]
            for part in parts[1:]:
                out = (out & part) if isinstance(node.op, ast.And) else (out | part)
            return out
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return ~visit(node.operand)
            return ibis.literal(-node.operand.value)  # type: ignore[attr-defined]
        if isinstance(node, ast.Compare):
            left = value(node.left)
            out = ibis.literal(True)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn):
                    values = [e.value for e in comparator.elts]  # type: ignore[attr-defined]
                    hit = left.isin(values)
                    test = hit if isinstance(op, ast.In) else ~hit
                    out = out & test.fill_null(False)
                    continue
                right = value(comparator)
                out = out & _COMPARE[type(op)](left, right).fill_null(False)  # type: ignore[attr-defined]
                left = right
            return out
        if isinstance(node, ast.Call):
            name = node.func.id  # type: ignore[attr-defined]
            column = table[node.args[0].id]  # type: ignore[attr-defined]
            if name == "is_null":
                return column.isnull()
            if name == "not_null":
                return column.notnull()
            if name == "within_months":
                months = node.args[1].value  # type: ignore[attr-defined]
                start = as_of_ts - pd.DateOffset(months=months)
                return ((column > literal_for(column, start))
                        & (column <= literal_for(column, as_of_ts))).fill_null(False)
            if name == "in_codelist":
                codes = sorted(codelist_codes(node.args[1].value))  # type: ignore[attr-defined]
                text = column.cast("string")
                return (text.isin(codes) | text.substr(0, 3).isin(codes)
                        | text.substr(0, 4).isin(codes)).fill_null(False)
            if name == "arrs_role":
                return column.isin(sorted(ARRS_ROLES)).fill_null(False)
        if isinstance(node, ast.Name):
            if node.id in CONSTANT_NAMES:
                return ibis.literal(CONSTANT_NAMES[node.id])
            return table[node.id].fill_null(False)  # a bare (boolean) column
        raise ExpressionError(f"{type(node).__name__} is not allowed")  # guarded by parse()

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Name) and node.id not in CONSTANT_NAMES:
            return table[node.id]
        if isinstance(node, ast.Constant):
            return ibis.literal(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return ibis.literal(-node.operand.value)  # type: ignore[attr-defined]
        return visit(node)

    return visit(expression.tree.body)
