"""Erlang C: textbook values, and a cross-check against a discrete-event simulation (ciw)."""

from __future__ import annotations

import math

import pytest

from pcn.capacity.queueing import erlang_c, servers_needed, share_within


def _erlang_c_by_definition(n: int, a: float) -> float:
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


@pytest.mark.parametrize(("n", "a"), [(1, 0.5), (2, 1.0), (5, 4.0), (10, 8.5), (30, 25.0)])
def test_recursion_equals_the_published_formula(n: int, a: float) -> None:
    assert erlang_c(n, a) == pytest.approx(_erlang_c_by_definition(n, a), rel=1e-9)


def test_one_server_is_the_mm1_queue() -> None:
    # M/M/1: P(wait) = utilisation
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(3, 3.0) == 1.0  # unstable: everyone waits


def test_servers_needed_is_the_smallest_meeting_the_target() -> None:
    result = servers_needed(
        arrivals_per_hour=30, service_minutes=10, wait_minutes=5, target_share=0.8
    )
    assert result.share_within_target >= 0.8
    assert share_within(result.servers - 1, 30, 10, 5) < 0.8
    assert result.offered_load == pytest.approx(5.0)


def test_erlang_c_agrees_with_a_ciw_simulation() -> None:
    """An independent check: simulate the M/M/n queue with ciw and compare P(wait <= t)."""
    ciw = pytest.importorskip("ciw")
    arrivals_per_hour, service_minutes, servers, target = 24.0, 10.0, 5, 2.0
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrivals_per_hour / 60.0)],
        service_distributions=[ciw.dists.Exponential(rate=1.0 / service_minutes)],
        number_of_servers=[servers],
    )
    ciw.seed(20)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(60 * 24 * 30)  # minutes: a month of steady arrivals
    waits = [r.waiting_time for r in sim.get_all_records() if r.arrival_date > 60 * 24]
    simulated = sum(w <= target for w in waits) / len(waits)
    formula = share_within(servers, arrivals_per_hour, service_minutes, target)
    assert len(waits) > 10_000
    assert simulated == pytest.approx(formula, abs=0.02)
