"""Publish a directory atomically: build it aside, then switch a symlink to it.

Layout under a base directory::

    base/current -> snapshots/<id>      (a relative symlink, switched with os.replace)
    base/snapshots/<id>/...             (immutable once published)
    base/.staging-<pid>-<nonce>/        (work in progress; removed on failure or next run)
    base/.writer.lock                   (held with flock by the one writer of ``base``)

A reader that resolves ``current`` sees either the old snapshot or the new one, never a
half-written one, even if the writer is killed with SIGKILL at any instruction.

Writers go through :func:`writing`: it takes ``base/.writer.lock`` (``flock``, released by the
kernel when a writer dies, even by SIGKILL), so while it is held no other writer of ``base`` is
alive and every ``.staging-*`` left there is a leftover of a killed one: it is removed at start,
whatever process id its name carries (ids are reused, so "is that pid alive?" is no test).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".writer.lock"
STAGING_PREFIX = ".staging-"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    for root, _dirs, files in os.walk(path):
        for f in files:
            fd = os.open(os.path.join(root, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(root))


class NotADirectory(OSError):
    """A path that must be a directory (a record, its outputs) is a file."""


def require_directory(path: Path, what: str = "record directory") -> None:
    """Refuse a path that exists and is not a directory, naming it (no traceback)."""
    if path.exists() and not path.is_dir():
        raise NotADirectory(f"{path} is a file, not a {what}")


def _leftovers(base: Path, prefix: str) -> list[Path]:
    return [c for c in base.iterdir()
            if c.name.startswith(prefix) or c.name.startswith(".current.")]


def _remove_leftovers(base: Path, prefix: str) -> None:
    for child in _leftovers(base, prefix):
        if child.is_symlink() or child.is_file():
            with contextlib.suppress(OSError):
                child.unlink()
        else:
            shutil.rmtree(child, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(base: Path, *, wait: bool = True) -> Iterator[bool]:
    """Hold ``base``'s writer lock; yields False (not held) only when ``wait`` is False and
    another writer holds it."""
    require_directory(base)
    base.mkdir(parents=True, exist_ok=True)
    fd = os.open(base / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


def clean_stale_staging(base: Path, prefix: str = STAGING_PREFIX) -> None:
    """Remove what killed writers left in ``base``, unless a writer is at work there now."""
    if not base.is_dir():
        return
    with writer_lock(base, wait=False) as held:
        if held:
            _remove_leftovers(base, prefix)


@contextlib.contextmanager
def writing(base: Path, prefix: str = STAGING_PREFIX) -> Iterator[Path]:
    """Be the one writer of ``base``: take its lock (waiting for another writer to finish),
    remove every leftover of killed writers, and yield a fresh staging directory to fill and
    :func:`publish`. On the way out an unpublished staging directory is removed."""
    with writer_lock(base):
        _remove_leftovers(base, prefix)
        path = base / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
        path.mkdir()
        try:
            yield path
        finally:
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)


def publish(
    base: Path,
    staging: Path,
    snapshot_id: str,
    *,
    link: str = "current",
    snapshots: str = "snapshots",
    keep: int = 2,
) -> tuple[Path, bool]:
    """Move ``staging`` into ``base/snapshots/<id>`` and point ``base/<link>`` at it.

    Returns the published path and whether anything changed: if a snapshot with the same id
    (same content) already exists, the staging copy is discarded and the link still switched to
    it, so publishing identical content twice is a no-op.
    """
    snaps = base / snapshots
    snaps.mkdir(parents=True, exist_ok=True)
    target = snaps / snapshot_id
    changed = True
    if target.exists():
        shutil.rmtree(staging, ignore_errors=True)
        changed = False
    else:
        fsync_tree(staging)
        os.replace(staging, target)
        fsync_dir(snaps)
    current = base / link
    if changed or not current.exists() or current.resolve() != target.resolve():
        tmp = base / f".{link}.{os.getpid()}.{secrets.token_hex(3)}"
        os.symlink(os.path.join(snapshots, snapshot_id), tmp)
        os.replace(tmp, current)
        fsync_dir(base)
    _prune(snaps, keep=keep, protect=target)
    return target, changed


def _prune(snaps: Path, *, keep: int, protect: Path) -> None:
    """Keep the newest ``keep`` snapshots (the live one always survives)."""
    entries = sorted(
        (p for p in snaps.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in entries[keep:]:
        if old.resolve() != protect.resolve():
            with contextlib.suppress(OSError):
                shutil.rmtree(old)
