"""FHIR R4 (UK Core) mapping of the network record: in (``inbound``), out (``outbound``), the
read operations an API serves (``read``) and OperationOutcome errors (``outcome``).

Models come from ``fhir.resources.R4B``: fhir.resources 8 puts R5 at the top level and ships
R4B (4.3, a compatible technical correction of R4 for every resource we use) and STU3; there is
no separate R4 module. See docs/reference/fhir.md.
"""
