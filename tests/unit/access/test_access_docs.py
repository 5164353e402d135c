"""The reference page is the spec: its role table must equal the code's, and it must mention every
store command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pcn.access.policy import ROLE_ACTIONS, Action, Role
from pcn.cli.store import audit_app, db_app, sharing_app, users_app

DOC = Path(__file__).resolve().parents[3] / "docs" / "reference" / "access-and-audit.md"


def _role_table() -> dict[str, set[str]]:
    lines = [line for line in DOC.read_text().splitlines() if line.startswith("| ")]
    header = next(line for line in lines if line.startswith("| role |"))
    actions = [c.strip() for c in header.strip("|").split("|")][1:]
    table = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in {r.value for r in Role}:
            table[cells[0]] = {a for a, c in zip(actions, cells[1:], strict=True) if c == "✓"}
    return table


def test_documented_role_table_equals_the_policy() -> None:
    table = _role_table()
    assert set(table) == {r.value for r in Role}
    for role, actions in ROLE_ACTIONS.items():
        assert table[role.value] == {a.value for a in actions}, role
    header_actions = set().union(*table.values())
    assert header_actions <= {a.value for a in Action}


@pytest.mark.parametrize(("group", "typer_app"), [("db", db_app), ("users", users_app),
                                                  ("sharing", sharing_app), ("audit", audit_app)])
def test_every_store_command_is_documented(group: str, typer_app: object) -> None:
    text = DOC.read_text()
    for command in typer_app.registered_commands:  # type: ignore[attr-defined]
        assert re.search(rf"pcn {group} {command.name}\b", text), f"pcn {group} {command.name}"
