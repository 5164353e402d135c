"""The hazard log's controls cite tests that exist (TRUST.md row 19)."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test_")}


def test_every_cited_test_exists() -> None:
    log = yaml.safe_load((ROOT / "docs/safety/hazard_log.yaml").read_text())
    assert log["hazards"], "the hazard log lists no hazards"
    missing = []
    for hazard in log["hazards"]:
        assert hazard["controls"], f"{hazard['id']} has no control"
        for control in hazard["controls"]:
            assert control["tests"], f"{hazard['id']}: a control cites no test"
            for ref in control["tests"]:
                file, _, name = ref.partition("::")
                path = ROOT / file
                if not path.exists() or name not in _test_names(path):
                    missing.append(f"{hazard['id']}: {ref}")
    assert not missing, "cited tests not found:\n" + "\n".join(missing)


def test_hazard_ids_are_unique_and_scored() -> None:
    log = yaml.safe_load((ROOT / "docs/safety/hazard_log.yaml").read_text())
    ids = [h["id"] for h in log["hazards"]]
    assert len(ids) == len(set(ids))
    for h in log["hazards"]:
        assert 1 <= h["severity"] <= 5 and 1 <= h["likelihood"] <= 5
