"""Opt-out code definitions (YAML)."""
