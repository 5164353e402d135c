"""The network record: the canonical data model pooled from the PCN's practices.

A record is a directory of Parquet tables plus a manifest; see ``schemas`` for the tables and
``store`` for how a record is written atomically and read back.
"""

from pcn.record.schemas import SCHEMA_VERSION, TABLES, TableSpec
from pcn.record.store import Manifest, Record, RecordWriter, open_record

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "Manifest",
    "Record",
    "RecordWriter",
    "TableSpec",
    "open_record",
]
