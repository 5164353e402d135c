"""Publish a directory atomically: build it aside, then switch a symlink to it.

Layout under a base directory::

    base/current -> snapshots/<id>      (a relative symlink, switched with os.replace)
    base/snapshots/<id>/...             (immutable once published)
    base/.staging-<pid>-<nonce>/        (work in progress; removed on failure or next run)

A reader that resolves ``current`` sees either the old snapshot or the new one, never a
half-written one, even if the writer is killed with SIGKILL at any instruction.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path


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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_staging(base: Path, prefix: str = ".staging-") -> None:
    """Remove staging directories left by writers that died."""
    if not base.exists():
        return
    for child in base.iterdir():
        if not child.name.startswith(prefix):
            continue
        try:
            pid = int(child.name[len(prefix) :].split("-")[0])
        except ValueError:
            pid = -1
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(child, ignore_errors=True)


def new_staging(base: Path, prefix: str = ".staging-") -> Path:
    base.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(base, prefix)
    path = base / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
    path.mkdir()
    return path


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
