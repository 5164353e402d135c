"""docs/reference/measures.md lists every shipped indicator and profile column (docs coverage)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pcn.measures.indicators import PATIENT_PROFILE_COLUMNS, indicators_dir

ROOT = Path(__file__).resolve().parents[2]


def test_measures_reference_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("build_measures_doc",
                                                  ROOT / "scripts" / "build_measures_doc.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "reference" / "measures.md").read_text(encoding="utf-8")
    assert module.render(text) == text, "run: python scripts/build_measures_doc.py"
    for path in indicators_dir().glob("*.yaml"):
        assert f"`{path.stem}`" in text
    for column in PATIENT_PROFILE_COLUMNS:
        assert f"`{column}`" in text
