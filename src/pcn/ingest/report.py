"""What an ingest did: rows loaded per table, resources/rows skipped and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rejection:
    """One input item not loaded: where it is, which element, and why."""

    source: str
    location: str  # "line 12", "entry 3", "row 7"
    item: str  # "Observation/abc", "patients row"
    element: str  # FHIR element path or column name
    why: str

    def __str__(self) -> str:
        return f"{self.source} {self.location} {self.item} {self.element}: {self.why}"


@dataclass
class IngestReport:
    read: int = 0
    loaded: Counter[str] = field(default_factory=Counter)  # resource type / file -> count
    rows: Counter[str] = field(default_factory=Counter)  # table -> rows produced by this input
    rejected: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: bool = False
    content_hash: str = ""

    def reject(self, source: str, location: str, item: str, element: str, why: str) -> None:
        self.rejected.append(Rejection(source, location, item, element, why))

    @property
    def skipped(self) -> int:
        return len(self.rejected)

    def reasons(self) -> Counter[str]:
        return Counter(r.why for r in self.rejected)
