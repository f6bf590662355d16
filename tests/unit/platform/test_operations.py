"""Operations in template.yaml (issue 18, parts 3, 6 and 8): every schedule declares its asynchronous
retries and an on-failure queue; every function, dead-letter queue and real-time route has its alarms;
every store's retention is in the README, and the stores holding personal data expire it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.alarms import END, TOPIC, dead_letter_queues, declared_block, expected_alarms, real_time_functions, render
from infra.template import ROOT, TEMPLATE_PATH, Stack

README = (ROOT / "README.md").read_text()


@pytest.fixture(scope="module")
def stack() -> Stack:
    return Stack()


def _scheduled(stack: Stack) -> list[str]:
    return sorted(fn.logical_id for fn in stack.functions() if any(e.type == "Schedule" for e in fn.events))


def _alarms(stack: Stack) -> list[dict[str, Any]]:
    return [r["Properties"] for r in stack.of_type("AWS::CloudWatch::Alarm").values()]


def _watched(stack: Stack, metric: str) -> set[str]:
    """Logical ids of the resources an alarm on `metric` watches (through its one dimension)."""
    found = set()
    for alarm in _alarms(stack):
        if alarm["MetricName"] == metric:
            (dimension,) = alarm["Dimensions"]
            value = dimension["Value"]
            found.add(value["Ref"] if "Ref" in value else value["Fn::GetAtt"][0])
    return found


# ------------------------------------------------------------------------------- schedules (part 3)


def test_the_template_has_schedules(stack: Stack) -> None:
    assert len(_scheduled(stack)) >= 5


@pytest.mark.parametrize("logical_id", _scheduled(Stack()))
def test_every_schedule_declares_its_retries_age_and_on_failure_queue(stack: Stack, logical_id: str) -> None:
    config = stack.resources[logical_id]["Properties"].get("EventInvokeConfig") or {}
    assert 0 <= int(config["MaximumRetryAttempts"]) <= 2
    assert 60 <= int(config["MaximumEventAgeInSeconds"]) <= 21600
    failure = config["DestinationConfig"]["OnFailure"]
    assert failure["Type"] == "SQS"
    queue = failure["Destination"]["Fn::GetAtt"][0]
    assert stack.resources[queue]["Type"] == "AWS::SQS::Queue"
    assert queue in dead_letter_queues(stack)  # so its depth is alarmed like any DLQ's


# ------------------------------------------------------------------------------- alarms (part 8)


def test_the_alarm_block_is_what_infra_alarms_writes(stack: Stack) -> None:
    declared = {k: v for k, v in stack.resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    expected = expected_alarms(stack)
    assert sorted(declared) == sorted(expected), "run `python -m infra.alarms` after adding a function or queue"
    assert declared == expected
    assert declared_block(TEMPLATE_PATH.read_text()) == render(expected)  # byte for byte: no hand edits


def test_every_function_has_errors_and_throttles_alarms(stack: Stack) -> None:
    functions = {fn.logical_id for fn in stack.functions()}
    assert _watched(stack, "Errors") == functions
    assert _watched(stack, "Throttles") == functions


def test_every_dead_letter_queue_has_a_depth_alarm(stack: Stack) -> None:
    redrive_targets = {
        r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for r in stack.of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in (r.get("Properties") or {})
    }
    assert len(redrive_targets) >= 10
    assert redrive_targets | {"ScheduledInvocationFailuresQueue"} == _watched(
        stack, "ApproximateNumberOfMessagesVisible"
    )


def test_every_real_time_route_has_a_p99_latency_alarm(stack: Stack) -> None:
    routed = {fn.logical_id for fn in stack.functions() if any(e.type in ("Api", "WebSocket") for e in fn.events)}
    assert routed == set(real_time_functions(stack)) == _watched(stack, "Duration")
    assert {a["ExtendedStatistic"] for a in _alarms(stack) if a["MetricName"] == "Duration"} == {"p99"}


def test_every_alarm_notifies_the_operations_topic_and_is_in_the_runbook(stack: Stack) -> None:
    assert stack.resources[TOPIC]["Type"] == "AWS::SNS::Topic"
    runbook = README.split("### Runbook", 1)[1].split("\n## ", 1)[0]
    for alarm in _alarms(stack):
        assert alarm["AlarmActions"] == [{"Ref": TOPIC}] == alarm["OKActions"]
        (entry,) = re.findall(r"README Runbook: (\w+)", alarm["AlarmDescription"])
        assert f"**{entry}**" in runbook, f"the README runbook has no entry {entry}"


def test_the_block_ends_with_its_marker() -> None:
    assert declared_block(TEMPLATE_PATH.read_text()).rstrip().endswith(END)


# ------------------------------------------------------------------------------- retention (part 6)


def _retention_rows() -> dict[str, tuple[str, str]]:
    """README "Retention" table: store -> (personal data, retention)."""
    section = README.split("### Retention", 1)[1].split("\n#", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1].lower(), cells[2])
    return rows


def test_the_readme_gives_every_stores_retention(stack: Stack) -> None:
    stores = set(stack.of_type("AWS::DynamoDB::Table")) | set(stack.of_type("AWS::S3::Bucket"))
    assert set(_retention_rows()) == stores


@pytest.mark.parametrize("store", sorted(k for k, (personal, _) in _retention_rows().items() if personal == "yes"))
def test_every_store_of_personal_data_expires_it(stack: Stack, store: str) -> None:
    props = stack.resources[store]["Properties"]
    if stack.resources[store]["Type"] == "AWS::DynamoDB::Table":
        ttl = props.get("TimeToLiveSpecification") or {}
        assert ttl.get("Enabled") is True and ttl.get("AttributeName")
    else:
        rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
        assert any("ExpirationInDays" in rule for rule in rules)


@pytest.mark.parametrize("bucket", sorted(Stack().of_type("AWS::S3::Bucket")))
def test_every_bucket_aborts_incomplete_uploads_and_expires_old_versions(stack: Stack, bucket: str) -> None:
    props = stack.resources[bucket]["Properties"]
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
    assert any("AbortIncompleteMultipartUpload" in rule for rule in rules)
    if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
        assert any("NoncurrentVersionExpiration" in rule for rule in rules)


def test_the_bulk_consumers_in_the_readme_are_capped_as_it_says(stack: Stack) -> None:
    section = README.split("**Bulk consumers.**", 1)[1].split("### Runbook", 1)[0]
    rows = re.findall(r"^\| (`.+?) \| (\d+)", section, flags=re.MULTILINE)
    assert len(rows) >= 4
    for names, cap in rows:
        for mapping in re.findall(r"`(\w+)`", names):
            scaling = stack.resources[mapping]["Properties"]["ScalingConfig"]
            assert scaling["MaximumConcurrency"] == int(cap), mapping
