"""A function process killed mid-batch, through the real runner pieces: the queue poller (Lambda's event
source mapping), a spawned worker process with the template's environment, and the fault layer killing it
(SIGKILL) right after one of its writes landed. The batch comes back after the visibility timeout to a
new process, which must apply what the dead one had not and nothing it had (issue 18, part 9; the
campaign's figure is in reports/reliability.md)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from commerce_ai import aws
from commerce_ai.risk.store import RiskStore
from commerce_ai.risk.velocity import entity_key
from infra import emulator as emu
from infra.runner.faults import FAULTS_ENV
from infra.runner.invoker import FunctionWorker, worker_spec
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack

pytestmark = pytest.mark.integration

FUNCTION = "RiskAccountEventsFunction"
VISIBILITY_SECONDS = 1


@pytest.fixture
def worker(
    stack: Stack, local_aws: emu.Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FunctionWorker]:
    # The runner's environment names the plan; the spawned worker reads it before taking the template's.
    monkeypatch.setenv(FAULTS_ENV, str(tmp_path / "faults.json"))
    fn = stack.function(FUNCTION)
    started = FunctionWorker(worker_spec(fn, stack.layer_dirs(fn), local_aws.environ(), log_dir=None))
    yield started
    started.stop()


@pytest.fixture
def queue(stack: Stack) -> Iterator[QueueSource]:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("RiskAccountEventsQueue"))["QueueUrl"]
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(VISIBILITY_SECONDS)})
    yield QueueSource(FUNCTION, url, stack.arn("RiskAccountEventsQueue"), batch_size=10, report_failures=True)
    sqs.set_queue_attributes(QueueUrl=url, Attributes=before)


def failed_login(tag: str, i: int) -> dict[str, object]:
    return {
        "event_id": f"crash-{tag}-{i}",
        "event_type": "login",
        "success": False,
        "user_id": f"crash-{tag}-u{i}",
        "device_id": f"crash-{tag}-d{i}",
        "ip": "203.0.113.7",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "location": {"lat": 31.23, "lon": 121.47},
    }


def failed_logins(stack: Stack, user_id: str) -> int:
    store = RiskStore(stack.physical_name("RiskStateTable"), stack.physical_name("RiskResultsTable"))
    states, _ = store.read([entity_key("user", user_id)])
    item = states.get(entity_key("user", user_id), {})
    return int(sum(float(v) for k, v in item.items() if k.startswith("f_h")))


def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    stack: Stack, worker: FunctionWorker, queue: QueueSource, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    events = [failed_login(tag, i) for i in range(5)]
    aws.client("sqs").send_message_batch(
        QueueUrl=queue.queue_url, Entries=[{"Id": str(i), "MessageBody": json.dumps(e)} for i, e in enumerate(events)]
    )
    # Each event is a state read and one transaction: the 4th call is the second event's transaction, and
    # the process dies the moment it has landed.
    (tmp_path / "faults.json").write_text(json.dumps({"crash_after_calls": 4, "functions": [FUNCTION]}))
    batch = queue.receive_batch(threading.Event())
    assert len(batch) == 5
    invoke = lambda _function, event: worker.invoke(event)  # noqa: E731 - the runner's Invoke signature
    assert queue.process(batch, invoke) == {m["MessageId"] for m in batch}  # the whole batch stays
    applied = [failed_logins(stack, str(e["user_id"])) for e in events]
    assert 0 < sum(applied) < 5, applied  # it died mid-batch: some landed, not all

    (tmp_path / "faults.json").unlink()
    time.sleep(VISIBILITY_SECONDS + 0.5)  # the visibility timeout: the batch is redelivered to a new process
    redelivered = queue.receive_batch(threading.Event())
    assert sorted(m["MessageId"] for m in redelivered) == sorted(m["MessageId"] for m in batch)
    assert queue.process(redelivered, invoke) == set()
    assert [failed_logins(stack, str(e["user_id"])) for e in events] == [1] * 5
