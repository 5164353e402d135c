"""Anchoring the audit chain outside the database (issue 16, item 7).

The hash chain (:mod:`pcn.store.audit`) shows that no event was edited or removed *relative to
the rest of the chain*; someone who can write the database could still rewrite the whole chain
(recomputing every hash) or cut its tail and move the head, and the chain alone would verify.
An anchor is a checkpoint kept **outside** the database: the head's sequence number and hash at
a moment, one JSON line appended to a file (``PCN_AUDIT_ANCHOR_FILE``, default
``<data_dir>/audit-anchors.jsonl``), signed with HMAC-SHA256 under a key that is not in the
database, each line also naming the previous line's signature (so lines cannot be dropped from
the middle or reordered). The same line goes to the technical log (``pcn.audit.anchor``), which
is shipped elsewhere in a real deployment.

``pcn audit verify`` checks every anchor: the event with the anchored number must exist with
exactly the anchored hash, so a rewritten chain, a cut tail or a moved head is found as soon as
one anchor predates the tampering. ``pcn serve`` anchors every ``PCN_AUDIT_ANCHOR_MINUTES``;
``pcn audit anchor`` does it once (cron). See ADR 0055.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from pcn.config import Settings, derived_key, get_settings
from pcn.store.database import Store, now_utc
from pcn.store.models import AuditChainHead, AuditEvent

log = logging.getLogger("pcn.audit.anchor")
ANCHOR_FILE = "audit-anchors.jsonl"
KEY_FILE = "audit-anchor.key"
GENESIS = "0" * 64


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    anchored_at: str
    prev: str
    mac: str

    def body(self) -> bytes:
        return json.dumps({"seq": self.seq, "hash": self.hash, "anchored_at": self.anchored_at,
                           "prev": self.prev}, sort_keys=True, separators=(",", ":")).encode()


def anchor_file(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.audit_anchor_file or settings.data_dir / ANCHOR_FILE


def anchor_key(settings: Settings | None = None) -> bytes:
    """The signing key: ``PCN_AUDIT_ANCHOR_KEY``; else derived from ``PCN_SECRET_KEY``; else (a
    development machine) a random key kept in ``<data_dir>/audit-anchor.key``. Never stored in
    the database, so whoever can rewrite the audit table cannot sign an anchor."""
    settings = settings or get_settings()
    return derived_key(settings, settings.audit_anchor_key, "pcn-audit-anchor", KEY_FILE)


def _sign(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def read_anchors(path: Path) -> tuple[list[Anchor], list[str]]:
    """The anchors in the file and any line that cannot be read (as problems)."""
    anchors: list[Anchor] = []
    problems: list[str] = []
    if not path.exists():
        return anchors, problems
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            anchors.append(Anchor(int(raw["seq"]), str(raw["hash"]), str(raw["anchored_at"]),
                                  str(raw["prev"]), str(raw["mac"])))
        except (ValueError, KeyError, TypeError):
            problems.append(f"anchor file line {number} is not an anchor")
    return anchors, problems


def write_anchor(store: Store, path: Path | None = None, key: bytes | None = None) -> Anchor:
    """Append the chain head as a signed anchor (fsynced) and log it. Anchoring an unchanged
    head again is harmless."""
    path = path or anchor_file()
    key = key if key is not None else anchor_key()
    with store.read_engine.connect() as conn:
        seq, head = conn.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                                 .where(AuditChainHead.id == 1)).one()
    existing, _ = read_anchors(path)
    prev = existing[-1].mac if existing else GENESIS
    at = now_utc().isoformat(timespec="seconds")
    unsigned = Anchor(int(seq), str(head), at, prev, "")
    anchor = Anchor(unsigned.seq, unsigned.hash, at, prev, _sign(key, unsigned.body()))
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"seq": anchor.seq, "hash": anchor.hash, "anchored_at": at,
                       "prev": prev, "mac": anchor.mac}, sort_keys=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    log.info("audit anchor seq=%d hash=%s at=%s", anchor.seq, anchor.hash, at)
    return anchor


def check_anchors(store: Store, path: Path | None = None,
                  key: bytes | None = None) -> tuple[int, list[str]]:
    """(anchors checked, problems): a bad signature or a broken link between anchors, an
    anchored event that is missing or has another hash (the chain was rewritten or cut)."""
    path = path or anchor_file()
    key = key if key is not None else anchor_key()
    anchors, problems = read_anchors(path)
    prev = GENESIS
    for number, anchor in enumerate(anchors, 1):
        if not hmac.compare_digest(_sign(key, anchor.body()), anchor.mac):
            problems.append(f"anchor {number} (event {anchor.seq}): bad signature "
                            "(edited, or signed with another key)")
        if anchor.prev != prev:
            problems.append(f"anchor {number} (event {anchor.seq}): does not follow anchor "
                            f"{number - 1} (anchors removed or reordered?)")
        prev = anchor.mac
    wanted = sorted({a.seq for a in anchors if a.seq > 0})
    found: dict[int, str] = {}
    with store.read_engine.connect() as conn:
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start:start + 1000]
            found.update((int(s), str(h)) for s, h in conn.execute(
                select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(chunk))))
    for anchor in anchors:
        if anchor.seq == 0:
            continue
        if anchor.seq not in found:
            problems.append(f"event {anchor.seq} was anchored at {anchor.anchored_at} but is "
                            "not in the trail (its tail cut, or the chain rewritten shorter?)")
        elif found[anchor.seq] != anchor.hash:
            problems.append(f"event {anchor.seq} does not have the hash anchored at "
                            f"{anchor.anchored_at} (the chain was rewritten?)")
    return len(anchors), problems


class AnchorTimer:
    """Anchors the head every ``minutes`` in a background thread (``pcn serve``), and once more
    when stopped."""

    def __init__(self, store: Store, minutes: float, path: Path | None = None,
                 key: bytes | None = None) -> None:
        self.store, self.seconds = store, minutes * 60
        self.path, self.key = path or anchor_file(), key if key is not None else anchor_key()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pcn-audit-anchor", daemon=True)

    def start(self) -> AnchorTimer:
        self._thread.start()
        return self

    def _anchor(self) -> None:
        try:
            write_anchor(self.store, self.path, self.key)
        except Exception:  # never take the server down; the log says it failed
            log.exception("audit anchor failed")

    def _run(self) -> None:
        self._anchor()
        while not self._stop.wait(self.seconds):
            self._anchor()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._anchor()
