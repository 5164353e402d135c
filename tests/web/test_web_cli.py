"""`pcn demo accounts` and `pcn serve` start-up checks."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from pcn.cli.main import app
from tests.web.conftest import WebWorld


def test_demo_accounts_print_working_logins(web_world: WebWorld) -> None:
    from pcn.store import open_store
    from pcn.store.accounts import authenticate

    result = CliRunner().invoke(app, ["demo", "accounts", "--record", str(web_world.record)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = re.findall(r"│ (\S+)\s+│ (\S+)\s+│ (\w+)\s+│ (\w+)\s+│", result.output)
    assert {r[2] for r in rows} == {"clinical_director", "pcn_manager", "practice_clinician",
                                    "care_coordinator", "analyst"}
    store = open_store()
    for username, password, role, _ in rows:
        principal = authenticate(store, username, password)
        assert principal is not None and principal.role.value == role
    again = CliRunner().invoke(app, ["demo", "accounts", "--record", str(web_world.record)],
                               env={"COLUMNS": "200"})
    assert again.exit_code == 0  # re-running resets passwords instead of failing
    store.dispose()


def test_serve_refuses_to_start_without_a_secret(web_world: WebWorld,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.config import get_settings

    monkeypatch.delenv("PCN_SECRET_KEY", raising=False)
    monkeypatch.setenv("PCN_DEBUG", "false")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["serve", "--record", str(web_world.record)])
    assert result.exit_code == 2
    assert "PCN_SECRET_KEY" in result.output
