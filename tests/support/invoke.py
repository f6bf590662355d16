"""Invoke a template function's real handler in this process, as Lambda would: handler(event, context)."""

from __future__ import annotations

from typing import Any

from infra.runner.context import LambdaContext
from infra.runner.invoker import InvocationError, load_handler
from infra.template import Stack


def in_process(stack: Stack) -> Any:
    """An `invoke(function, event)` callable for runner components (gateway, queue sources)."""

    def invoke(function: str, event: dict[str, Any]) -> Any:
        fn = stack.function(function)
        handler = load_handler(fn.code_uri, fn.module, fn.attribute)
        try:
            return handler(event, LambdaContext(fn.physical_name, fn.memory, fn.timeout))
        except Exception as exc:  # what the worker process reports for a raising handler
            raise InvocationError(type(exc).__name__, str(exc)) from exc

    return invoke
