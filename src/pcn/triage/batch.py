"""The batch contract: ``pcn triage --input IN.csv --output OUT.csv``.

IN has columns ``id,age,sex,text`` (sex F or M); OUT has ``id,urgency,route,red_flags,explanation``
with red-flag rule ids joined by ``;``. The whole input is validated before anything is triaged,
and the output is written to a temporary file and renamed, so a bad file writes nothing.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pcn.triage.model import Decision, Route, TriageRequest, Urgency

INPUT_COLUMNS = ("id", "age", "sex", "text")
LABEL_COLUMNS = ("urgency", "route")
OUTPUT_COLUMNS = ("id", "urgency", "route", "red_flags", "explanation")
MAX_TEXT = 10_000


class BatchError(ValueError):
    """Bad batch input; the message names the file, row and column."""


@dataclass(frozen=True)
class Case:
    id: str
    age: float
    sex: str
    text: str
    urgency: Urgency | None = None
    route: Route | None = None


def _problem(path: Path, line: int, column: str, why: str) -> BatchError:
    return BatchError(f"{path.name}: row {line}, column '{column}': {why}")


def read_cases(path: Path, labelled: bool = False) -> list[Case]:
    """Read and validate every row; raise on the first bad one, naming row and column."""
    if not path.is_file():
        raise BatchError(f"{path}: no such file")
    required = INPUT_COLUMNS + (LABEL_COLUMNS if labelled else ())
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise BatchError(
                    f"{path.name}: missing column(s) {', '.join(missing)}; "
                    f"expected {','.join(required)}"
                )
            cases: list[Case] = []
            seen: set[str] = set()
            for line, row in enumerate(reader, start=2):
                if None in row:
                    raise _problem(
                        path,
                        line,
                        "text",
                        "more fields than columns (quote text that contains commas)",
                    )
                cases.append(_case(path, line, row, seen, labelled))
    except UnicodeDecodeError as e:
        raise BatchError(f"{path.name}: not UTF-8 text ({e.reason})") from None
    except csv.Error as e:
        raise BatchError(f"{path.name}: malformed CSV ({e})") from None
    return cases


def _case(path: Path, line: int, row: dict[str, str], seen: set[str], labelled: bool) -> Case:
    case_id = (row.get("id") or "").strip()
    if not case_id:
        raise _problem(path, line, "id", "is empty")
    if case_id in seen:
        raise _problem(path, line, "id", f"duplicate id {case_id!r}")
    seen.add(case_id)
    raw_age = (row.get("age") or "").strip()
    try:
        age = float(raw_age)
    except ValueError:
        raise _problem(path, line, "age", f"{raw_age!r} is not a number of years") from None
    if not 0 <= age <= 130:
        raise _problem(path, line, "age", f"{raw_age} is outside 0–130")
    sex = (row.get("sex") or "").strip().upper()
    if sex not in ("F", "M"):
        raise _problem(path, line, "sex", f"{row.get('sex')!r} must be F or M")
    text = (row.get("text") or "").strip()
    if not text:
        raise _problem(path, line, "text", "is empty")
    if len(text) > MAX_TEXT:
        raise _problem(path, line, "text", f"longer than {MAX_TEXT} characters")
    urgency = route = None
    if labelled:
        try:
            urgency = Urgency((row.get("urgency") or "").strip())
        except ValueError:
            raise _problem(
                path,
                line,
                "urgency",
                f"{row.get('urgency')!r} is not one of {', '.join(u.value for u in Urgency)}",
            ) from None
        try:
            route = Route((row.get("route") or "").strip())
        except ValueError:
            raise _problem(
                path, line, "route", f"{row.get('route')!r} is not a known route"
            ) from None
    return Case(case_id, age, sex, text, urgency, route)


def output_row(case: Case, decision: Decision) -> dict[str, str]:
    return {
        "id": case.id,
        "urgency": decision.urgency.value,
        "route": decision.route.value,
        "red_flags": ";".join(decision.red_flags),
        "explanation": decision.explanation,
    }


def run_batch(
    source: Path,
    target: Path,
    triage: Callable[[TriageRequest], Decision],
    progress: Callable[[Iterable[Case]], Iterable[Case]] = lambda cases: cases,
) -> int:
    """Triage every row of ``source`` into ``target``; returns the number of rows written."""
    cases = read_cases(source)
    if not target.parent.is_dir():
        raise BatchError(f"{target.parent}: output directory does not exist")
    rows = [
        output_row(c, triage(TriageRequest(text=c.text, age=c.age, sex=c.sex)))
        for c in progress(cases)
    ]
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=OUTPUT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)
