"""The read side of the network: what the web app, the API and reports show.

:class:`pcn.reporting.network.NetworkView` assembles the record, the analytics outputs and the
measures (indicators, funnel and SPC statistics, continuity) into plain tables, cached per record.
It decides nothing about access: callers scope identifiable rows with
:func:`pcn.access.policy.scope_patients` (through :mod:`pcn.access.guard`) and pass aggregates
for non-clinical roles through :mod:`pcn.measures.sdc`. :mod:`pcn.reporting.charts` turns the
tables into Vega-Lite specifications.
"""

from pcn.reporting.network import NetworkView, OutputsMissing, open_network

__all__ = ["NetworkView", "OutputsMissing", "open_network"]
