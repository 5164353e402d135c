"""Ingest: load what practices' systems export (FHIR R4, CSV/Parquet extracts, opt-out lists)
into the network record, validated, idempotently and atomically."""
