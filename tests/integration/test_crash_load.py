"""TRUST row 10 at a small size: `pcn synth` killed with SIGKILL at random points, then rerun,
equals a clean run (benchmarks/crash_load.py runs the same check on ~1M rows)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from crash_load import crash_and_compare


@pytest.mark.slow
def test_loader_killed_at_random_points_then_rerun_equals_a_clean_run(tmp_path: Path) -> None:
    figures = crash_and_compare(tmp_path, patients=400, kills=2, rng=random.Random(20261124))
    assert figures["kills"] == len(figures["killed_at_s"])  # type: ignore[arg-type]
    assert figures["rows"] > 10_000  # type: ignore[operator]
