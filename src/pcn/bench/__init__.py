"""Benchmarks: measured side by side in one run, printed as figures and ratios (never asserted)."""
