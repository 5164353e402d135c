"""The blind evaluation protocol: frozen batches of labelled cases and their first blind runs.

Each batch was written in one go by a writer who never saw the engine, its rules or its answers,
from the brief in ``data/evaluation/BRIEF.md``, citing a public source per case; its SHA-256 was
recorded when it was written (``batches.yaml``). Its *first blind run* is the output file of
``pcn triage`` on the engine of the day, kept in ``data/evaluation/runs/`` so the figure can be
re-scored, never re-run. Development batches may then be used to improve the engine; a *locked*
batch never is: it is run once, at the end, and reported as it came out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from pcn.triage.evaluation import Evaluation, evaluate, score_outputs

MANIFEST = "batches.yaml"


class FirstRun(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the commit of the engine that made the run (short hash)
    engine_commit: str = Field(pattern=r"^[0-9a-f]{7,40}$")
    run_on: dt.date
    #: ``pcn triage`` output file, relative to the evaluation folder
    output: str
    note: str = ""


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    written_on: dt.date
    written_by: str
    focus: str
    sources: str
    locked: bool = False
    first_blind_run: FirstRun | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batches: list[Batch]


def evaluation_dir() -> Path:
    return Path(str(resources.files("pcn.triage") / "data" / "evaluation"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class BatchResult:
    batch: Batch
    first: Evaluation | None
    current: Evaluation | None


@dataclass
class Protocol:
    folder: Path

    @cached_property
    def manifest(self) -> Manifest:
        with (self.folder / MANIFEST).open(encoding="utf-8") as fh:
            return Manifest.model_validate(yaml.safe_load(fh))

    def path(self, batch: Batch) -> Path:
        return self.folder / batch.file

    def problems(self) -> list[str]:
        """Every way the batches on disk differ from what was frozen."""
        found = []
        for batch in self.manifest.batches:
            path = self.path(batch)
            if not path.is_file():
                if not batch.locked or batch.first_blind_run is not None:
                    found.append(f"{batch.id}: {batch.file} is missing")
                continue
            if sha256(path) != batch.sha256:
                found.append(f"{batch.id}: {batch.file} changed since it was frozen")
            run = batch.first_blind_run
            if run is not None and not (self.folder / run.output).is_file():
                found.append(f"{batch.id}: first blind run {run.output} is missing")
        return found

    def results(self, current: bool = True) -> list[BatchResult]:
        """Each batch's first blind run (re-scored from its kept output) and, for development
        batches (and a locked batch whose one run has been made), today's engine."""
        results = []
        for batch in self.manifest.batches:
            path = self.path(batch)
            run = batch.first_blind_run
            first = score_outputs(path, self.folder / run.output) if run else None
            now = evaluate(path) if current and path.is_file() and run else None
            results.append(BatchResult(batch, first, now))
        return results


def default_protocol() -> Protocol:
    return Protocol(evaluation_dir())
