"""Accounts and API tokens: argon2 passwords, hashed tokens, disable/revoke effective at once."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pcn.access.policy import Role
from pcn.store import accounts
from pcn.store.accounts import AccountError
from pcn.store.database import Store


def test_generated_password_signs_in_and_only_an_argon2_hash_is_stored(store: Store) -> None:
    account, password = accounts.create_user(store, "Dr.Ann", "practice_clinician",
                                              practice_code="a81001", display_name="Dr Ann")
    assert password is not None and len(password) >= 12
    assert (account.username, account.role, account.practice_code) == (
        "dr.ann", Role.PRACTICE_CLINICIAN, "A81001")
    with store.engine.connect() as conn:
        stored = conn.scalar(text("SELECT password_hash FROM users WHERE username = 'dr.ann'"))
    assert stored.startswith("$argon2id$") and password not in stored

    principal = accounts.authenticate(store, "dr.ann", password)
    assert principal is not None and principal.practice_code == "A81001"
    assert accounts.authenticate(store, "DR.ANN ", password) is not None  # names are normalised
    assert accounts.authenticate(store, "dr.ann", password + "x") is None
    assert accounts.authenticate(store, "nobody", password) is None


def test_given_password_is_used_and_disabled_accounts_cannot_sign_in(store: Store) -> None:
    _, generated = accounts.create_user(store, "cd", "clinical_director",
                                        password="correct horse battery")
    assert generated is None
    assert accounts.authenticate(store, "cd", "correct horse battery") is not None
    accounts.disable_user(store, "cd")
    assert accounts.authenticate(store, "cd", "correct horse battery") is None
    assert [a.active for a in accounts.list_users(store)] == [False]


@pytest.mark.parametrize(("username", "role", "practice", "password", "message"), [
    ("x", "analyst", None, "long enough pw", "username"),
    ("ann smith", "analyst", None, "long enough pw", "username"),
    ("ann", "superuser", None, "long enough pw", "role 'superuser'"),
    ("ann", "practice_clinician", None, "long enough pw", "--practice"),
    ("ann", "analyst", "NOT-A-CODE", "long enough pw", "practice"),
    ("ann", "analyst", None, "short", "password too short"),
])
def test_bad_account_input_is_refused_and_nothing_written(
        sqlite_store: Store, username: str, role: str, practice: str | None, password: str,
        message: str) -> None:
    with pytest.raises(AccountError, match=message):
        accounts.create_user(sqlite_store, username, role, practice_code=practice,
                             password=password)
    assert accounts.list_users(sqlite_store) == []


def test_duplicate_username_is_refused(store: Store) -> None:
    accounts.create_user(store, "ann", "analyst")
    with pytest.raises(AccountError, match="already taken"):
        accounts.create_user(store, "ANN", "admin")


def test_token_authenticates_and_only_its_hash_is_stored(store: Store) -> None:
    accounts.create_user(store, "api", "analyst")
    token = accounts.issue_token(store, "api", label="dashboard")
    assert token.startswith("pcn_")
    principal = accounts.authenticate_token(store, token)
    assert principal is not None and principal.username == "api"
    secret = token.split("_", 2)[2]
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT selector, secret_hash, label FROM api_tokens")).all()
    assert len(rows) == 1 and all(secret not in str(value) for value in rows[0])

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, "", "pcn_", "Bearer " + token, token.replace("pcn_", "xyz_", 1)):
        assert accounts.authenticate_token(store, bad) is None


def test_revoked_tokens_and_tokens_of_disabled_users_are_rejected(store: Store) -> None:
    accounts.create_user(store, "api", "analyst")
    first = accounts.issue_token(store, "api")
    second = accounts.issue_token(store, "api")
    assert accounts.revoke_tokens(store, "api") == 2
    assert accounts.authenticate_token(store, first) is None
    assert accounts.authenticate_token(store, second) is None

    third = accounts.issue_token(store, "api")
    assert accounts.authenticate_token(store, third) is not None
    accounts.disable_user(store, "api")
    assert accounts.authenticate_token(store, third) is None
    with pytest.raises(AccountError, match="disabled"):
        accounts.issue_token(store, "api")


def test_tokens_expire_and_a_lifetime_must_be_positive(store: Store) -> None:
    import datetime as dt

    accounts.create_user(store, "api", "analyst")
    token = accounts.issue_token(store, "api", lifetime=dt.timedelta(minutes=5))
    assert accounts.authenticate_token(store, token) is not None
    with store.engine.begin() as conn:  # five minutes and a second later
        conn.execute(text("UPDATE api_tokens SET expires_at = :t"),
                     {"t": dt.datetime(2000, 1, 1)})
    assert accounts.authenticate_token(store, token) is None
    default = accounts.issue_token(store, "api")
    with store.read() as session:
        from pcn.store.models import ApiToken

        row = session.query(ApiToken).filter_by(selector=default.split("_")[1]).one()
        assert row.expires_at - row.created_at == accounts.TOKEN_LIFETIME
    with pytest.raises(AccountError, match="positive"):
        accounts.issue_token(store, "api", lifetime=dt.timedelta(0))


def test_web_sessions_are_new_per_sign_in_and_end_at_sign_out(store: Store) -> None:
    import datetime as dt

    accounts.create_user(store, "web", "analyst")
    day = dt.timedelta(hours=8)
    first, second = accounts.open_session(store, "web"), accounts.open_session(store, "web")
    assert first != second
    assert accounts.session_live(store, first, "web", day)
    assert not accounts.session_live(store, first, "someone_else", day)
    assert not accounts.session_live(store, "no-such-session", "web", day)
    accounts.close_session(store, first)
    assert not accounts.session_live(store, first, "web", day)
    assert accounts.session_live(store, second, "web", day)
    assert not accounts.session_live(store, second, "web", dt.timedelta(0))


def test_production_hashing_uses_rfc9106_parameters_and_cheapest_needs_debug(
        sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.config import get_settings

    monkeypatch.setenv("PCN_PASSWORD_HASHING", "rfc9106_low_memory")
    monkeypatch.setenv("PCN_DEBUG", "false")
    get_settings.cache_clear()
    # RFC 9106 section 4, second recommended option: 64 MiB, 3 passes, 4 lanes
    assert accounts.hash_password("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    monkeypatch.setenv("PCN_PASSWORD_HASHING", "cheapest")
    get_settings.cache_clear()
    with pytest.raises(AccountError, match="tests only"):
        accounts.hash_password("x" * 12)


def test_reads_do_not_wait_for_a_writer_on_sqlite(sqlite_store: Store) -> None:
    """SQLite writers take the lock at BEGIN; readers must not queue behind them."""
    import time

    from pcn.store.models import User

    accounts.create_user(sqlite_store, "ann", "analyst")
    with sqlite_store.session() as writing:
        writing.get(User, 1).display_name = "Ann (being edited)"  # type: ignore[union-attr]
        writing.flush()  # the write lock is held from here to commit
        started = time.perf_counter()
        account = accounts.get_account(sqlite_store, "ann")
        assert time.perf_counter() - started < 2
        assert account is not None and account.display_name == "ann"  # the committed state
