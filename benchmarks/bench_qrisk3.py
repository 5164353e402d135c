"""Benchmark: QRISK3-2017 scores per second on a synthetic population (default 1M rows).

    python benchmarks/bench_qrisk3.py [--rows N] [--repeat R] [--cli]

Prints rows, best wall time and scores/second for the vectorised ``qrisk3_scores`` (inputs
already in memory), for the input check that the batch command runs first, and with --cli for
the whole ``pcn risk qrisk3`` command (CSV in, CSV out).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pcn.risk.qrisk3 import FLAG_COLUMNS, qrisk3_scores, validate_qrisk3_frame


def population(rows: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "sex": rng.choice(np.array(["F", "M"]), rows),
        "age": rng.integers(25, 85, rows),
        "ethrisk": rng.integers(1, 10, rows),
        "town": rng.uniform(-7, 11, rows),
        "smoke_cat": rng.integers(0, 5, rows),
        "bmi": rng.uniform(17, 45, rows),
        "rati": rng.uniform(1.5, 9, rows),
        "sbp": rng.uniform(90, 200, rows),
        "sbps5": rng.uniform(0, 25, rows),
    })
    for flag in FLAG_COLUMNS:
        frame[flag] = (rng.random(rows) < 0.08).astype(np.int64)
    return frame


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli", action="store_true", help="also time pcn risk qrisk3 end to end")
    parser.add_argument("--ibis", action="store_true", help="also time the Ibis form on DuckDB")
    args = parser.parse_args()
    frame = population(args.rows)
    scores = qrisk3_scores(frame)
    assert np.isfinite(scores).all()
    seconds = best_of(args.repeat, lambda: qrisk3_scores(frame))
    print(f"qrisk3_scores: {args.rows:,} rows in {seconds:.3f} s = "
          f"{args.rows / seconds:,.0f} scores/s (best of {args.repeat})")
    text = frame.astype(str)
    text.insert(0, "id", np.arange(args.rows).astype(str))
    seconds = best_of(1, lambda: validate_qrisk3_frame(text))
    print(f"validate_qrisk3_frame (text input): {args.rows:,} rows in {seconds:.3f} s = "
          f"{args.rows / seconds:,.0f} rows/s")
    if args.ibis:
        import ibis
        import pyarrow as pa

        from pcn.risk.expressions import qrisk3_score_expr

        con = ibis.duckdb.connect()
        table = ibis.memtable(pa.Table.from_pandas(frame, preserve_index=False))
        query = table.select(score=qrisk3_score_expr(table))
        seconds = best_of(args.repeat, lambda: con.to_pyarrow(query))
        print(f"qrisk3_score_expr on DuckDB: {args.rows:,} rows in {seconds:.3f} s = "
              f"{args.rows / seconds:,.0f} scores/s (best of {args.repeat})")
    if args.cli:
        from typer.testing import CliRunner

        from pcn.cli.main import app
        from pcn.risk.qrisk3 import BATCH_COLUMNS

        with tempfile.TemporaryDirectory() as tmp:
            src, out = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
            text[list(BATCH_COLUMNS)].to_csv(src, index=False)
            start = time.perf_counter()
            result = CliRunner().invoke(app, ["risk", "qrisk3", "-i", str(src), "-o", str(out)])
            seconds = time.perf_counter() - start
            assert result.exit_code == 0, result.output
        print(f"pcn risk qrisk3 (CSV in, CSV out): {args.rows:,} rows in {seconds:.2f} s = "
              f"{args.rows / seconds:,.0f} rows/s")


if __name__ == "__main__":
    main()
