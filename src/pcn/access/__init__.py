"""Who may do what: roles, practice membership, sharing agreements, break-glass (deny by default).

:func:`pcn.access.policy.decide` is the one policy function and
:func:`pcn.access.policy.scope_patients` the one scoping function; :mod:`pcn.access.guard`
applies them to a store and audits every decision.
"""

from pcn.access.policy import (
    NETWORK,
    AccessContext,
    Action,
    Agreement,
    BreakGlassGrant,
    DataScope,
    Decision,
    PatientScope,
    Principal,
    Purpose,
    Request,
    Role,
    decide,
    scope_patients,
)

__all__ = ["NETWORK", "AccessContext", "Action", "Agreement", "BreakGlassGrant", "DataScope",
           "Decision", "PatientScope", "Principal", "Purpose", "Request", "Role", "decide",
           "scope_patients"]
