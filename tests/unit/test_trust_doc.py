"""docs/reference/trust.md maps every TRUST row to tests that exist and run on the engines it
claims (like the hazard log test, TRUST row 19)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs/reference/trust.md"
REQUIRED_ROWS = {*range(1, 14), 16, 17, 18, 19}
#: rows that may be a gap (none: every row of the checklist's scope has tests)
MAY_BE_GAPS: set[int] = set()
#: fixtures parametrized over SQLite and PostgreSQL (tests/databases.py, tests/web/conftest.py)
BOTH = {"store", "empty_store", "web_world", "web_app", "api", "clients", "tokens",
        "serve_database"}
POSTGRES = {"pg_store", "pg_empty_store"}


#: the attack findings of issue 16 (rows A1..A12), each with its reproducing test
FINDINGS = {f"A{n}" for n in range(1, 13)}


def _table(first_cell: str) -> list[tuple[str, list[str], str, str]]:
    rows = []
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(first_cell, cells[0]):
            tests = re.findall(r"`(tests/[^`:]+\.py::\w+)`", cells[2])
            rows.append((cells[0], tests, cells[3], cells[2]))
    return rows


def _rows() -> list[tuple[int, list[str], str, str]]:
    return [(int(number), tests, engines, text)
            for number, tests, engines, text in _table(r"\d+")]


def _findings() -> list[tuple[str, list[str], str, str]]:
    return _table(r"A\d+")


def _functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {n.name: n for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_row_is_listed_with_tests_or_an_allowed_gap() -> None:
    rows = _rows()
    listed = {number for number, *_ in rows}
    assert REQUIRED_ROWS <= listed, f"rows missing: {sorted(REQUIRED_ROWS - listed)}"
    for number, tests, _, text in rows:
        if not tests:
            assert "**gap**" in text and number in MAY_BE_GAPS, f"row {number} cites no test"


def test_every_attack_finding_is_listed_with_its_tests() -> None:
    findings = _findings()
    listed = [name for name, *_ in findings]  # a finding may take two rows (engines differ)
    assert set(listed) == FINDINGS, f"findings missing: {sorted(FINDINGS - set(listed))}"
    for name, tests, _, _ in findings:
        assert tests, f"finding {name} cites no test"


def test_every_cited_test_exists_and_runs_on_the_engines_claimed() -> None:
    problems = []
    for number, tests, engines, _ in [*_rows(), *_findings()]:
        for ref in tests:
            file, _, name = ref.partition("::")
            path = ROOT / file
            functions = _functions(path) if path.exists() else {}
            if name not in functions:
                problems.append(f"row {number}: {ref} not found")
                continue
            fixtures = {a.arg for a in functions[name].args.args}
            if engines == "both" and not fixtures & BOTH:
                problems.append(f"row {number}: {ref} does not run on both engines")
            if engines == "PostgreSQL" and not fixtures & POSTGRES:
                problems.append(f"row {number}: {ref} does not run on PostgreSQL")
    assert not problems, "\n".join(problems)
