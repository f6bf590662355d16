"""One small simulated world, shared by the risk tests (it takes a fraction of a second to build)."""

from __future__ import annotations

import pytest

from model_build.risk.simulator import Simulation, SimulatorConfig, simulate

SMALL = SimulatorConfig(
    seed=11,
    n_customers=1500,
    n_merchants=80,
    days=30,
    warmup_days=5,
    n_amount_outliers=25,
    n_card_testing_bursts=8,
    n_card_testers=3,
    n_account_takeovers=12,
    n_compromised_merchants=2,
    compromise_days=(3, 5),
    compromised_frauds_per_day=(5, 10),
    n_rings=2,
    ring_size=(10, 16),
    ring_sessions_per_account=6,
)


@pytest.fixture(scope="session")
def world() -> Simulation:
    return simulate(SMALL)
