"""`mypy` stays clean, so `make test` catches type errors as well as `make lint`.

Runs the configuration in pyproject.toml ([tool.mypy]) from the repository root; the incremental
cache in .mypy_cache makes a warm run take about a second.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_reports_no_errors() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mypy exited {proc.returncode}:\n{output}"
    assert "Success: no issues found" in output, output
