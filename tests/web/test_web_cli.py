"""`pcn serve` start-up checks."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pcn.cli.main import app
from tests.web.conftest import WebWorld


def test_serve_refuses_to_start_without_a_secret(web_world: WebWorld,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from pcn.config import get_settings

    monkeypatch.delenv("PCN_SECRET_KEY", raising=False)
    monkeypatch.setenv("PCN_DEBUG", "false")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["serve", "--record", str(web_world.record)])
    assert result.exit_code == 2
    assert "PCN_SECRET_KEY" in result.output
