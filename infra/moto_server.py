"""`python -m infra.moto_server`: moto's server, with one fix of its speed (not of its behaviour).

moto 5.2's SendMessage builds the queue's whole attribute map to read one flag (ContentBasedDeduplication),
and that map counts the queue's messages three times (visible, delayed, in flight), each message asking the
clock. So every message sent, directly or through an SNS subscription, costs time in proportion to the
queue's length: measured here, a SendMessageBatch of ten took 76 ms of CPU into an empty queue and 384 ms
into one holding 1,000 messages, which made the behaviour-event stream's 100,000-event benchmark a matter
of hours, bounded by the emulator, not by the code under test.

While a message is being sent, the three counts answer 0 instead: SendMessage reads no count, so nothing it
does changes. Every other caller (GetQueueAttributes, the redrive, CloudWatch's metrics) still counts. If
moto changes these names, the fix is skipped, with a warning, and moto runs as it is.
"""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)
_sending = threading.local()


def _while_not_sending(count: property) -> property:
    def read(queue: Any) -> int:
        return 0 if getattr(_sending, "depth", 0) else int(count.fget(queue))  # type: ignore[misc]

    return property(read)


def patch_send_message() -> bool:
    """Apply the fix to moto's SQS models; False (and a warning) if moto's shape is not the one it fits."""
    from moto.sqs import models

    queue_class, backend_class = getattr(models, "Queue", None), getattr(models, "SQSBackend", None)
    send = getattr(backend_class, "send_message", None)
    counts = [getattr(queue_class, name, None) for name in COUNTS]
    if send is None or not all(isinstance(count, property) for count in counts):
        warnings.warn("moto's SQS models changed: SendMessage keeps its cost per queued message", stacklevel=2)
        return False
    if getattr(send, "_counts_skipped", False):
        return True

    @functools.wraps(send)
    def send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
        _sending.depth = getattr(_sending, "depth", 0) + 1
        try:
            return send(self, *args, **kwargs)
        finally:
            _sending.depth -= 1

    send_message._counts_skipped = True  # type: ignore[attr-defined]
    for name, count in zip(COUNTS, counts, strict=True):
        setattr(queue_class, name, _while_not_sending(count))  # type: ignore[arg-type]
    backend_class.send_message = send_message  # type: ignore[union-attr]
    return True


def main() -> None:
    patch_send_message()
    from moto.server import main as moto_main

    moto_main()


if __name__ == "__main__":
    main()
