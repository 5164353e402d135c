"""Order-independent content hashes of Arrow tables.

Two records are "identical" when every table holds the same multiset of rows, whichever program
wrote them and however the rows were ordered or split into files (the synthetic twin writes many
chunked files, an ingest writes one). So the hash of a table is the sum (mod 2**64) of a stable
64-bit hash of each row, plus the row count. The row hash is built from our own mixing function
over each value's canonical bytes, so it does not change when a library is upgraded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_NULL = np.uint64(0x9E3779B97F4A7C15)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective avalanche on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _C1
        x = x ^ (x >> np.uint64(27))
        x = x * _C2
        x = x ^ (x >> np.uint64(31))
    return x


def _string_hashes(values: list[str | None]) -> np.ndarray:
    out = np.empty(len(values), dtype=np.uint64)
    for i, v in enumerate(values):
        if v is None:
            out[i] = _NULL
        else:
            digest = hashlib.blake2b(v.encode("utf-8"), digest_size=8).digest()
            out[i] = np.frombuffer(digest, dtype="<u8")[0]
    return out


def column_hashes(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A stable uint64 per value of one column (nulls hash to a fixed constant)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        enc = pc.dictionary_encode(col)
        uniq = _string_hashes(enc.dictionary.to_pylist())
        idx = enc.indices.to_numpy(zero_copy_only=False)
        valid = ~np.asarray(pc.is_null(enc.indices).to_numpy(zero_copy_only=False))
        out = np.full(len(col), _NULL, dtype=np.uint64)
        out[valid] = uniq[idx[valid].astype(np.int64)]
        return out
    if pa.types.is_boolean(t):
        vals = col.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint64) + np.uint64(1)
    elif pa.types.is_floating(t):
        arr = col.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        arr = np.where(arr == 0.0, 0.0, arr)  # -0.0 and 0.0 are the same value
        arr = np.where(np.isnan(arr), np.nan, arr)
        vals = arr.view(np.uint64)
    elif pa.types.is_date32(t):
        vals = col.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        vals = vals.view(np.uint64)
    elif pa.types.is_timestamp(t):
        vals = (
            col.cast(pa.timestamp("s")).cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        ).view(np.uint64)
    elif pa.types.is_integer(t):
        vals = col.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False).view(np.uint64)
    else:
        raise TypeError(f"cannot hash column of type {t}")
    out = _mix(vals.astype(np.uint64, copy=False))
    if col.null_count:
        nulls = np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False))
        out[nulls] = _NULL
    return out


class TableHasher:
    """Accumulates the content hash of a table fed in any number of batches, in any order."""

    def __init__(self, schema: pa.Schema) -> None:
        self.columns = schema.names
        self.rows = 0
        self._sum = np.uint64(0)

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        n = batch.num_rows
        if n == 0:
            return
        h = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i, name in enumerate(self.columns):
                ch = column_hashes(batch.column(name))
                h = _mix(h ^ (ch + np.uint64(i + 1) * _NULL))
            self._sum = np.uint64((int(self._sum) + int(np.sum(h, dtype=np.uint64))) & int(_MASK))
        self.rows += n

    @property
    def partial_sum(self) -> int:
        return int(self._sum)

    def merge(self, rows: int, partial_sum: int) -> None:
        """Fold in the rows and sum of a hasher that ran elsewhere (e.g. a worker process)."""
        self.rows += rows
        self._sum = np.uint64((int(self._sum) + partial_sum) & int(_MASK))

    def hexdigest(self) -> str:
        return f"{self.rows:x}-{int(self._sum):016x}"


def table_hash(table: pa.Table) -> str:
    hasher = TableHasher(table.schema)
    hasher.update(table)
    return hasher.hexdigest()


def combined_hash(parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode())
        h.update(b"\n")
    return h.hexdigest()
