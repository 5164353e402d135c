"""The store's CLI end to end: pcn db / users / sharing / audit, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pcn.access import guard
from pcn.access.policy import Action
from pcn.cli.main import app
from pcn.config import get_settings
from pcn.store import accounts
from pcn.store.database import Store, open_store

runner = CliRunner()


def pcn(*args: str, stdin: str | None = None, code: int = 0) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def cli_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
              cheap_password_hashing: None) -> Store:
    """The store the CLI itself opens from Settings: default SQLite, or PCN_DATABASE_URL."""
    if request.param == "postgres":
        empty: Store = request.getfixturevalue("pg_empty_store")
        monkeypatch.setenv("PCN_DATABASE_URL", empty.url.replace("postgresql+psycopg", "postgres"))
    get_settings.cache_clear()
    return open_store()


BOTH = pytest.mark.parametrize(
    "cli_store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@BOTH
def test_accounts_sharing_and_audit_from_the_command_line(cli_store: Store) -> None:
    out = pcn("users", "list", code=2)
    assert "pcn db upgrade" in out  # an unmigrated store is refused with the fix
    pcn("db", "upgrade")

    out = pcn("users", "add", "gp.a", "--role", "practice_clinician", "--practice", "A81001")
    password = out.strip().splitlines()[-1]
    assert accounts.authenticate(cli_store, "gp.a", password) is not None
    pcn("users", "add", "ana", "--role", "analyst", "--password-stdin",
        stdin="a long enough passphrase\n")
    assert accounts.authenticate(cli_store, "ana", "a long enough passphrase") is not None
    assert "--practice" in pcn("users", "add", "gp.b", "--role", "practice_clinician", code=2)

    listing = pcn("users", "list")
    assert "gp.a" in listing and "ana" in listing and "A81001" in listing
    assert "pcn_manager" in pcn("users", "set-role", "ana", "--role", "pcn_manager")
    assert "pcn_manager" in pcn("users", "list")

    token = pcn("users", "token", "ana").strip()
    assert re.fullmatch(r"pcn_[0-9a-f]{16}_[\w-]+", token)
    assert accounts.authenticate_token(cli_store, token) is not None
    pcn("users", "disable", "ana")
    assert accounts.authenticate_token(cli_store, token) is None

    assert "agreement 1" in pcn("sharing", "add", "--from", "B82002", "--to", "A81001",
                                "--reference", "DSA-1")
    assert guard.authorise(cli_store, "gp.a", Action.VIEW_PATIENT, patient_id=77,
                           patient_practices=frozenset({"B82002"})).allowed
    pcn("sharing", "revoke", "1")
    assert not guard.authorise(cli_store, "gp.a", Action.VIEW_PATIENT, patient_id=77,
                               patient_practices=frozenset({"B82002"})).allowed

    report = pcn("audit", "who-viewed", "77")
    assert "2 event(s)" in report and "allowed" in report and "denied" in report
    assert "chain intact" in pcn("audit", "verify")


@pytest.mark.parametrize("cli_store", ["sqlite"], indirect=True)
def test_audit_verify_fails_on_an_edited_trail(cli_store: Store) -> None:
    pcn("db", "upgrade")
    pcn("users", "add", "gp.a", "--role", "practice_clinician", "--practice", "A81001")
    pcn("users", "disable", "gp.a")
    with cli_store.engine.begin() as conn:  # out of band, as the file's owner could
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET detail = '{}' WHERE seq = 1"))
    out = pcn("audit", "verify", code=1)
    assert "event 1: content does not match its hash" in out


@pytest.mark.parametrize("cli_store", ["sqlite"], indirect=True)
def test_db_downgrade_needs_yes_then_empties_the_store(cli_store: Store) -> None:
    pcn("db", "upgrade")
    assert "--yes" in pcn("db", "downgrade", code=2)
    pcn("db", "downgrade", "--yes")
    assert "revision empty" in pcn("db", "current")


@pytest.mark.parametrize("group", ["db", "users", "sharing", "audit"])
def test_every_store_command_has_help(group: str) -> None:
    top = pcn(group, "--help")
    commands = re.findall(r"│ ([a-z][a-z-]+) ", top)
    assert commands, top
    for command in commands:
        assert "Usage:" in pcn(group, command, "--help")


@pytest.mark.parametrize("cli_store", ["sqlite"], indirect=True)
def test_users_demo_prints_working_logins_for_the_default_pcn(cli_store: Store) -> None:
    pcn("db", "upgrade")
    out = pcn("users", "demo")
    rows = re.findall(r"│ (demo\.[\w.]+)\s+│ (\S+)\s+│", out)
    assert len(rows) >= 6
    for username, password in rows:
        assert accounts.authenticate(cli_store, username, password) is not None, username
