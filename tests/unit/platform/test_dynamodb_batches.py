"""commerce_ai.dynamodb_batches: batch calls resend what DynamoDB leaves unprocessed, then give up loudly."""

from __future__ import annotations

import pytest

from commerce_ai import dynamodb_batches
from commerce_ai.dynamodb_batches import UnprocessedError, batch_get, batch_write
from tests.unit.fakes import FakeDynamoDB

TABLE = "health-table"


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(dynamodb_batches.time, "sleep", slept.append)
    return slept


def _puts(count: int) -> dict[str, list[dict[str, object]]]:
    return {TABLE: [{"PutRequest": {"Item": {"function": {"S": f"f{i}"}}}} for i in range(count)]}


def test_write_resends_unprocessed_items_with_growing_pauses(pauses: list[float]) -> None:
    ddb = FakeDynamoDB()
    # Given DynamoDB leaves half of each of the next three calls unprocessed,
    ddb.throttle_batches = 3
    # when 20 items are written,
    batch_write(ddb, _puts(20))
    # then all of them land, after pauses that grow between attempts.
    assert len(ddb.tables[TABLE]) == 20
    assert len(pauses) == 3 and pauses == sorted(pauses) and pauses[0] < pauses[-1]


def test_get_yields_every_key_across_attempts(pauses: list[float]) -> None:
    ddb = FakeDynamoDB()
    batch_write(ddb, _puts(10))
    ddb.throttle_batches = 2
    keys = {TABLE: {"Keys": [{"function": {"S": f"f{i}"}} for i in range(10)], "ConsistentRead": True}}
    found = [item["function"]["S"] for responses in batch_get(ddb, keys) for item in responses.get(TABLE, [])]
    assert sorted(found) == sorted(f"f{i}" for i in range(10))
    assert len(pauses) == 2


def test_what_stays_unprocessed_is_an_error_that_counts_it(pauses: list[float]) -> None:
    ddb = FakeDynamoDB()
    ddb.throttle_batches = 1000
    with pytest.raises(UnprocessedError, match=r"items stayed unprocessed after 3 BatchWriteItem attempts"):
        batch_write(ddb, _puts(4), attempts=3)
    keys = {TABLE: {"Keys": [{"function": {"S": "f0"}}]}}
    with pytest.raises(UnprocessedError, match=r"1 keys stayed unprocessed after 2 BatchGetItem attempts"):
        list(batch_get(ddb, keys, attempts=2))
    assert max(pauses) <= 2.0
