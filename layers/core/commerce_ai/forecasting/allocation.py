"""Allocating a distribution centre's scarce stock across stores for one period: the policies the study in
`model_build.forecasting.allocation` compares, and the one `POST /inventory/allocations` serves.

One code path for the study and the route: every policy takes the stores' one-period p10/p50/p90
forecasts, their stock on hand, their prices and the supply to ship, and answers units per store that sum
to the supply (all of it is shipped, as in the study).

- proportional to forecast: store i gets supply x p50_i / sum p50;
- base-stock fair share: store i needs max(0, S_i - on hand_i), S_i its one-period order-up-to level for a
  95% service level (p50 + z_95 x sd, sd from the p10-p90 band as `inventory.period_sd` reads it); needs
  are scaled down pro rata when the supply is short, and a surplus is split by p50;
- learned: supply x softmax(theta . phi_i) over stores, phi_i = (log1p p50, log1p p90 - log1p p10, log1p
  on hand, log1p need, price relative to the stores' mean), theta found by the cross-entropy method in
  the study's simulator (weeks 137-148 of Dominick's OJ, judged on 149-160: README, "Allocation").

Which policy is served, and the learned weights, are a build's product, not constants: the forecasting build
trains the policy by the study's code and publishes `policy.json` as the versioned `forecasting-allocation`
artifact (`AllocationPolicy`), which the route reads through the registry's `ModelLoader`. The learned
policy is served only if it beat both heuristics on the unseen weeks; otherwise the best heuristic is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commerce_ai.artifacts.manifest import Manifest, TensorSpec
from commerce_ai.forecasting.inventory import Z_90

if TYPE_CHECKING:
    import numpy as np

SERVICE_Z = 1.6448536269514722  # 95%
FEATURES = ("log1p p50", "log1p band width", "log1p on hand", "log1p need", "relative price")
PolicyName = Literal["learned", "fair-share", "proportional"]
ALLOCATION_MODEL = "forecasting-allocation"
POLICY_FILE = "policy.json"
# The manifest's schema of the artifact: the stores' feature rows in, one allocation weight per store out.
POLICY_INPUTS = [TensorSpec(name="store_features", dtype="float32", shape=[None, len(FEATURES)])]
POLICY_OUTPUTS = [TensorSpec(name="shares", dtype="float32", shape=[None])]
MAX_WEIGHT = 100.0  # |theta| beyond this saturates the softmax: a sign of a broken search, not a policy


class AllocationPolicy(BaseModel):
    """`policy.json` of a `forecasting-allocation` version: the served policy and the learned weights.

    `served_policy` is what the route uses when a request names none: `learned` only if the build's study
    found it cheaper than both heuristics on the weeks it was not trained on, else the cheaper heuristic.
    `theta` is the learned policy's weights either way (a request may name `learned` to compare)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    served_policy: PolicyName
    features: list[str]
    theta: list[float]
    trained_weeks: tuple[int, int]
    judged_weeks: tuple[int, int]
    iterations: int = Field(ge=1)
    judged_cost: dict[PolicyName, float] = Field(
        description="Each policy's total cost (holding + lost sales) on the judged weeks, in the study's money."
    )

    @field_validator("theta")
    @classmethod
    def _finite_weights(cls, theta: list[float]) -> list[float]:
        if not all(math.isfinite(v) and abs(v) <= MAX_WEIGHT for v in theta):
            raise ValueError(f"theta must be finite weights within +-{MAX_WEIGHT:g}")
        return theta

    @model_validator(mode="after")
    def _matches_serving(self) -> AllocationPolicy:
        if list(self.features) != list(FEATURES):
            raise ValueError(f"the policy's features {self.features} differ from serving's {list(FEATURES)}")
        if len(self.theta) != len(FEATURES):
            raise ValueError(f"theta has {len(self.theta)} weights for serving's {len(FEATURES)} features")
        return self

    def allocator(self, name: PolicyName | None = None) -> Allocator:
        """The named policy (the served one by default) as an allocator."""
        chosen = name or self.served_policy
        if chosen == "learned":
            return learned(self.theta)
        return fair_share if chosen == "fair-share" else proportional


def open_allocation_policy(manifest: Manifest, directory: Path) -> AllocationPolicy:
    """The registry loader's opener for `forecasting-allocation`: a policy that does not parse, or whose
    features or weights do not fit serving's, is refused (ValueError) and the last good version serves."""
    return AllocationPolicy.model_validate_json((directory / manifest.entrypoint).read_bytes())


Allocator = Callable[["np.ndarray", "np.ndarray", "np.ndarray", "np.ndarray", "np.ndarray", float], "np.ndarray"]


def need(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, on_hand: np.ndarray) -> np.ndarray:
    """Each store's shortfall to its one-period 95% order-up-to level."""
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    sd = np.maximum(p90 - p10, 0.0) / (2.0 * Z_90)
    return np.maximum(p50 + SERVICE_Z * sd - on_hand, 0.0)


def proportional(
    p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, on_hand: np.ndarray, price: np.ndarray, supply: float
) -> np.ndarray:
    total = float(p50.sum())
    if total <= 1e-9:  # nothing is forecast anywhere: an even split
        return supply * (p50 * 0.0 + 1.0) / len(p50)
    return supply * p50 / total


def fair_share(
    p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, on_hand: np.ndarray, price: np.ndarray, supply: float
) -> np.ndarray:
    needed = need(p10, p50, p90, on_hand)
    total = float(needed.sum())
    if total >= supply and total > 1e-9:
        return supply * needed / total
    return needed + proportional(p10, p50, p90, on_hand, price, supply - total)


def features(p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, on_hand: np.ndarray, price: np.ndarray) -> np.ndarray:
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    return np.column_stack(
        [
            np.log1p(p50),
            np.log1p(p90) - np.log1p(p10),
            np.log1p(on_hand),
            np.log1p(need(p10, p50, p90, on_hand)),
            price / max(float(price.mean()), 1e-9),
        ]
    )


def learned(theta: Sequence[float] | np.ndarray) -> Allocator:
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    weights_of = np.asarray(theta, dtype=float)

    def allocate(
        p10: np.ndarray, p50: np.ndarray, p90: np.ndarray, on_hand: np.ndarray, price: np.ndarray, supply: float
    ) -> np.ndarray:
        score = features(p10, p50, p90, on_hand, price) @ weights_of
        weights = np.exp(score - score.max())
        return supply * weights / weights.sum()

    return allocate
