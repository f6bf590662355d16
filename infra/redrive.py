"""Redrive a dead-letter queue after an outage: each message re-sent to its source queue as a new message.

SQS's own redrive (the console's "Start DLQ redrive", StartMessageMoveTask) moves a message back with its
first enqueue time, and a message is deleted once that time is older than the queue's retention (four
days for the source queues, fourteen for the DLQs). After an outage longer than the queue's retries, say a
model unavailable for a long weekend, every message lands in the DLQ, and the ones older than four days
would vanish the moment they were moved back. `redrive` instead sends each message's body and attributes
as a new message (a fresh enqueue time) and deletes it from the DLQ only once the source queue has it.

Replays stay idempotent: bodies are unchanged, so their own keys (`transaction_id`, `event_id`, a tick's
name) make a message that was in fact applied before change nothing, and a different request under a used
key is still refused. A message whose idempotency rests on its SQS message id (an account event without
`event_id`) carries its first message id in the `redriven_from` attribute (`commerce_ai.messages`), which
its consumer uses in place of the new id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from commerce_ai.messages import REDRIVEN_FROM

RECEIVE_BATCH = 10  # SQS's most per ReceiveMessage and per SendMessageBatch
HOLD_SECONDS = 120  # a received message stays hidden this long while it is re-sent


@dataclass(frozen=True)
class Redriven:
    moved: int
    failed: int


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    """The message's own attributes, plus the id of its first delivery (kept through repeated redrives)."""
    attributes = {
        name: {key: value for key, value in attribute.items() if key in ("DataType", "StringValue", "BinaryValue")}
        for name, attribute in (message.get("MessageAttributes") or {}).items()
    }
    attributes.setdefault(REDRIVEN_FROM, {"DataType": "String", "StringValue": message["MessageId"]})
    return attributes


def redrive(sqs: Any, dlq_url: str, queue_url: str, limit: int | None = None) -> Redriven:
    """Move up to `limit` messages (all by default) from `dlq_url` to `queue_url` as new messages."""
    moved = failed = 0
    while limit is None or moved + failed < limit:
        wanted = RECEIVE_BATCH if limit is None else min(RECEIVE_BATCH, limit - moved - failed)
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=wanted,
            MessageAttributeNames=["All"],
            VisibilityTimeout=HOLD_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        entries = [
            {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": _attributes(m)}
            for i, m in enumerate(messages)
        ]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        sent = {entry["Id"] for entry in response.get("Successful", [])}
        failed += len(messages) - len(sent)  # left in the DLQ, visible again after HOLD_SECONDS
        if sent:
            sqs.delete_message_batch(
                QueueUrl=dlq_url,
                Entries=[{"Id": i, "ReceiptHandle": messages[int(i)]["ReceiptHandle"]} for i in sorted(sent)],
            )
        moved += len(sent)
        if failed:
            break  # the source queue refuses messages: stop rather than spin on them
    return Redriven(moved, failed)


def source_queue(stack: Any, dlq_logical_id: str) -> str:
    """The logical id of the queue whose RedrivePolicy names `dlq_logical_id` (template.yaml)."""
    wanted = stack.arn(dlq_logical_id)
    for logical_id in stack.of_type("AWS::SQS::Queue"):
        policy = stack.resources[logical_id].get("Properties", {}).get("RedrivePolicy") or {}
        if "deadLetterTargetArn" in policy and stack.resolve(policy["deadLetterTargetArn"]) == wanted:
            return str(logical_id)
    raise RuntimeError(f"no queue in template.yaml redrives to {dlq_logical_id}")
