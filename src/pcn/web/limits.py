"""Overload answers 503 with ``Retry-After``, never a 500 or an endless queue (TRUST row 15);
anonymous submissions are rate limited per client address (:class:`AnonymousSubmissions`).

A pure ASGI middleware counts requests in flight; above ``PCN_MAX_CONCURRENT_REQUESTS`` a new
request is refused at once (nothing read, nothing written, nothing audited) so the requests
already admitted finish within their latency budget. Static assets are not counted.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque

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


class AnonymousSubmissions:
    """At most ``per_hour`` public-form submissions from one client address in any hour
    (a sliding window), so nobody can script the form, e.g. to walk NHS numbers or patient ids.

    In memory, per process: a restart forgets, which only ever lets a little more through.
    Behind a reverse proxy, uvicorn's ``--forwarded-allow-ips`` must name the proxy so that the
    client address is the browser's, not the proxy's. Addresses are never logged or stored.
    """

    WINDOW_SECONDS = 3600.0
    #: Addresses remembered at most (oldest forgotten first): bounded memory under a flood.
    MAX_CLIENTS = 100_000

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, client: str, now: float | None = None) -> int:
        """0 when this submission may go ahead (it is counted), else whole seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.pop(client, None) or deque()
            while times and times[0] <= now - self.WINDOW_SECONDS:
                times.popleft()
            wait = 0
            if len(times) >= self.per_hour:
                wait = max(1, math.ceil(times[0] + self.WINDOW_SECONDS - now))
            else:
                times.append(now)
            if times:
                self._seen[client] = times  # most recently used last
            while len(self._seen) > self.MAX_CLIENTS:
                self._seen.pop(next(iter(self._seen)))
            return wait
