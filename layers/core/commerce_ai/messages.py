"""Queue messages: a body parsed as JSON and validated by a pydantic model (or InvalidInput saying what is
wrong), and the batch processor every SQS consumer uses, so a record fails alone and reaches the DLQ with
a readable reason in the logs."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from pydantic import BaseModel, ValidationError

from commerce_ai.errors import InvalidInput
from commerce_ai.idempotency import KeyReused
from commerce_ai.telemetry import logger

M = TypeVar("M", bound=BaseModel)
# A message re-sent from its DLQ as a new one (`commerce-ai redrive`, infra/redrive.py) carries the SQS id of
# its first delivery in this attribute, for the consumers whose idempotency key is that id.
REDRIVEN_FROM = "redriven_from"


def first_message_id(record: Any) -> str:
    """The SQS message id of a record's first delivery: its own, unless it was redriven as a new message."""
    attribute = (record.message_attributes or {}).get(REDRIVEN_FROM)
    value = attribute.get("stringValue") if isinstance(attribute, dict) else None
    return str(value) if value else str(record.message_id)


def parse_json(body: str, model: type[M], what: str) -> M:
    try:
        return model.model_validate(json.loads(body))
    except RecursionError as exc:
        raise InvalidInput(f"{what} is nested too deeply") from exc
    except ValidationError as exc:  # the message names fields and problems, never the values (personal data)
        details = exc.errors(include_url=False, include_input=False)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in details)
        raise InvalidInput(f"{what} is invalid: {problems}"[:500], details) from None
    except ValueError as exc:  # not JSON
        raise InvalidInput(f"{what} is not valid JSON: {exc}"[:500]) from None


def refused_fields(error: InvalidInput) -> list[str]:
    """The fields a refused message got wrong (pydantic error locations), never their values."""
    details = error.details if isinstance(error.details, list) else []
    return sorted({".".join(str(p) for p in d.get("loc", ())) or "(body)" for d in details if isinstance(d, dict)})


def refused_problem_types(error: InvalidInput) -> list[str]:
    """What kind of problem each refused field has (pydantic's error types: missing, float_type...)."""
    details = error.details if isinstance(error.details, list) else []
    return sorted({str(d.get("type")) for d in details if isinstance(d, dict)}) or ["invalid_json"]


class QueueProcessor(BatchProcessor):
    """Every SQS consumer's partial-batch processor: only failed records return to the queue (then the DLQ).

    A record refused as invalid is logged with its error type and the fields at fault, so an operator can
    tell why it will reach the DLQ; values are never logged (they can be personal data). A batch of nothing
    but refused records is reported as partial failures rather than raised: it is bad input, not a broken
    function, so it must not mark the function failing in /health. A batch that failed entirely for any
    other reason still raises.
    """

    def __init__(self, expected_failures: tuple[type[Exception], ...] = ()) -> None:
        """`expected_failures`: besides InvalidInput and KeyReused (an idempotency key reused by a different
        request), the errors that mean "this record, not the function"
        (e.g. a message that arrived before what it announces), so a batch of only those is not raised."""
        super().__init__(event_type=EventType.SQS)
        self.expected_failures: tuple[type[Exception], ...] = (InvalidInput, KeyReused, *expected_failures)

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        error = exception[1]
        if isinstance(error, KeyReused):
            logger.warning(
                "queue record reuses an idempotency key",
                extra={"message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count},
            )
        elif isinstance(error, InvalidInput):
            logger.warning(
                "queue record refused",
                extra={
                    "error_type": type(error).__name__,
                    "problems": refused_problem_types(error),
                    "fields": refused_fields(error),
                    "message_id": record.message_id,
                    "receive_count": record.attributes.approximate_receive_count,
                },
            )
        return super().failure_handler(record, exception)

    def _entire_batch_failed(self) -> bool:
        return super()._entire_batch_failed() and any(
            not isinstance(e[1], self.expected_failures) for e in self.exceptions
        )
