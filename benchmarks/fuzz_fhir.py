"""Run the FHIR import fuzz test with 10,000 malformed bundles (TRUST row 13); prints figures.

    python benchmarks/fuzz_fhir.py              # 10,000 cases
    python benchmarks/fuzz_fhir.py --cases 500

`make test` runs the same test (tests/fhir/test_fuzz.py) with 120 cases; this runs it at the
TRUST target. Every case is loaded twice (fast and full validation) in strict mode: each must
be refused with a reason or loaded, never crash, and a strict refusal writes nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    env = {**os.environ, "PCN_FUZZ_EXAMPLES": str(args.cases)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--hypothesis-show-statistics", "tests/fhir/test_fuzz.py"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    passing = [line.strip() for line in result.stdout.splitlines()
               if "passing examples" in line or "invalid examples" in line]
    print(f"fuzzed FHIR bundles: {args.cases:,} requested, each loaded fast + full, strict")
    for line in passing:
        print(f"  {line}")
    ok = "no crash, every refusal named, nothing written"
    print(f"  outcome: {ok if result.returncode == 0 else 'FAILED'}")
    print(f"  wall time: {seconds:.1f} s ({seconds / max(args.cases, 1) * 1000:.1f} ms a case)")
    if result.returncode != 0:
        print(result.stdout[-3000:])
        sys.exit(1)


if __name__ == "__main__":
    main()
