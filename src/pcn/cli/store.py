"""``pcn db``, ``pcn users``, ``pcn sharing`` and ``pcn audit``: the operational store from a shell.

Administrative changes made here are audited too, under the operating-system account that ran them
(role ``system``), so the trail shows who created an account or a sharing agreement.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from typing import Any

import typer
from rich.table import Table

from pcn.access.policy import NETWORK, DataScope, Purpose, Role
from pcn.cli.common import console, fail, user_errors
from pcn.store import accounts, audit, migrate, sharing
from pcn.store.accounts import AccountError
from pcn.store.database import Store, StoreError, open_store
from pcn.store.sharing import SharingError

ERRORS = (AccountError, SharingError, StoreError)

db_app = typer.Typer(help="Create, upgrade or downgrade the operational store's schema.",
                     no_args_is_help=True)
users_app = typer.Typer(help="Local accounts and API tokens.", no_args_is_help=True)
sharing_app = typer.Typer(help="Data-sharing agreements between practices; break-glass reviews.",
                          no_args_is_help=True)
audit_app = typer.Typer(help="Verify the audit trail; who viewed a patient's record.",
                        no_args_is_help=True)


def _store(migrated: bool = True) -> Store:
    with user_errors(*ERRORS):
        store = open_store()
        if migrated:
            migrate.require_head(store)
    return store


def _audit_admin(store: Store, action: str, detail: dict[str, Any]) -> None:
    audit.record(store, audit.Event(username=f"os:{getpass.getuser()}", role="system",
                                    action=action, outcome="ok", detail=detail))


# ---- pcn db -----------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Option("head", help="Target revision.")) -> None:
    """Create or migrate the store's schema (SQLite file by default, or PCN_DATABASE_URL)."""
    store = _store(migrated=False)
    with user_errors(*ERRORS), console.status("migrating…"):
        migrate.upgrade(store, revision)
    console.print(f"[green]ok[/]: {store!r} at revision {migrate.current_revision(store)}")


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Option("base", help="Target revision ('base' drops everything)."),
    yes: bool = typer.Option(False, "--yes", help="Confirm: this can drop tables and the audit "
                             "trail."),
) -> None:
    """Migrate the schema down (to 'base': drop every table, the audit trail included)."""
    if not yes:
        raise fail("downgrading can destroy data, including the audit trail: add --yes")
    store = _store(migrated=False)
    with user_errors(*ERRORS):
        migrate.downgrade(store, revision)
    console.print(f"ok: {store!r} at revision {migrate.current_revision(store) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Print the store's URL (without password), its revision and the code's head revision."""
    store = _store(migrated=False)
    console.print(f"{store!r}: revision {migrate.current_revision(store) or 'empty'} "
                  f"(head {migrate.head_revision()})")


@db_app.command("grant-app-role")
def db_grant_app_role(
    role: str = typer.Argument(..., help="PostgreSQL role the application connects as."),
    create: bool = typer.Option(False, "--create", help="Create the role (LOGIN) if missing."),
) -> None:
    """PostgreSQL: give the app's role its privileges (no UPDATE/DELETE on the audit trail)."""
    from pcn.store.roles import grant_app_role

    store = _store()
    with user_errors(*ERRORS):
        grant_app_role(store, role, create=create)
    console.print(f"[green]ok[/]: {role} may use the store; audit_events is INSERT/SELECT only")


# ---- pcn users --------------------------------------------------------------------------------
@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name (lower-case letters, digits, . _ -)."),
    role: str = typer.Option(..., "--role", help="One of: " + ", ".join(r.value for r in Role)),
    practice: str = typer.Option("", "--practice", help="ODS code of the user's practice "
                                 "(required for practice staff; empty for PCN staff)."),
    display_name: str = typer.Option("", "--name", help="Name shown in the app."),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Read the password from the first line of stdin "
                                        "instead of generating one."),
) -> None:
    """Create an account; prints the generated password unless --password-stdin is given."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    store = _store()
    with user_errors(*ERRORS):
        account, generated = accounts.create_user(store, username, role,
                                                  practice_code=practice or None,
                                                  display_name=display_name, password=password)
    _audit_admin(store, "manage_users", {"op": "add", "user": account.username,
                                         "role": account.role.value,
                                         "practice_code": account.practice_code})
    where = account.practice_code or NETWORK
    console.print(f"[green]created[/] {account.username} ({account.role.value}, {where})")
    if generated:
        console.print("password (shown once):", highlight=False)
        typer.echo(generated)


@users_app.command("list")
def users_list() -> None:
    """List accounts: name, role, practice, active."""
    store = _store()
    table = Table(header_style="bold")
    for column in ("username", "name", "role", "practice", "active", "created"):
        table.add_column(column)
    for a in accounts.list_users(store):
        table.add_row(a.username, a.display_name, a.role.value, a.practice_code or NETWORK,
                      "yes" if a.active else "[red]no[/]", str(a.created_at)[:19])
    console.print(table)


@users_app.command("disable")
def users_disable(username: str = typer.Argument(..., help="Account to disable.")) -> None:
    """Disable an account and revoke its tokens (effective on its next request)."""
    store = _store()
    with user_errors(*ERRORS):
        accounts.disable_user(store, username)
    _audit_admin(store, "manage_users", {"op": "disable", "user": username})
    console.print(f"disabled {username}")


@users_app.command("set-role")
def users_set_role(
    username: str = typer.Argument(..., help="Account to change."),
    role: str = typer.Option(..., "--role", help="One of: " + ", ".join(r.value for r in Role)),
    practice: str = typer.Option("", "--practice", help="ODS code of the user's practice "
                                 "(empty for PCN staff)."),
) -> None:
    """Change an account's role and practice (effective on its next request)."""
    store = _store()
    with user_errors(*ERRORS):
        account = accounts.set_role(store, username, role, practice or None)
    _audit_admin(store, "manage_users", {"op": "set_role", "user": account.username,
                                         "role": account.role.value,
                                         "practice_code": account.practice_code})
    console.print(f"{account.username}: {account.role.value}, "
                  f"{account.practice_code or NETWORK}")


@users_app.command("token")
def users_token(
    username: str = typer.Argument(..., help="Account the token acts as."),
    label: str = typer.Option("", help="What the token is for."),
    days: int = typer.Option(90, min=1, max=366, help="Days until the token expires."),
) -> None:
    """Print a new API bearer token (only its hash is stored: copy it now)."""
    store = _store()
    with user_errors(*ERRORS):
        token = accounts.issue_token(store, username, label, dt.timedelta(days=days))
    _audit_admin(store, "manage_users", {"op": "token", "user": username, "label": label,
                                         "days": days})
    typer.echo(token)


@users_app.command("revoke-tokens")
def users_revoke_tokens(username: str = typer.Argument(..., help="Account.")) -> None:
    """Revoke every live API token of an account."""
    store = _store()
    with user_errors(*ERRORS):
        count = accounts.revoke_tokens(store, username)
    _audit_admin(store, "manage_users", {"op": "revoke_tokens", "user": username, "count": count})
    console.print(f"revoked {count} token(s) of {username}")


@users_app.command("demo")
def users_demo(
    practices: list[str] = typer.Option([], "--practice", help="Member practice (repeatable); "
                                        "default: the practices of --pcn."),
    pcn_code: str = typer.Option("", "--pcn", help="PCN ODS code (default: settings.default_pcn)."),
) -> None:
    """Create or reset demo accounts (one per role) and the PCN's agreements; print logins."""
    from pcn.config import get_settings
    from pcn.refdata import UnknownCode, pcn_practices
    from pcn.store.demo import seed_demo

    store = _store()
    if not practices:
        with user_errors(UnknownCode):
            frame = pcn_practices(pcn_code or get_settings().default_pcn)
        practices = list(frame["practice_code"])
    with user_errors(*ERRORS, ValueError), console.status("creating demo accounts…"):
        logins = seed_demo(store, practices)
    _audit_admin(store, "manage_users", {"op": "demo", "accounts": len(logins)})
    table = Table(title="Demo logins (passwords reset on every run)", header_style="bold")
    for column in ("username", "password", "role", "practice"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.password, login.role,
                      login.practice_code or NETWORK)
    console.print(table)


# ---- pcn sharing ------------------------------------------------------------------------------
def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from None


@sharing_app.command("add")
def sharing_add(
    from_practices: list[str] = typer.Option(..., "--from", help="Practice sharing its patients "
                                             "(repeat for several)."),
    to_orgs: list[str] = typer.Option(..., "--to", help=f"Practice receiving access, or "
                                      f"'{NETWORK}' for PCN staff (repeatable)."),
    scope: str = typer.Option(DataScope.VIEW.value, "--scope",
                              help="view | view_and_export"),
    purpose: str = typer.Option(Purpose.DIRECT_CARE.value, "--purpose",
                                help="direct_care | population_health | planning"),
    valid_from: str = typer.Option("", "--valid-from", help="First day (default today)."),
    valid_to: str = typer.Option("", "--valid-to", help="Last day (default open-ended)."),
    reference: str = typer.Option("", "--reference", help="The signed agreement's reference."),
) -> None:
    """Record a data-sharing agreement (who, what data, purpose, dates)."""
    store = _store()
    start = _date(valid_from, "--valid-from") if valid_from else dt.date.today()
    end = _date(valid_to, "--valid-to") if valid_to else None
    with user_errors(*ERRORS):
        agreement = sharing.add_agreement(
            store, from_practices=from_practices, to_orgs=to_orgs, data_scope=scope,
            purpose=purpose, valid_from=start, valid_to=end, reference=reference,
            created_by=f"os:{getpass.getuser()}")
    _audit_admin(store, "manage_agreements", {"op": "add", "agreement_id": agreement.agreement_id})
    console.print(f"[green]agreement {agreement.agreement_id}[/]: "
                  f"{', '.join(sorted(agreement.from_practices))} → "
                  f"{', '.join(sorted(agreement.to_orgs))} ({scope}, {purpose}, from {start})")


@sharing_app.command("list")
def sharing_list() -> None:
    """List sharing agreements, revoked ones included."""
    store = _store()
    table = Table(header_style="bold")
    for column in ("id", "reference", "from", "to", "scope", "purpose", "valid", "revoked"):
        table.add_column(column)
    for a, reference in sharing.list_agreements(store):
        table.add_row(str(a.agreement_id), reference, ", ".join(sorted(a.from_practices)),
                      ", ".join(sorted(a.to_orgs)), a.data_scope.value, a.purpose.value,
                      f"{a.valid_from} – {a.valid_to or '…'}",
                      str(a.revoked_at)[:19] if a.revoked_at else "")
    console.print(table)


@sharing_app.command("revoke")
def sharing_revoke(agreement_id: int = typer.Argument(..., help="Agreement id.")) -> None:
    """End an agreement now (effective on the next request)."""
    store = _store()
    with user_errors(*ERRORS):
        sharing.revoke_agreement(store, agreement_id, revoked_by=f"os:{getpass.getuser()}")
    _audit_admin(store, "manage_agreements", {"op": "revoke", "agreement_id": agreement_id})
    console.print(f"revoked agreement {agreement_id}")


@sharing_app.command("reviews")
def sharing_reviews(
    all_: bool = typer.Option(False, "--all", help="Include reviewed grants."),
) -> None:
    """Break-glass grants flagged for review."""
    store = _store()
    table = Table(header_style="bold")
    for column in ("grant", "user", "patient", "granted", "reason", "review"):
        table.add_column(column)
    for g in sharing.grants_to_review(store, include_reviewed=all_):
        table.add_row(str(g.grant_id), g.username, str(g.patient_id), str(g.granted_at)[:19],
                      g.reason, f"{g.review_outcome} by {g.reviewed_by}" if g.reviewed_by else
                      "[yellow]pending[/]")
    console.print(table)


# ---- pcn audit --------------------------------------------------------------------------------
@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain and check it against the anchors kept outside the database;
    exit 1 naming each edited, deleted or out-of-order event, and each anchor the trail no
    longer matches (a rewritten chain, a cut tail, a moved head)."""
    from pcn.store import anchors

    store = _store()
    with console.status("verifying the audit chain…"):
        report = audit.verify(store)
        checked, anchor_problems = anchors.check_anchors(store)
    problems = report.problems + anchor_problems
    if not problems:
        console.print(f"[green]ok[/]: {report.events_checked:,} events, chain intact; "
                      f"head {report.head_seq} {report.head_hash}; {checked:,} anchor(s) match")
        if not checked:
            console.print(f"[yellow]no anchors in {anchors.anchor_file()}[/]: a rewrite of the "
                          "whole chain would not be detected; run `pcn audit anchor` "
                          "regularly (pcn serve does)", highlight=False)
        return
    for problem in problems:
        console.print(f"[red]✗[/] {problem}", highlight=False)
    raise fail(f"audit chain broken: {len(problems)} problem(s)", code=1)


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Append the chain head (sequence number and hash), signed, to the anchor file outside the
    database and to the technical log (run from cron; `pcn serve` does it periodically)."""
    from pcn.store import anchors

    store = _store()
    anchor = anchors.write_anchor(store)
    console.print(f"anchored event {anchor.seq} {anchor.hash} in {anchors.anchor_file()}",
                  highlight=False)


@audit_app.command("who-viewed")
def audit_who_viewed(
    patient_id: int = typer.Argument(..., help="Patient (pseudonymous patient_id)."),
    allowed_only: bool = typer.Option(False, "--allowed-only", help="Hide refused attempts."),
) -> None:
    """Who viewed (or tried to view) one patient's record, oldest first."""
    store = _store()
    rows = audit.who_viewed(store, patient_id, include_denied=not allowed_only)
    table = Table(title=f"Accesses to patient {patient_id}", header_style="bold")
    for column in ("seq", "when (UTC)", "user", "role", "practice", "action", "purpose",
                   "outcome"):
        table.add_column(column)
    for r in rows:
        table.add_row(str(r.seq), str(r.occurred_at)[:19], r.username, r.role,
                      r.practice_code or "", r.action, r.purpose or "", r.outcome)
    console.print(table)
    console.print(f"{len(rows)} event(s)")
