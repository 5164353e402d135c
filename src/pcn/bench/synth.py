"""``pcn bench synth``: twin generation speed and peak memory at several sizes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from pcn.bench.measure import measure


def run_synth_benchmark(
    sizes: list[int],
    out_dir: Path,
    pcn_code: str,
    workers: int,
    console: Console,
    keep: bool = False,
) -> list[dict[str, float]]:
    rows = []
    for n in sizes:
        target = out_dir / f"twin-{n}"
        shutil.rmtree(target, ignore_errors=True)
        cmd = [
            sys.executable,
            "-m",
            "pcn.cli",
            "synth",
            "--pcn",
            pcn_code,
            "--patients",
            str(n),
            "--seed",
            "1",
            "--workers",
            str(workers),
            "--out",
            str(target),
        ]
        with console.status(f"generating {n:,} patients…"):
            m = measure(cmd)
        size_mb = sum(f.stat().st_size for f in target.rglob("*.parquet")) / 2**20
        rows.append(
            {
                "patients": n,
                "wall_s": m.wall_s,
                "cpu_s": m.cpu_s,
                "per_min": n / m.wall_s * 60,
                "per_cpu_min": n / m.cpu_s * 60,
                "peak_mb": m.peak_rss_mb,
                "disk_mb": size_mb,
                "load": m.load_before,
            }
        )
        if not keep:
            shutil.rmtree(target, ignore_errors=True)
    t = Table(
        title=f"Synthetic twin generation ({pcn_code}, {workers} worker(s))", header_style="bold"
    )
    for col in (
        "patients",
        "wall s",
        "per min",
        "CPU s",
        "per CPU-min",
        "peak MB",
        "disk MB",
        "load",
    ):
        t.add_column(col, justify="right")
    for r in rows:
        t.add_row(
            f"{r['patients']:,.0f}",
            f"{r['wall_s']:.1f}",
            f"{r['per_min']:,.0f}",
            f"{r['cpu_s']:.1f}",
            f"{r['per_cpu_min']:,.0f}",
            f"{r['peak_mb']:,.0f}",
            f"{r['disk_mb']:,.0f}",
            f"{r['load']:.1f}",
        )
    console.print(t)
    console.print(
        "per min = patients per wall-clock minute; per CPU-min = per minute of CPU time of all "
        "processes. Goal: ≥ 1,000,000 patients/min on 2 cores; peak memory (whole process tree) "
        "< 4,096 MB at any size. 'load' is the load average before the run: above the core "
        "count, other work shared the machine.",
        style="dim",
    )
    return rows
