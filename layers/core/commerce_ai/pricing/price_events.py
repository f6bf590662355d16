"""Price-change events: every change a tick applies is published once to `PriceChangesTopic` (SNS), for the
storefront, search, recommendations' price filters and forecasting's what-if; subscribers take a queue
each, as with the behaviour-event topic.

An event: {"event_id": "<tick>#<sku>", "type": "price_changed", "sku", "old_price", "new_price", "reason",
"rules", "tick"}. Its id is deterministic, so a consumer that remembers ids (the platform's
`EventConsumer` does) applies it once whatever reaches it twice.

Exactly once in effect across tick retries: events are published after the catalog updates, and then a
marker item (`#ticks`, `events#<tick>`; `events#<tick>#<chunk>` for a chunk of a scaled-out tick)
records that the tick's events are out. A retried attempt of the tick applies nothing twice (the SKUs it
changed are skipped) and publishes the events of the SKUs earlier attempts changed only if that marker is
missing (the crash came between the updates and the marker): the same ids again, which consumers drop if
they had them. A retry after the marker publishes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from commerce_ai import aws
from commerce_ai.pricing.decisions import DecisionRecord

PUBLISH_BATCH = 10  # SNS PublishBatch's limit
PUBLISH_ATTEMPTS = 5
MARKER_PARTITION = "#ticks"  # tick_log.PARTITION: the tick's items stay together
MARKER_PREFIX = "events#"


class EventsNotPublished(RuntimeError):
    """The topic did not take every event of a tick: the tick fails, and its retry publishes them."""


@dataclass(frozen=True)
class PriceChange:
    sku: str
    tick: str
    old_price: float | None
    new_price: float
    reason: str
    rules: tuple[str, ...]

    @classmethod
    def of(cls, record: DecisionRecord) -> PriceChange:
        assert record.applied is not None
        return cls(record.sku, record.tick, record.old_price, record.applied, record.reason, tuple(record.rules))

    @property
    def event_id(self) -> str:
        return f"{self.tick}#{self.sku}"

    def message(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": "price_changed",
            "sku": self.sku,
            "old_price": self.old_price,
            "new_price": self.new_price,
            "reason": self.reason,
            "rules": list(self.rules),
            "tick": self.tick,
        }


class PriceEvents:
    sns = aws.ClientAttribute("sns")
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, topic_arn: str, table: str, sns: Any = None, dynamodb: Any = None) -> None:
        self.topic_arn = topic_arn
        self.table = table
        self._sns = sns
        self._ddb = dynamodb

    def _marker(self, tick: str, chunk: int | None = None) -> dict[str, Any]:
        name = MARKER_PREFIX + tick + (f"#{chunk:06d}" if chunk is not None else "")
        return {"sku": {"S": MARKER_PARTITION}, "item": {"S": name}}

    def published(self, tick: str, chunk: int | None = None) -> bool:
        """Whether an attempt of `tick` (of its `chunk`) has published all its events."""
        key = self._marker(tick, chunk)
        return "Item" in self.ddb.get_item(TableName=self.table, Key=key, ConsistentRead=True)

    def mark_published(self, tick: str, count: int, chunk: int | None = None) -> None:
        self.ddb.put_item(TableName=self.table, Item={**self._marker(tick, chunk), "events": {"N": str(count)}})

    def publish(self, changes: list[PriceChange]) -> int:
        """Publish the events, PUBLISH_BATCH a call, retrying what SNS failed; returns the calls made."""
        calls = 0
        for start in range(0, len(changes), PUBLISH_BATCH):
            pending = {str(i): c for i, c in enumerate(changes[start : start + PUBLISH_BATCH])}
            for _ in range(PUBLISH_ATTEMPTS):
                response = self.sns.publish_batch(
                    TopicArn=self.topic_arn,
                    PublishBatchRequestEntries=[
                        {
                            "Id": i,
                            "Message": json.dumps(c.message(), separators=(",", ":")),
                            "MessageAttributes": {"type": {"DataType": "String", "StringValue": "price_changed"}},
                        }
                        for i, c in pending.items()
                    ],
                )
                calls += 1
                failed = {f["Id"] for f in response.get("Failed", [])}
                pending = {i: c for i, c in pending.items() if i in failed}
                if not pending:
                    break
            if pending:
                raise EventsNotPublished(f"the topic did not take {len(pending)} price-change event(s)")
        return calls

    def publish_tick(
        self, tick: str, applied: list[DecisionRecord], earlier: list[DecisionRecord], chunk: int | None = None
    ) -> int:
        """The tick's (chunk's) events: this attempt's changes, and those of earlier attempts unless they are
        out already; then the marker. Returns the events published."""
        changes = [PriceChange.of(r) for r in applied]
        if earlier and not self.published(tick, chunk):
            changes += [PriceChange.of(r) for r in earlier]
        if changes:
            self.publish(changes)
            self.mark_published(tick, len(changes), chunk)
        return len(changes)
