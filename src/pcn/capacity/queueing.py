"""Staff needed per role to meet a target wait: the Erlang C (M/M/N) queue.

Erlang C (A. K. Erlang, 1917; as set out in Gans, Koole and Mandelbaum, "Telephone call
centers: tutorial, review, and research prospects", Manufacturing & Service Operations
Management 5(2), 2003, section 4.1): requests arrive at random (Poisson, rate ``lam`` an hour),
each takes an exponentially distributed time (mean ``service_minutes``), ``n`` clinicians work
in parallel. With offered load A = lam x service time (erlangs) and n > A,

    P(wait) = (A^n / n!) (n / (n - A)) / (sum_{k<n} A^k / k! + (A^n / n!) (n / (n - A)))
    P(wait <= t) = 1 - P(wait) exp(-(n - A) t / service time)

The assumptions (random arrivals at a steady rate through the core day, one queue per role
across the network, nobody abandons) are shown wherever the figure is. A test checks the
formula against a discrete-event simulation (ciw), not against itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability an arriving request waits (1.0 when the queue is unstable: n <= A)."""
    if offered_load <= 0:
        return 0.0
    if servers <= offered_load:
        return 1.0
    # the Erlang B recursion is stable for large n; C follows from B
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    rho = offered_load / servers
    return b / (1 - rho + rho * b)


def share_within(
    servers: int, arrivals_per_hour: float, service_minutes: float, wait_minutes: float
) -> float:
    """P(wait <= wait_minutes) for an M/M/n queue."""
    load = arrivals_per_hour * service_minutes / 60.0
    if servers <= load:
        return 0.0
    p_wait = erlang_c(servers, load)
    return 1.0 - p_wait * math.exp(-(servers - load) * wait_minutes / service_minutes)


def mean_wait_minutes(servers: int, arrivals_per_hour: float, service_minutes: float) -> float:
    load = arrivals_per_hour * service_minutes / 60.0
    if servers <= load:
        return math.inf
    return erlang_c(servers, load) * service_minutes / (servers - load)


@dataclass(frozen=True)
class Staffing:
    servers: int
    offered_load: float
    share_within_target: float
    mean_wait_minutes: float


def servers_needed(
    arrivals_per_hour: float,
    service_minutes: float,
    wait_minutes: float,
    target_share: float,
    limit: int = 10_000,
) -> Staffing:
    """The fewest clinicians at once so that ``target_share`` wait no more than the target."""
    load = arrivals_per_hour * service_minutes / 60.0
    n = max(1, math.floor(load) + 1)
    while n < limit:
        share = share_within(n, arrivals_per_hour, service_minutes, wait_minutes)
        if share >= target_share:
            return Staffing(
                n, load, share, mean_wait_minutes(n, arrivals_per_hour, service_minutes)
            )
        n += 1
    raise ValueError(f"more than {limit} clinicians needed: check the demand figure")
