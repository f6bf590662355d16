"""Parsing a queue message body: JSON validated by a pydantic model, or InvalidInput saying what is
wrong, so the record fails alone and reaches the DLQ with a readable reason in the logs."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from commerce_ai.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


def parse_json(body: str, model: type[M], what: str) -> M:
    try:
        return model.model_validate(json.loads(body))
    except RecursionError as exc:
        raise InvalidInput(f"{what} is nested too deeply") from exc
    except ValueError as exc:  # JSON errors and pydantic's ValidationError alike
        details = exc.errors(include_url=False, include_input=False) if isinstance(exc, ValidationError) else None
        raise InvalidInput(f"{what} is invalid: {exc}"[:500], details) from exc
