"""Pytest plugin: every technical log record of the whole suite goes through the production
redacting filter into one file, scanned at the end (TRUST row 17). A valid NHS number or an API
token in it fails the run."""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

import pytest

from pcn.access import log_hygiene
from pcn.record.nhs_number import is_valid

LOG_PATH = pytest.StashKey[Path]()
TEN_DIGITS = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
TOKEN = re.compile(r"pcn_[0-9a-f]{8,32}_[A-Za-z0-9_\-]{8,}")
#: A SHA-256 digest (an audit anchor's chain hash): digit runs inside it are not NHS numbers.
DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{64}(?![0-9A-Za-z])")


def leaks(text: str) -> list[str]:
    """NHS numbers (check digit valid) and API tokens found in ``text`` (outside digests)."""
    numbers = ("".join(m.groups()) for m in TEN_DIGITS.finditer(DIGEST.sub("[digest]", text)))
    found = [n for n in numbers if is_valid(n)]
    return found + TOKEN.findall(text)


def pytest_configure(config: pytest.Config) -> None:
    path = Path(tempfile.mkdtemp(prefix="pcn-technical-log-")) / "technical.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    log_hygiene.configure(logging.INFO, handler)
    config.stash[LOG_PATH] = path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.stash.get(LOG_PATH, None)
    if path is None or not path.exists():
        return
    for handler in logging.getLogger().handlers:
        handler.flush()
    found = leaks(path.read_text(encoding="utf-8", errors="replace"))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if found:
        if reporter is not None:
            reporter.write_line(f"technical log {path} leaks {len(found)} identifier(s): "
                                f"{found[:3]}...", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif reporter is not None:
        size = path.stat().st_size
        reporter.write_line(f"technical log scanned ({size:,} bytes): no NHS numbers or tokens")
