"""Idempotency keys: a retried POST gets the first response; a reused key with another body is
refused; the remembered response commits with the row it describes, or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pcn.store import idempotency
from pcn.store.database import Store
from pcn.store.idempotency import IdempotencyConflict
from pcn.store.models import IdempotencyKey


def _rows(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(IdempotencyKey)) or 0


def test_retry_gets_first_response_and_other_body_conflicts(store: Store) -> None:
    first = idempotency.request_hash("POST", "/api/readings", b'{"sbp": 150}')
    with store.session() as session:
        assert idempotency.recall(session, "gp.a", "key-1", first) is None
        idempotency.remember(session, "gp.a", "key-1", first, 201, '{"id": 7}')
    for _ in range(3):  # retries, each in a new transaction as after a restart
        with store.session() as session:
            assert idempotency.recall(session, "gp.a", "key-1", first) == \
                idempotency.StoredResponse(201, '{"id": 7}')
    other = idempotency.request_hash("POST", "/api/readings", b'{"sbp": 151}')
    with pytest.raises(IdempotencyConflict), store.session() as session:
        idempotency.recall(session, "gp.a", "key-1", other)
    with store.session() as session:  # keys are per user
        assert idempotency.recall(session, "nurse.b", "key-1", first) is None
    assert _rows(store) == 1


def test_remembered_response_rolls_back_with_its_transaction(store: Store) -> None:
    digest = idempotency.request_hash("POST", "/api/tasks", b"{}")
    with pytest.raises(RuntimeError), store.session() as session:
        idempotency.remember(session, "gp.a", "key-2", digest, 201, "{}")
        raise RuntimeError("the handler failed after remembering")
    assert _rows(store) == 0


def test_second_insert_of_a_key_is_refused_by_the_database(store: Store) -> None:
    digest = idempotency.request_hash("POST", "/api/tasks", b"{}")
    with store.session() as session:
        idempotency.remember(session, "gp.a", "key-3", digest, 201, "{}")
    with pytest.raises(IntegrityError), store.session() as session:
        idempotency.remember(session, "gp.a", "key-3", digest, 201, "{}")
    assert _rows(store) == 1
