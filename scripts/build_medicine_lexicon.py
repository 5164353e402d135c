"""Build the medicine-name list of the triage lexicon from the dm+d codelists shipped with pcn.

Every medicine codelist in src/pcn/definitions/codelists (dm+d terms such as "Amlodipine 5mg
tablets (Accord)") contributes its first two words when they are not ordinary English (e.g.
"amlodipine", "zentiva" is kept only if it is a product name, as brand names are in dm+d terms).
Run from the repository root; it rewrites src/pcn/definitions/triage/lexicon/medicines.csv.

    python scripts/build_medicine_lexicon.py
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from pcn.triage.confidence import _english_frequencies

ROOT = Path(__file__).resolve().parents[1]
CODELISTS = ROOT / "src" / "pcn" / "definitions" / "codelists"
TARGET = ROOT / "src" / "pcn" / "definitions" / "triage" / "lexicon" / "medicines.csv"
MEDICINE_FILES = re.compile(
    r"dmd|medication|drug|medicines|statin|insulin|aspirin|warfarin|opioid|antidep|inhaler|"
    r"prednis|nsaid|ppi|doac|heparin|antipsych|antiplatelet|diuretic|metformin|sulfonyl|glp1|"
    r"sglt|dpp|pioglit|gabapent|lipid|hypertension_drugs|anticoag|cortico|antihypert|blocker|"
    r"antagonist|inhibitor|blocking"
)
#: Words in dm+d terms that are forms, routes or makers' words rather than medicine names.
NOT_NAMES = frozenset({"tablets", "capsules", "solution", "oral", "modified", "release",
                       "injection", "cream", "pharma", "limited", "generics", "healthcare",
                       "pharmaceuticals", "laboratories", "accord", "zentiva", "teva", "sandoz",
                       "mylan", "aristo", "relonchem", "almus", "actavis", "bristol", "dr"})


def main() -> None:
    frequencies = _english_frequencies()
    names: set[str] = set()
    for path in sorted(CODELISTS.glob("*.csv")):
        if not MEDICINE_FILES.search(path.name):
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                words = re.findall(r"[a-z]+", (row.get("term") or "").lower())
                for word in words[:2]:
                    if len(word) >= 5 and frequencies.get(word, 0) < 300 and word not in NOT_NAMES:
                        names.add(word)
    with TARGET.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["word", "category"])
        writer.writerows((name, "medicine") for name in sorted(names))
    print(f"{len(names)} medicine names -> {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
