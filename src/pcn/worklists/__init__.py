"""Case-finding worklists: who needs what and why; definitions as data, run on the profile."""

from pcn.worklists.definitions import WorklistDefinition, load_worklists
from pcn.worklists.evaluate import build_worklist, build_worklists

__all__ = ["WorklistDefinition", "build_worklist", "build_worklists", "load_worklists"]
