"""Local accounts and API tokens: create, list, disable, authenticate.

Passwords are hashed with Argon2id (argon2-cffi defaults, RFC 9106 low-memory profile). API tokens
look like ``pcn_<selector>_<secret>``: the selector finds the row, only SHA-256 of the 256-bit
secret is stored and compared in constant time. A slow hash adds nothing for a random 256-bit
secret, and no server key is involved, so rotating ``PCN_SECRET_KEY`` never locks API clients
out (ADR 0052).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pcn.access.policy import PRACTICE_ROLES, Principal, Role
from pcn.config import get_settings
from pcn.store.database import Store, now_utc
from pcn.store.models import ApiToken, User, WebSession

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
PRACTICE_PATTERN = re.compile(r"^[A-Z][0-9A-Z]{4,5}$")
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "pcn"
#: How long a new API token lives unless told otherwise (``pcn users token --days``).
TOKEN_LIFETIME = dt.timedelta(days=90)



@lru_cache(maxsize=4)
def _hasher_for(profile: str) -> tuple[PasswordHasher, str]:
    """The hasher for a parameter profile, and a hash to verify against for unknown usernames
    (so a miss costs as much time as a wrong password)."""
    parameters = {"rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
                  "cheapest": profiles.CHEAPEST}[profile]
    hasher = PasswordHasher.from_parameters(parameters)
    return hasher, hasher.hash(secrets.token_urlsafe(16))


def _hasher() -> tuple[PasswordHasher, str]:
    settings = get_settings()
    if settings.password_hashing == "cheapest" and not settings.debug:
        raise AccountError("PCN_PASSWORD_HASHING=cheapest is for tests only (needs PCN_DEBUG)")
    return _hasher_for(settings.password_hashing)


class AccountError(ValueError):
    """Bad account input or an unknown account (message says which field and why)."""


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: Role
    practice_code: str | None
    active: bool
    created_at: object

    def principal(self) -> Principal:
        return Principal(self.username, self.role, self.practice_code, self.active)


def _account(user: User) -> Account:
    return Account(user.username, user.display_name, Role(user.role), user.practice_code,
                   user.active, user.created_at)


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, ~120 bits


def _check_new(username: str, role: str, practice_code: str | None, password: str) -> None:
    if not USERNAME_PATTERN.match(username):
        raise AccountError(f"username {username!r}: use 2-64 lower-case letters, digits, '.', '_' "
                           "or '-', starting with a letter or digit")
    if role not in {r.value for r in Role}:
        raise AccountError(f"role {role!r} is not one of {', '.join(r.value for r in Role)}")
    if practice_code is not None and not PRACTICE_PATTERN.match(practice_code):
        raise AccountError(f"practice {practice_code!r} is not an ODS practice code like A81016")
    if Role(role) in PRACTICE_ROLES and practice_code is None:
        raise AccountError(f"role {role} is practice staff: give --practice CODE")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")


def create_user(store: Store, username: str, role: str, *, practice_code: str | None = None,
                display_name: str = "", password: str | None = None) -> tuple[Account, str | None]:
    """Create an account; returns it and the generated password when none was given."""
    username = username.strip().lower()
    practice_code = practice_code.strip().upper() if practice_code else None
    generated = None
    if password is None:
        password = generated = generate_password()
    _check_new(username, role, practice_code, password)
    with store.session() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise AccountError(f"username {username!r} is already taken")
        user = User(username=username, display_name=display_name.strip() or username,
                    password_hash=hash_password(password), role=role,
                    practice_code=practice_code, active=True, created_at=now_utc())
        session.add(user)
        session.flush()
        return _account(user), generated


def list_users(store: Store) -> list[Account]:
    with store.read() as session:
        return [_account(u) for u in session.scalars(select(User).order_by(User.username))]


def get_account(store: Store, username: str) -> Account | None:
    with store.read() as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        return _account(user) if user else None


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise AccountError(f"no account named {username!r}")
    return user


def disable_user(store: Store, username: str) -> None:
    """Disable an account and revoke its tokens; effective on the user's next request."""
    with store.session() as session:
        user = _user(session, username)
        now = now_utc()
        user.active = False
        user.disabled_at = now
        for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                            ApiToken.revoked_at.is_(None))):
            token.revoked_at = now


def set_role(store: Store, username: str, role: str, practice_code: str | None) -> Account:
    """Change an account's role and practice; effective on the user's next request."""
    practice_code = practice_code.strip().upper() if practice_code else None
    with store.session() as session:
        user = _user(session, username)
        _check_new(user.username, role, practice_code, "x" * MIN_PASSWORD_LENGTH)
        user.role, user.practice_code = role, practice_code
        return _account(user)


def set_password(store: Store, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    with store.session() as session:
        _user(session, username).password_hash = hash_password(password)


def authenticate(store: Store, username: str, password: str) -> Principal | None:
    """The principal for a correct username and password of an active account, else None."""
    with store.session() as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        hasher, dummy_hash = _hasher()
        stored = user.password_hash if user is not None else dummy_hash
        try:
            hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None or not user.active:
            return None
        if hasher.check_needs_rehash(stored):
            user.password_hash = hash_password(password)
        return _account(user).principal()


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(store: Store, username: str, label: str = "",
                lifetime: dt.timedelta = TOKEN_LIFETIME) -> str:
    """A new bearer token for an active account, valid for ``lifetime``; printed once, only its
    hash is kept."""
    if lifetime <= dt.timedelta(0):
        raise AccountError(f"token lifetime must be positive, not {lifetime}")
    selector = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    with store.session() as session:
        user = _user(session, username)
        if not user.active:
            raise AccountError(f"account {username!r} is disabled")
        now = now_utc()
        session.add(ApiToken(user_id=user.id, selector=selector, secret_hash=_secret_hash(secret),
                             label=label, created_at=now, expires_at=now + lifetime))
    return f"{TOKEN_PREFIX}_{selector}_{secret}"


def revoke_tokens(store: Store, username: str) -> int:
    """Revoke every live token of an account; returns how many."""
    with store.session() as session:
        user = _user(session, username)
        tokens = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                             ApiToken.revoked_at.is_(None))))
        for token in tokens:
            token.revoked_at = now_utc()
        return len(tokens)


def authenticate_token(store: Store, token: str) -> Principal | None:
    """The principal for a live (not revoked, not expired) token of an active account, else
    None."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    _, selector, secret = parts
    with store.read() as session:
        row = session.execute(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id)
            .where(ApiToken.selector == selector)).one_or_none()
        expected = row[0].secret_hash if row else _secret_hash("")
        matches = hmac.compare_digest(expected, _secret_hash(secret))
        if row is None or not matches:
            return None
        api_token, user = row
        if api_token.revoked_at is not None or not user.active:
            return None
        if api_token.expires_at is not None and api_token.expires_at <= now_utc():
            return None
        return _account(user).principal()


# ---- web sessions --------------------------------------------------------------------------
def open_session(store: Store, username: str) -> str:
    """Record a new browser session; returns its random id (a new one at every sign-in)."""
    sid = secrets.token_urlsafe(32)
    with store.session() as session:
        session.add(WebSession(sid=sid, username=username, created_at=now_utc()))
    return sid


def session_live(store: Store, sid: str, username: str, max_age: dt.timedelta) -> bool:
    """True while the session exists for this user, has not ended and is younger than max_age."""
    with store.read() as session:
        row = session.get(WebSession, sid)
        return (row is not None and row.username == username and row.ended_at is None
                and now_utc() - row.created_at < max_age)


def close_session(store: Store, sid: str) -> None:
    with store.session() as session:
        row = session.get(WebSession, sid)
        if row is not None and row.ended_at is None:
            row.ended_at = now_utc()
