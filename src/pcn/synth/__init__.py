"""The synthetic twin: a seeded, realistic network record for any real PCN in England."""

from pcn.synth.build import TwinResult, build_twin
from pcn.synth.report import prevalence_report

__all__ = ["TwinResult", "build_twin", "prevalence_report"]
