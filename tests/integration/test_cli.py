"""Every command answers --help, and the reference-data commands print real data."""

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from pcn.cli.main import app

runner = CliRunner()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        out.append(path)
        if hasattr(cmd, "commands"):
            out += _commands(cmd, path)
    return out


ALL = _commands(typer.main.get_command(app))


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_refdata_pcn_prints_its_practices() -> None:
    result = runner.invoke(app, ["refdata", "pcn", "U55830"])
    assert result.exit_code == 0
    assert "Central Middlesbrough PCN" in result.output
    for code in ("A81016", "A81621"):
        assert code in result.output


def test_refdata_unknown_pcn_exits_2() -> None:
    result = runner.invoke(app, ["refdata", "pcn", "ZZZZZ"])
    assert result.exit_code == 2


def test_command_reference_is_up_to_date() -> None:
    """docs/reference/cli.md is generated from the commands; regenerate it when they change."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("gen_cli_docs", root / "scripts/gen_cli_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (root / "docs/reference/cli.md").read_text()
    assert committed == module.render(), "run: python scripts/gen_cli_docs.py"
