"""The ``pcn`` command line: a thin edge that parses, calls a domain service and renders."""
