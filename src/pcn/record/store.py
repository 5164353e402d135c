"""Reading and writing a network record on disk.

A record directory holds immutable snapshots and a ``current`` link (see ``atomic``). Each
snapshot is one Parquet directory per table plus ``manifest.json``::

    manifest.json     schema version, created_at, source, per-table rows/content hash/files
    patients/part-00000.parquet
    clinical_events/part-00000.parquet, part-00001.parquet, ...

Write with ``RecordWriter`` (a context manager); read with ``open_record``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pcn.record import atomic
from pcn.record.hashing import TableHasher, combined_hash
from pcn.record.schemas import SCHEMA_VERSION, TABLES

MANIFEST = "manifest.json"
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "row_group_size": 1 << 20}


class RecordError(Exception):
    """A record is missing, malformed, or was written with an incompatible schema."""


@dataclass
class TableEntry:
    rows: int
    content_hash: str
    files: list[str]


@dataclass
class Manifest:
    schema_version: str
    created_at: str
    source: dict[str, Any]
    tables: dict[str, TableEntry]
    content_hash: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw = json.loads(text)
        raw["tables"] = {k: TableEntry(**v) for k, v in raw["tables"].items()}
        return cls(**raw)


@dataclass(frozen=True)
class Record:
    """A published, immutable snapshot of a network record."""

    path: Path
    manifest: Manifest

    def table_dir(self, name: str) -> Path:
        if name not in TABLES:
            raise RecordError(f"unknown table {name!r}; tables are {', '.join(TABLES)}")
        return self.path / name

    def glob(self, name: str) -> str:
        """A glob of the table's Parquet files, for DuckDB/Spark/Ibis readers."""
        return str(self.table_dir(name) / "*.parquet")

    def files(self, name: str) -> list[Path]:
        entry = self.manifest.tables.get(name)
        if entry is None and name in TABLES:  # a table added by a later minor schema version
            return []
        return [self.path / f for f in self.manifest.tables[name].files]

    def read(self, name: str, columns: list[str] | None = None) -> pa.Table:
        files = self.files(name)
        schema = TABLES[name].schema
        if not files:
            return schema.empty_table() if columns is None else schema.empty_table().select(columns)
        return pa.concat_tables([pq.read_table(f, columns=columns, schema=schema) for f in files])

    def iter_batches(self, name: str, batch_size: int = 1 << 20) -> Iterator[pa.RecordBatch]:
        for f in self.files(name):
            yield from pq.ParquetFile(f).iter_batches(batch_size=batch_size)

    @property
    def base(self) -> Path:
        """The record directory (the parent of ``snapshots``)."""
        return self.path.parent.parent


def resolve_snapshot(path: Path) -> Path:
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RecordError(f"{path} is a file, not a record directory")
    if (path / MANIFEST).exists():
        return path
    current = path / "current"
    if current.exists() and (current / MANIFEST).exists():
        return current.resolve()
    raise RecordError(f"{path} is not a network record (no current snapshot or {MANIFEST})")


def open_record(path: str | Path) -> Record:
    snap = resolve_snapshot(Path(path))
    manifest = Manifest.from_json((snap / MANIFEST).read_text())
    major = manifest.schema_version.split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise RecordError(
            f"{path}: record schema version {manifest.schema_version} is incompatible with "
            f"this pcn ({SCHEMA_VERSION}); rebuild or migrate the record"
        )
    return Record(snap, manifest)


class RecordWriter:
    """Write a whole record aside, then publish it atomically.

    Tables are appended part by part (``write``); parts may arrive in any order. Any table
    never written is published empty, so every record has every table. On an exception the
    staging directory is removed and the previous record is untouched.
    """

    def __init__(
        self, base: str | Path, source: dict[str, Any], extra: dict[str, Any] | None = None,
        verify: Callable[[Record], None] | None = None,
    ) -> None:
        """``verify`` is called with the complete staged record before it is published; an
        exception from it publishes nothing (the previous record stays current)."""
        self.verify = verify
        self.base = Path(base)
        self.source = source
        self.extra = extra or {}
        self.staging: Path | None = None
        self._writing: AbstractContextManager[Path] = atomic.writing(self.base)
        self._hashers: dict[str, TableHasher] = {}
        self._files: dict[str, list[str]] = {}
        self.record: Record | None = None
        self.changed = False

    def __enter__(self) -> RecordWriter:
        try:
            self.staging = self._writing.__enter__()
        except atomic.NotADirectory as e:
            raise RecordError(str(e)) from None
        return self

    def part_path(self, table: str, part: int) -> Path:
        assert self.staging is not None, "use RecordWriter as a context manager"
        d = self.staging / table
        d.mkdir(exist_ok=True)
        return d / f"part-{part:05d}.parquet"

    def write(self, table: str, data: pa.Table, part: int = 0) -> None:
        """Write one part of a table (validated against the schema)."""
        data = conform(data, table)
        path = self.part_path(table, part)
        if path.exists():
            raise RecordError(f"{table} part {part} written twice")
        pq.write_table(data, path, **PARQUET_OPTIONS)
        self.register_part(table, path, data)

    def register_part(self, table: str, path: Path, data: pa.Table | None = None) -> None:
        """Account for a part file written by someone else (e.g. a worker process)."""
        assert self.staging is not None
        hasher = self._hashers.setdefault(table, TableHasher(TABLES[table].schema))
        if data is None:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=1 << 20):
                hasher.update(batch)
        else:
            hasher.update(data)
        self._files.setdefault(table, []).append(str(path.relative_to(self.staging)))

    def adopt_part(self, table: str, path: Path, rows: int, partial_sum: int) -> None:
        """Account for a part file a worker wrote and hashed itself (see TableHasher.merge)."""
        assert self.staging is not None
        hasher = self._hashers.setdefault(table, TableHasher(TABLES[table].schema))
        hasher.merge(rows, partial_sum)
        self._files.setdefault(table, []).append(str(path.relative_to(self.staging)))

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self.staging is not None
        try:
            if exc_type is None:
                self._finish()
        finally:  # removes an unpublished staging directory and releases the writer lock
            self._writing.__exit__(None, None, None)

    def _finish(self) -> None:
        assert self.staging is not None
        tables: dict[str, TableEntry] = {}
        for name, spec in TABLES.items():
            if name not in self._hashers:
                self.write(name, spec.schema.empty_table())
            h = self._hashers[name]
            tables[name] = TableEntry(
                rows=h.rows, content_hash=h.hexdigest(), files=sorted(self._files[name])
            )
        content = combined_hash(f"{n}:{t.content_hash}" for n, t in sorted(tables.items()))
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            source=self.source,
            tables=tables,
            content_hash=content,
            extra=self.extra,
        )
        (self.staging / MANIFEST).write_text(manifest.to_json())
        if self.verify is not None:
            self.verify(Record(self.staging, manifest))
        snapshot_id = content[:20]
        path, self.changed = atomic.publish(self.base, self.staging, snapshot_id)
        self.record = open_record(path)


def conform(data: pa.Table, table: str) -> pa.Table:
    """Cast ``data`` to the table's schema, naming the first problem clearly."""
    schema = TABLES[table].schema
    missing = [c for c in schema.names if c not in data.column_names]
    if missing:
        raise RecordError(f"{table}: missing column(s) {', '.join(missing)}")
    extra = [c for c in data.column_names if c not in schema.names]
    if extra:
        raise RecordError(f"{table}: unexpected column(s) {', '.join(extra)}")
    data = data.select(schema.names)
    try:
        data = data.cast(schema, safe=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
        raise RecordError(f"{table}: cannot convert to the record schema: {e}") from e
    for f in schema:
        if not f.nullable and data.column(f.name).null_count:
            raise RecordError(
                f"{table}.{f.name}: {data.column(f.name).null_count} null value(s) "
                "in a required column"
            )
    return data
