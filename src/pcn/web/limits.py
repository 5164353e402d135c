"""Overload answers 503 with ``Retry-After``, never a 500 or an endless queue (TRUST row 15).

A pure ASGI middleware counts requests in flight; above ``PCN_MAX_CONCURRENT_REQUESTS`` a new
request is refused at once (nothing read, nothing written, nothing audited) so the requests
already admitted finish within their latency budget. Static assets are not counted.
"""

from __future__ import annotations

import json
import threading

from starlette.types import ASGIApp, Receive, Scope, Send

UNCOUNTED = ("/static/", "/assets/")
RETRY_AFTER_SECONDS = 1


class ConcurrencyLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self.refused = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        with self._lock:
            admitted = self.in_flight < self.limit
            if admitted:
                self.in_flight += 1
            else:
                self.refused += 1
        if not admitted:
            await _busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.in_flight -= 1


async def _busy(send: Send) -> None:
    body = json.dumps({"detail": "the server is busy: retry after "
                                 f"{RETRY_AFTER_SECONDS} s"}).encode()
    await send({"type": "http.response.start", "status": 503, "headers": [
        (b"content-type", b"application/json"),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
        (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
