"""Run a command in a child process and measure wall time, CPU time and peak memory.

Peak memory is the largest sum of resident set sizes over the whole process tree (the command and
its worker processes), sampled every 50 ms; CPU time is the tree's user + system time.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass

import psutil


@dataclass
class Measurement:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    load_before: float

    @property
    def cpu_share(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else 0.0


def measure(cmd: list[str], env: dict[str, str] | None = None) -> Measurement:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peak = 0
    cpu_seen: dict[int, float] = {}
    while proc.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        rss = 0
        for p in procs:
            try:
                rss += p.memory_info().rss
                t = p.cpu_times()
                cpu_seen[p.pid] = t.user + t.system
            except psutil.NoSuchProcess:
                continue
        peak = max(peak, rss)
        time.sleep(0.05)
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.decode(errors='replace')[-2000:]}")
    children = os.times()
    # The tree's exact CPU time: our reaped children's totals (the sampled values are a floor).
    cpu = max(
        sum(cpu_seen.values()),
        children.children_user + children.children_system - _CHILD_CPU_BASE[0],
    )
    _CHILD_CPU_BASE[0] = children.children_user + children.children_system
    return Measurement(wall, cpu, peak / 2**20, proc.returncode, load)


_CHILD_CPU_BASE = [os.times().children_user + os.times().children_system]
