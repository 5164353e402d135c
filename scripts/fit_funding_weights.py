"""Print the Carr-Hill-style weights fitted to the published weighted lists (see pcn.funding.fit).

Run from the project root: ``python scripts/fit_funding_weights.py``; copy the figures into
``src/pcn/definitions/funding/carr_hill.yaml`` when the shipped reference data changes.
"""

from __future__ import annotations

from pcn.funding.fit import fit


def main() -> None:
    f = fit()
    for name, value in f.weights.items():
        print(f"{name}: {value:.4f}")
    print(f"n_practices: {f.n_practices}")
    print(f"r_squared: {f.r_squared:.3f}")
    print(f"median_abs_error_pct: {f.median_abs_error_pct:.2f}")
    print(f"within_5pct: {f.within_5pct:.3f}")


if __name__ == "__main__":
    main()
