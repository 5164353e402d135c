"""Measures: indicator definitions and their evaluation (``indicators``, ``expressions``), funnel
plots (``funnel``), SPC charts as Making Data Count defines them (``spc``), continuity of care and
care closer to home (``continuity``), and the disclosure control every non-clinical output goes
through (``sdc``). Import the submodules directly; this package stays light so importing ``sdc``
does not pull in scipy. See docs/reference/measures.md.
"""
