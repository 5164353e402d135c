"""Shipped column mappings for practice extracts (YAML)."""
