"""`python -m infra.moto_server`: moto's server, with one fix of its speed (not of its behaviour).

moto 5.2 builds a queue's whole attribute map to read one value: SendMessage reads ContentBasedDeduplication
from it for every message sent (directly or through an SNS subscription), and ReceiveMessage reads
MessageRetentionPeriod for every message it hands out. That map counts the queue's messages three times
(visible, delayed, in flight), each message asking the clock, so every message sent or received cost time in
proportion to the queue's length. Measured here: a SendMessageBatch of ten took 76 ms of CPU into an empty
queue and 384 ms into one holding 1,000 messages; a ReceiveMessage of ten and its DeleteMessageBatch took
2.9 s with 3,000 messages queued. That made the behaviour-event stream's 100,000-event benchmark a matter of
hours, bounded by the emulator, not by the code under test.

While a message is being sent or received, the three counts answer 0 instead: neither call uses a count, so
nothing they do changes. Every other caller (GetQueueAttributes, CloudWatch's metrics) still counts. If moto
changes these names, the fix is skipped, with a warning, and moto runs as it is.
"""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

UNCOUNTED_CALLS = ("send_message", "receive_message")  # SQSBackend methods that read no count
COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)
_sending = threading.local()


def _while_not_counting(count: property) -> property:
    def read(queue: Any) -> int:
        return 0 if getattr(_sending, "depth", 0) else int(count.fget(queue))  # type: ignore[misc]

    return property(read)


def patch_send_message() -> bool:
    """Apply the fix to moto's SQS models; False (and a warning) if moto's shape is not the one it fits."""
    from moto.sqs import models

    queue_class, backend_class = getattr(models, "Queue", None), getattr(models, "SQSBackend", None)
    calls = [getattr(backend_class, name, None) for name in UNCOUNTED_CALLS]
    counts = [getattr(queue_class, name, None) for name in COUNTS]
    if not all(callable(call) for call in calls) or not all(isinstance(count, property) for count in counts):
        warnings.warn("moto's SQS models changed: each message sent keeps its cost per queued message", stacklevel=2)
        return False
    if all(getattr(call, "_counts_skipped", False) for call in calls):
        return True
    for name, count in zip(COUNTS, counts, strict=True):
        setattr(queue_class, name, _while_not_counting(count))  # type: ignore[arg-type]
    for name, call in zip(UNCOUNTED_CALLS, calls, strict=True):
        setattr(backend_class, name, _without_counts(call))
    return True


def _without_counts(call: Any) -> Any:
    @functools.wraps(call)
    def uncounted(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.depth = getattr(_sending, "depth", 0) + 1
        try:
            return call(self, *args, **kwargs)
        finally:
            _sending.depth -= 1

    uncounted._counts_skipped = True  # type: ignore[attr-defined]
    return uncounted


def main() -> None:
    patch_send_message()
    from moto.server import main as moto_main

    moto_main()


if __name__ == "__main__":
    main()
