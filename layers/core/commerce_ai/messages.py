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
    except ValidationError as exc:  # the message names fields and problems, never the values (personal data)
        details = exc.errors(include_url=False, include_input=False)
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(body)'}: {e['msg']}" for e in details)
        raise InvalidInput(f"{what} is invalid: {problems}"[:500], details) from None
    except ValueError as exc:  # not JSON
        raise InvalidInput(f"{what} is not valid JSON: {exc}"[:500]) from None
