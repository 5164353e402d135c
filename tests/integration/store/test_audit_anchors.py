"""Issue 16, item 7: rewriting the whole audit chain, or cutting its tail and moving the head,
passed `pcn audit verify`. Anchors of the chain head kept outside the database (signed, chained)
now catch both, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pcn.cli.main import app
from pcn.config import get_settings
from pcn.store import anchors, audit
from pcn.store.database import Store

KEY = b"an anchor key that is not in the database"


def _event(i: int) -> audit.Event:
    return audit.Event(username=f"user{i % 3}", role="practice_clinician", action="view_patient",
                       outcome="allowed", practice_code="A81001", patient_id=100 + i,
                       purpose="direct_care", detail={"n": i})


def _tamper(store: Store, *statements: str, params: dict[str, object] | None = None) -> None:
    """Out of band, as a superuser or the database file's owner would (triggers bypassed)."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            conn.execute(text(statement), params or {})


def _rewrite_whole_chain(store: Store, keep: int) -> None:
    """Replace the trail by a forged one of ``keep`` events whose hashes are all recomputed,
    so the chain on its own verifies (one access to patient 101 is gone from it)."""
    forged, prev = [], audit.GENESIS_HASH
    for old in audit.events(store)[:keep]:
        fields = {k: v for k, v in old.__dict__.items() if k != "hash"}
        fields["prev_hash"] = prev
        if old.patient_id == 101:
            fields["patient_id"] = 999  # the access to patient 101 now names someone else
        prev = audit.event_hash(**fields)
        forged.append({**fields, "hash": prev})
    _tamper(store, "DELETE FROM audit_events")
    from pcn.store.models import AuditChainHead, AuditEvent

    with store.engine.begin() as conn:
        conn.execute(AuditEvent.__table__.insert(), forged)
        conn.execute(AuditChainHead.__table__.update().values(seq=keep, hash=prev))


def test_a_rewritten_chain_passes_the_chain_check_but_not_the_anchors(
        store: Store, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    for i in range(6):
        audit.record(store, _event(i))
    anchors.write_anchor(store, path, KEY)
    for i in range(6, 9):
        audit.record(store, _event(i))
    anchors.write_anchor(store, path, KEY)
    assert anchors.check_anchors(store, path, KEY) == (2, [])

    _rewrite_whole_chain(store, keep=9)
    assert audit.verify(store).ok  # the attack: the chain alone cannot tell
    checked, problems = anchors.check_anchors(store, path, KEY)
    assert checked == 2 and any("does not have the hash anchored" in p for p in problems)


def test_a_cut_tail_with_a_moved_head_is_caught_by_the_last_anchor(
        store: Store, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    for i in range(8):
        audit.record(store, _event(i))
    anchors.write_anchor(store, path, KEY)
    last_kept = audit.events(store)[5]
    _tamper(store, "DELETE FROM audit_events WHERE seq > 6",
            "UPDATE audit_chain_head SET seq = 6, hash = :hash",
            params={"hash": last_kept.hash})
    assert audit.verify(store).ok  # the attack: events 7 and 8 vanish without a trace
    _, problems = anchors.check_anchors(store, path, KEY)
    assert any("event 8 was anchored" in p and "not in the trail" in p for p in problems)


def test_an_edited_removed_or_foreign_anchor_is_caught(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    for i in range(3):
        audit.record(store, _event(i))
        anchors.write_anchor(store, path, KEY)
    lines = path.read_text().splitlines()
    assert anchors.check_anchors(store, path, b"some other key")[1]  # signed by another key
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")  # the middle anchor removed
    assert any("does not follow" in p for p in anchors.check_anchors(store, path, KEY)[1])
    path.write_text("\n".join([lines[0], lines[1].replace('"seq": 2', '"seq": 1'), lines[2]]))
    assert any("bad signature" in p for p in anchors.check_anchors(store, path, KEY)[1])


def test_the_server_anchors_periodically(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "anchors.jsonl"
    timer = anchors.AnchorTimer(store, minutes=0.2 / 60, path=path, key=KEY).start()
    try:
        for i in range(3):
            audit.record(store, _event(i))
            time.sleep(0.3)
    finally:
        timer.stop()
    found, problems = anchors.read_anchors(path)
    assert not problems and len(found) >= 3
    assert found[-1].seq == 3 and [a.seq for a in found] == sorted(a.seq for a in found)
    assert anchors.check_anchors(store, path, KEY) == (len(found), [])


def test_pcn_audit_verify_fails_on_a_rewritten_chain(store: Store,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PCN_DATABASE_URL", store.url)
    get_settings.cache_clear()
    runner = CliRunner()
    for i in range(5):
        audit.record(store, _event(i))
    assert runner.invoke(app, ["audit", "anchor"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "1 anchor(s) match" in " ".join(ok.output.split())
    _rewrite_whole_chain(store, keep=5)
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "rewritten" in " ".join(broken.output.split())


def test_the_anchor_goes_to_the_technical_log_whole(store: Store, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    """The log copy must be checkable later: the redaction of NHS-number-like digit runs never
    cuts into the chain hash."""
    from pcn.access.log_hygiene import redact

    for i in range(3):
        audit.record(store, _event(i))
    with caplog.at_level("INFO", logger="pcn.audit.anchor"):
        anchor = anchors.write_anchor(store, tmp_path / "anchors.jsonl", KEY)
    (line,) = [redact(r.getMessage()) for r in caplog.records if r.name == "pcn.audit.anchor"]
    assert f"seq={anchor.seq} hash={anchor.hash}" in line
    digits = "9990000018"  # a valid NHS number inside a digest-shaped string stays whole...
    assert redact(f"hash={digits}{'a' * 54}") == f"hash={digits}{'a' * 54}"
    assert redact(f"patient {digits} seen") == "patient [nhs] seen"  # ...alone it does not
