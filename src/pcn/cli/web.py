"""``pcn serve``: the web app and JSON API for a record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pcn.cli.common import console, fail, user_errors
from pcn.record.store import RecordError

if TYPE_CHECKING:
    from pcn.store.database import Store

RecordOption = typer.Option(..., "--record", help="Network record directory (from `pcn synth`).")


def _store() -> Store:
    from pcn.store import open_store
    from pcn.store.migrate import upgrade

    store = open_store()
    upgrade(store)
    return store


def serve(
    record: Path = RecordOption,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the web app and JSON API for a record (sign in with `pcn users add` accounts)."""
    import logging

    import uvicorn

    from pcn.access import log_hygiene
    from pcn.config import get_settings
    from pcn.web.app import AssetsMissing, create_app

    settings = get_settings()
    try:
        settings.require_secret()
    except ValueError as err:
        raise fail(f"{err} — set PCN_SECRET_KEY (or PCN_DEBUG=1 for a throwaway key)") from None
    with (user_errors(RecordError, AssetsMissing),
          console.status("Computing indicators, continuity and inequalities…")):
        app = create_app(record, store=_store(), settings=settings, warm=True)
    console.print(f"[bold green]Serving[/] {record} at http://{host}:{port}  (Ctrl+C to stop)")
    # Technical logs through the redacting filter only (no NHS numbers, tokens or queries).
    log_hygiene.configure(logging.INFO)
    timer = None
    if settings.audit_anchor_minutes > 0:  # the chain head, anchored outside the database
        from pcn.store.anchors import AnchorTimer

        timer = AnchorTimer(app.state.store, settings.audit_anchor_minutes).start()
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, log_level="info",
                    access_log=True)
    finally:
        if timer is not None:
            timer.stop()
