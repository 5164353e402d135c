"""Regenerate docs/reference/measures.md's indicator and profile-column tables from the code.

Run: python scripts/build_measures_doc.py (a test fails when the document is out of date).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pcn.measures.indicators import PATIENT_PROFILE_COLUMNS, load_indicators

DOC = Path(__file__).resolve().parents[1] / "docs" / "reference" / "measures.md"
START, END = "<!-- generated: indicators -->", "<!-- end generated -->"


def generated() -> str:
    lines = [START, "", "### Shipped indicators", "",
             "| id | kind | low is good | source | denominator → numerator |",
             "|---|---|---|---|---|"]
    for ind in load_indicators().values():
        direction = "neither" if ind.low_is_good is None else str(ind.low_is_good).lower()
        sources = "; ".join(s.reference for s in ind.source)
        lines.append(
            f"| `{ind.id}` | {ind.kind} | {direction} | {sources} | "
            f"`{ind.denominator.where}` → `{ind.numerator.where}` |"
        )
    lines += ["", "### `patient_profile` columns definitions may use", "",
              "| column | type: meaning |", "|---|---|"]
    lines += [f"| `{col}` | {desc} |" for col, desc in PATIENT_PROFILE_COLUMNS.items()]
    lines += ["", END]
    return "\n".join(lines)


def render(current: str) -> str:
    head, _, rest = current.partition(START)
    _, _, tail = rest.partition(END)
    return head + generated() + tail


if __name__ == "__main__":
    text = DOC.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        sys.exit(0 if new == text else 1)
    DOC.write_text(new, encoding="utf-8")
