"""Technical logs never carry NHS numbers, bearer tokens or query strings (TRUST row 17).

The audit trail (:mod:`pcn.store.audit`) names patients; technical logs (Python ``logging``,
uvicorn's error and access logs) must not. A filter on every handler rewrites each record before
it is written:

- any 10-digit number (optionally spaced 3-3-4) that passes the NHS number check digit → ``[nhs]``;
- API tokens (``pcn_<selector>_<secret>``) and whatever follows ``Bearer`` → ``[token]``;
- the access log's request line loses its query string (``/fhir/Patient?identifier=…`` →
  ``/fhir/Patient?[query]``), since queries carry identifiers.

A SHA-256 digest written as 64 hexadecimal characters (an audit anchor's chain hash) is left
whole: a run of ten digits inside it is not an NHS number, and the digest must stay checkable.

Names are not redacted by pattern (they cannot be recognised reliably); no code logs a patient's
name, and the record keeps none (the test scans for them anyway).
"""

from __future__ import annotations

import logging
import re

from pcn.record.nhs_number import is_valid

REDACTED_NHS = "[nhs]"
REDACTED_TOKEN = "[token]"

_TEN_DIGITS = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_TOKEN = re.compile(r"pcn_[0-9a-f]{8,32}_[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")


def _nhs(match: re.Match[str]) -> str:
    return REDACTED_NHS if is_valid("".join(match.groups())) else match.group(0)


_DIGEST = re.compile(r"((?<![0-9A-Za-z])[0-9a-f]{64}(?![0-9A-Za-z]))")


def redact(text: str) -> str:
    """``text`` without NHS numbers or tokens (SHA-256 digests kept whole)."""
    text = _TOKEN.sub(REDACTED_TOKEN, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED_TOKEN, text)
    parts = _DIGEST.split(text)  # odd positions are digests
    return "".join(part if i % 2 else _TEN_DIGITS.sub(_nhs, part)
                   for i, part in enumerate(parts))


def strip_query(path: str) -> str:
    head, sep, _ = path.partition("?")
    return f"{head}?[query]" if sep else head


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and traceback) in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) \
                and len(record.args) >= 3:
            args = list(record.args)
            args[2] = strip_query(str(args[2]))
            record.args = tuple(args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: keep what can be kept
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(handler: logging.Handler) -> logging.Handler:
    """Add the filter to ``handler`` (idempotent) and return it."""
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())
    return handler


def configure(level: int = logging.INFO, handler: logging.Handler | None = None) -> None:
    """Technical logging for the server: one redacting handler on the root logger; uvicorn's
    loggers propagate to it (run uvicorn with ``log_config=None`` so it adds none of its own)."""
    root = logging.getLogger()
    handler = install(handler or logging.StreamHandler())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if handler not in root.handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        log = logging.getLogger(name)
        log.handlers.clear()
        log.propagate = True
