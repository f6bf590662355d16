"""SNS topics in the local stack: the runner's banner lists each subscription (the emulator delivers them),
and bootstrap turns the template's S3 lifecycle rules into the S3 API's shape."""

from __future__ import annotations

import pytest

from infra.bootstrap import _lifecycle_rule
from infra.runner.local import topic_subscriptions
from infra.template import Stack, TemplateError


def test_the_banner_lists_every_subscription_of_the_template(stack: Stack) -> None:
    triggers = topic_subscriptions(stack)
    assert {t.function for t in triggers} == {"BehaviourEventsTopic", "PriceChangesTopic"}
    assert sorted(t.description for t in triggers) == [
        "commerce-ai-BehaviourEventsTopic -> commerce-ai-BehaviourArchiveQueue, raw",
        "commerce-ai-BehaviourEventsTopic -> commerce-ai-ExperimentEventsQueue, raw",
        "commerce-ai-BehaviourEventsTopic -> commerce-ai-PropensityProfileEventsQueue, raw",
        "commerce-ai-BehaviourEventsTopic -> commerce-ai-RecommendationEventsQueue, raw",
        "commerce-ai-PriceChangesTopic -> commerce-ai-CataloguePriceChangesQueue, raw",
    ]
    assert all(t.kind == "SNS" for t in triggers)


def test_lifecycle_rules_take_the_s3_api_shape() -> None:
    rule = {"Id": "Expire", "Status": "Enabled", "Prefix": "events/", "ExpirationInDays": 365}
    assert _lifecycle_rule(rule) == {
        "ID": "Expire",
        "Status": "Enabled",
        "Filter": {"Prefix": "events/"},
        "Expiration": {"Days": 365},
    }
    abort = {"Id": "Abort", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
    assert _lifecycle_rule(abort)["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert _lifecycle_rule(abort)["Filter"] == {"Prefix": ""}


def test_a_lifecycle_setting_bootstrap_cannot_apply_is_refused() -> None:
    with pytest.raises(TemplateError, match="Transitions not supported locally"):
        _lifecycle_rule({"Id": "Cold", "Status": "Enabled", "Transitions": [{"StorageClass": "GLACIER"}]})
