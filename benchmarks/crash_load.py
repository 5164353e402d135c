"""kill -9 the loader at random points of a load, rerun, compare with a clean run (TRUST row 10).

    python benchmarks/crash_load.py                    # ~1M rows, 5 kills
    python benchmarks/crash_load.py --patients 2000 --kills 3

The loader is `pcn synth` writing a network record (every table, ~1M rows at the default size).
A clean run gives the reference. Then the same load into another directory is killed with
SIGKILL after a random delay, up to ``--kills`` times; after each kill the directory must hold no
record or a complete one (every table readable, row counts equal to the manifest), and the last
run completes. The surviving record must equal the clean one: row counts, the manifest content
hash, an independent hash of every table's sorted rows, and no duplicate patient ids. Prints
figures. tests/integration/test_crash_load.py runs the same check at a small size in `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

AS_OF = "2026-03-31"


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, int]
    manifest_hash: str
    data_hash: str
    duplicate_patients: int

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def command(out: Path, patients: int, seed: int) -> list[str]:
    return [sys.executable, "-m", "pcn.cli", "synth", "--out", str(out), "--pcn", "U55830",
            "--patients", str(patients), "--seed", str(seed), "--as-of", AS_OF,
            "--workers", "1"]


def snapshot(path: Path) -> Snapshot | None:
    """What a reader sees at ``path`` (None: no record); raises if a record is incomplete."""
    from pcn.record import open_record
    from pcn.record.store import RecordError

    try:
        record = open_record(path)
    except RecordError:
        return None
    rows: dict[str, int] = {}
    digest = hashlib.sha256()
    for name, entry in sorted(record.manifest.tables.items()):
        table = record.read(name)
        if table.num_rows != entry.rows:
            raise AssertionError(f"{name}: {table.num_rows} rows, manifest says {entry.rows}")
        rows[name] = table.num_rows
        if table.num_rows:
            order = [(c, "ascending") for c in table.column_names]
            table = table.take(pc.sort_indices(table, sort_keys=order))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        digest.update(name.encode())
        digest.update(sink.getvalue().to_pybytes())
    ids = record.read("patients", columns=["patient_id"]).column("patient_id")
    duplicates = len(ids) - len(pc.unique(ids))
    return Snapshot(rows, record.manifest.content_hash, digest.hexdigest(), duplicates)


def crash_and_compare(work: Path, patients: int, kills: int, seed: int = 1,
                      rng: random.Random | None = None) -> dict[str, object]:
    """The experiment; returns figures (raises AssertionError when a check fails)."""
    rng = rng or random.Random(seed)
    clean_dir, crash_dir = work / "clean", work / "crashed"
    started = time.perf_counter()
    subprocess.run(command(clean_dir, patients, seed), check=True, capture_output=True)
    clean_seconds = time.perf_counter() - started
    clean = snapshot(clean_dir)
    assert clean is not None and clean.duplicate_patients == 0
    # A previous record in the target (another seed), as when reloading a live record.
    started = time.perf_counter()
    subprocess.run(command(crash_dir, patients, seed + 1), check=True, capture_output=True)
    # Kill anywhere in a load as long as the slower of the two runs so far (start-up included).
    window = max(clean_seconds, time.perf_counter() - started) * 1.1
    previous = snapshot(crash_dir)
    assert previous is not None
    killed_at: list[float] = []
    outcomes: list[str] = []
    for _ in range(kills):
        delay = rng.uniform(0.05, window)
        proc = subprocess.Popen(command(crash_dir, patients, seed),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed_at.append(round(delay, 2))
        else:
            outcomes.append("finished before the kill")
        seen = snapshot(crash_dir)  # complete or raises; never a half-written record
        if seen is None:
            outcomes.append("no record")
        elif seen.manifest_hash == previous.manifest_hash:
            outcomes.append("previous record intact")
        elif seen.manifest_hash == clean.manifest_hash:
            outcomes.append("new record complete")
        else:
            raise AssertionError("a killed load left a record that is neither old nor new")
    started = time.perf_counter()
    subprocess.run(command(crash_dir, patients, seed), check=True, capture_output=True)
    rerun_seconds = time.perf_counter() - started
    final = snapshot(crash_dir)
    assert final is not None
    assert final.rows == clean.rows, (final.rows, clean.rows)
    assert final.manifest_hash == clean.manifest_hash
    assert final.data_hash == clean.data_hash
    assert final.duplicate_patients == 0
    leftovers = [p.name for p in crash_dir.iterdir() if p.name.startswith(".staging")]
    assert not leftovers, leftovers
    return {"rows": clean.total_rows, "tables": len(clean.rows), "kills": len(killed_at),
            "killed_at_s": killed_at, "after_kill": outcomes,
            "clean_s": round(clean_seconds, 1), "rerun_s": round(rerun_seconds, 1),
            "content_hash": clean.manifest_hash[:16]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20_000,
                        help="twin size (20,000 patients is about 1M rows)")
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = crash_and_compare(Path(tmp), args.patients, args.kills, args.seed)
    print(f"load: {figures['rows']:,} rows in {figures['tables']} tables "
          f"(clean run {figures['clean_s']} s)")
    print(f"kill -9 at (s): {figures['killed_at_s']}")
    print(f"after each kill a reader saw: {figures['after_kill']}")
    print(f"rerun after the last kill: {figures['rerun_s']} s; row counts, manifest hash "
          f"{figures['content_hash']}, independent data hash equal to the clean run; "
          "0 duplicate patients; no staging left")


if __name__ == "__main__":
    main()
