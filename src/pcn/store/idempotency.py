"""Remembered responses for POSTs that carry an ``Idempotency-Key`` (one row per user and key).

A retry with the same key and the same request body gets the first response back; the same key
with a different body is refused (the client reused a key by mistake). ``remember`` runs inside the
caller's transaction, so the created row and the remembered response commit together or not at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pcn.store.database import now_utc
from pcn.store.models import IdempotencyKey


class IdempotencyConflict(ValueError):
    """The key was used before for a different request."""


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.upper().encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def recall(session: Session, username: str, key: str, req_hash: str) -> StoredResponse | None:
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.username == username,
                                                      IdempotencyKey.key == key))
    if row is None:
        return None
    if row.request_hash != req_hash:
        raise IdempotencyConflict(f"Idempotency-Key {key!r} was already used for another request")
    return StoredResponse(row.response_status, row.response_body)


def remember(session: Session, username: str, key: str, req_hash: str, status: int,
             body: str) -> None:
    session.add(IdempotencyKey(username=username, key=key, request_hash=req_hash,
                               response_status=status, response_body=body, created_at=now_utc()))
    session.flush()
