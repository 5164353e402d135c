"""pcn: an open platform that runs an NHS England Primary Care Network."""

__version__ = "0.1.0"
