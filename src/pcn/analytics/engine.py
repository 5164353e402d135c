"""Engines that run the analytics: DuckDB (embedded default) and PySpark (scale-out).

An ``Engine`` wraps one Ibis backend connection and exposes the network record's tables as Ibis
tables. Every primitive is an Ibis expression over those tables, so the same code runs on both.
Results come back through ``to_arrow``, which casts to the declared output types: Spark may
return int32 or decimals where DuckDB returns int64/float64 (DESIGN.md, "Engine").
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pyarrow as pa

from pcn.record import Record

EngineKind = Literal["duckdb", "spark"]
ENGINES: tuple[EngineKind, ...] = ("duckdb", "spark")

_SPARK_LOCK = threading.Lock()
_SPARK_SESSION: Any = None
_VIEW_IDS = itertools.count()


class EngineError(RuntimeError):
    """An engine cannot be started (e.g. PySpark or Java missing) or was misused."""


def spark_session(master: str | None = None, shuffle_partitions: int | None = None) -> Any:
    """The one shared SparkSession of this process, started on first use.

    Tuned to start quickly for local work: no UI, few shuffle partitions, UTC session time zone
    (so dates never shift), Arrow transfers, quiet logs.
    """
    global _SPARK_SESSION
    with _SPARK_LOCK:
        if _SPARK_SESSION is not None:
            return _SPARK_SESSION
        try:
            from pyspark.sql import SparkSession
        except ImportError as e:  # pragma: no cover - depends on the install
            raise EngineError(
                "the spark engine needs the optional extra: pip install 'pcn[spark]' (and Java 17)"
            ) from e
        from pcn.config import get_settings

        settings = get_settings()
        master = master or settings.spark_master
        partitions = shuffle_partitions or settings.spark_shuffle_partitions
        session = (
            SparkSession.builder.master(master)
            .appName("pcn")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(partitions))
            .config("spark.default.parallelism", str(partitions))
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.adaptive.enabled", "true")
            .config("spark.sql.codegen.wholeStage", str(settings.spark_whole_stage_codegen).lower())
            .config("spark.driver.extraJavaOptions", "-XX:+UseParallelGC")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        _SPARK_SESSION = session
        return session


class Engine:
    """One backend connection plus the record tables it reads."""

    def __init__(self, kind: EngineKind, con: Any, paths: dict[str, str]) -> None:
        if kind not in ENGINES:
            raise EngineError(f"unknown engine {kind!r}; choose one of {', '.join(ENGINES)}")
        self.kind = kind
        self.con = con
        self._paths = paths
        self._tables: dict[str, ir.Table] = {}
        self._prefix = f"pcn{next(_VIEW_IDS)}_"
        self._cached: list[Any] = []
        self._code_tables: dict[frozenset[str], ir.Table] = {}
        self._record_views: dict[str, str] = {}
        #: How many executed queries read each record table: the pipeline's passes over the
        #: data, which a test and ``pcn bench run`` hold to account (ADR 0013).
        self.reads: Counter[str] = Counter()

    @classmethod
    def connect(cls, kind: EngineKind = "duckdb", paths: dict[str, str] | None = None) -> Engine:
        if kind == "duckdb":
            con = ibis.duckdb.connect()
        elif kind == "spark":
            con = ibis.pyspark.connect(spark_session())
        else:
            raise EngineError(f"unknown engine {kind!r}; choose one of {', '.join(ENGINES)}")
        return cls(kind, con, dict(paths or {}))

    @classmethod
    def for_record(cls, record: Record, kind: EngineKind = "duckdb") -> Engine:
        """An engine reading every table of a published record."""
        paths = {}
        for name in record.manifest.tables:
            files = record.files(name)
            paths[name] = str(files[0].parent) if files else ""
        return cls.connect(kind, paths)

    @classmethod
    def from_arrow(cls, tables: dict[str, pa.Table], kind: EngineKind = "duckdb") -> Engine:
        """An engine over in-memory tables (dry runs and small examples)."""
        engine = cls.connect(kind)
        for name, data in tables.items():
            engine._tables[name] = engine.arrow_table(data)
        return engine

    def arrow_table(self, data: pa.Table) -> ir.Table:
        """Register an in-memory Arrow table with the backend and return it as an Ibis table."""
        name = self._view_name()
        if self.kind == "duckdb":
            # Registered directly: Ibis' create_table from Arrow trips on DuckDB 2.0.
            self.con.con.register(name, data)
        else:
            self.con._session.createDataFrame(data).createOrReplaceTempView(name)
        return self.con.table(name)

    def code_table(self, codes: Iterable[str]) -> ir.Table:
        """A one-column table (``code``) of a code set, created once per engine.

        Primitives semi-join events with it instead of inlining thousands of literals, which
        would make Ibis compilation and SQL parsing slow.
        """
        key = frozenset(codes)
        if key not in self._code_tables:
            data = pa.table({"code": pa.array(sorted(key), pa.string())})
            self._code_tables[key] = self.arrow_table(data)
        return self._code_tables[key]

    def table(self, name: str) -> ir.Table:
        """A record table (read lazily, once per engine)."""
        if name not in self._tables:
            path = self._paths.get(name)
            if not path:
                raise EngineError(f"the record has no {name!r} table")
            self._tables[name] = self.read_parquet(path)
            self._record_views[self._tables[name].get_name()] = name
        return self._tables[name]

    def read_parquet(self, path: str | Path) -> ir.Table:
        path = Path(path)
        target = str(path / "*.parquet") if path.is_dir() and self.kind == "duckdb" else str(path)
        return self.con.read_parquet(target, table_name=self._view_name())

    def _view_name(self) -> str:
        return f"{self._prefix}{next(_VIEW_IDS)}"

    def cache(self, expr: ir.Table) -> ir.Table:
        """Materialise an intermediate result that several later expressions reuse."""
        # Not Ibis' own ``.cache()``: it drops the table when the Python object is collected.
        self._count_reads(expr)
        name = self._view_name()
        if self.kind == "duckdb":
            return self.con.create_table(name, expr, temp=True)
        self.con._run_pre_execute_hooks(expr)
        df = self.con._session.sql(self.con.compile(expr)).cache()
        df.createOrReplaceTempView(name)
        self._cached.append(df)
        return self.con.table(name)

    def to_arrow(self, expr: ir.Table, schema: pa.Schema | None = None) -> pa.Table:
        """Execute ``expr``; cast to ``schema`` (column order and types) when given."""
        table = self._execute(expr)
        if schema is None:
            return table
        missing = [f.name for f in schema if f.name not in table.column_names]
        if missing:
            raise EngineError(f"result lacks column(s) {', '.join(missing)}")
        return pa.table([_cast(table.column(f.name), f.type) for f in schema], schema=schema)

    def _execute(self, expr: ir.Table) -> pa.Table:
        self._count_reads(expr)
        if self.kind == "duckdb":
            return self.con.to_pyarrow(expr)
        # Spark straight to Arrow: Ibis would round-trip through pandas, which is slower and
        # loses types (dates, nullable ints).
        self.con._run_pre_execute_hooks(expr)
        df = self.con._session.sql(self.con.compile(expr))
        return df.toArrow()

    def _count_reads(self, expr: ir.Table) -> None:
        read = {self._record_views.get(t.name) for t in expr.op().find(ops.PhysicalTable)}
        self.reads.update(name for name in read if name is not None)

    def close(self) -> None:
        if self.kind == "duckdb":
            self.con.disconnect()
        else:
            for df in self._cached:
                df.unpersist()
            for name in self.con.list_tables():
                if name.startswith(self._prefix):
                    self.con._session.catalog.dropTempView(name)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cast(column: pa.ChunkedArray, to: pa.DataType) -> pa.ChunkedArray:
    if column.type.equals(to):
        return column
    if pa.types.is_decimal(column.type) and pa.types.is_floating(to):
        return column.cast(pa.float64()).cast(to)
    return column.cast(to, safe=True)
