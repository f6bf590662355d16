"""A/B experiments for any capability: definitions, sticky assignment, counting and statistics.

Serving code asks for a user's arm, serves that arm's model (or variant), says so in its response and
names the arm in the impression events it sends, which is how exposures are counted:

    from commerce_ai import experiments

    arm = experiments.assign("ranker-test", user_id)                   # Arm; NotFound if undefined
    if arm.model is not None:
        loaded = experiments.model_for(arm, expected_features=FEATURES)  # the arm's pinned version
    body = {..., **experiments.response_field(arm)}                    # {"experiment": {"name", "arm"}}
    # impression event: properties = experiments.impression_properties(arm)

Definitions are cached per warm container and re-read at most every MODEL_REFRESH_SECONDS (like the
ModelLoader's pointer), so the hot path is a hash and a lookup. A stopped experiment serves its control.
The function needs `EXPERIMENTS_TABLE` and `dynamodb:GetItem` on the experiments table.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.experiments.service import definitions
from commerce_ai.experiments.serving import Arm, Definitions, ModelsByArm, impression_properties, response_field

__all__ = [
    "Arm",
    "Definitions",
    "ModelsByArm",
    "assign",
    "definitions",
    "impression_properties",
    "model_for",
    "response_field",
]


@cache
def _models() -> ModelsByArm:
    return ModelsByArm()


def assign(experiment: str, user_id: str) -> Arm:
    """The user's arm of `experiment`: deterministic and sticky; the control once the experiment stopped."""
    return definitions().assign(experiment, user_id)


def model_for(arm: Arm, **loader_options: Any) -> LoadedModel[Any]:
    """The arm's model version through a ModelLoader pinned to it (one loader per model version and
    container; `loader_options` such as expected_features or opener apply when it is first made)."""
    return _models().get(arm, **loader_options)
