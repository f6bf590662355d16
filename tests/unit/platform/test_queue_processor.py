"""The SQS consumers' shared processor: refused records are logged by field, never by value."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, Field

from commerce_ai.messages import QueueProcessor, parse_json
from infra.runner.sqs_poller import sqs_event


class Order(BaseModel):
    order_id: str
    amount: float = Field(strict=True, gt=0)


def _event(*bodies: str) -> dict[str, Any]:
    messages = [
        {"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": body, "Attributes": {"ApproximateReceiveCount": "2"}}
        for i, body in enumerate(bodies)
    ]
    return sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:orders", "us-east-1")


def _parse(record: SQSRecord) -> Order:
    return parse_json(record.body, Order, "order")


def test_a_refused_record_is_logged_with_its_fields_and_never_its_values(caplog: pytest.LogCaptureFixture) -> None:
    secret = "4111-1111-SECRET"
    event = _event(json.dumps({"order_id": "o1", "amount": 5.0}), json.dumps({"order_id": "o2", "amount": secret}))
    with caplog.at_level(logging.WARNING):
        result = process_partial_response(event=event, record_handler=_parse, processor=QueueProcessor())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    refused = [r for r in caplog.records if r.getMessage() == "queue record refused"]
    assert len(refused) == 1
    assert refused[0].fields == ["amount"]  # type: ignore[attr-defined]
    assert refused[0].error_type == "InvalidInput"  # type: ignore[attr-defined]
    assert secret not in caplog.text


def test_a_batch_of_nothing_but_bad_input_is_reported_not_raised() -> None:
    result = process_partial_response(event=_event("not json", "{}"), record_handler=_parse, processor=QueueProcessor())
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


def test_a_batch_that_failed_entirely_for_another_reason_still_raises() -> None:
    def broken(record: SQSRecord) -> None:
        raise ConnectionError("table unreachable")

    with pytest.raises(BatchProcessingError):
        process_partial_response(event=_event("{}", "{}"), record_handler=broken, processor=QueueProcessor())
