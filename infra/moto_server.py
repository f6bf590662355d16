"""`python -m infra.moto_server`: moto's server, with fixes of its speed (not of its behaviour, or only towards AWS's).

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

A second fix, for DynamoDB's Scan: moto answers every page of a Scan by sorting the table's whole item list
again and then walking it from the first item to the page's start key, so each page costs time in proportion
to the table, and a paged Scan of a table in proportion to its square. At 100,000 items one page outlasted a
120 s read timeout on a loaded machine. The sorted list is now kept until the next PutItem or DeleteItem of
that table (an UpdateItem of an existing item changes no key, so no order), and a page starts at the first
item after its start key, found by bisection in that same order. Pages, their order and their contents are
what moto returned before.

A third fix, for DynamoDB's TransactWriteItems: moto deep-copies every table a transaction names before it
starts and, if any action fails, puts those whole-table copies back. Each transaction so cost a copy of its
tables' every item (at 100,000 catalogue items, a copy of 100,000 items per transaction), and a cancelled
transaction's restore silently undid every other request's write to those tables made while it ran, which
AWS never does. A transaction now keeps only the prior state of the items it names (a copy of each item, or
the fact it was absent) and, if moto cancels it, puts back exactly those items: all or nothing, as on AWS,
and no other item is touched. moto's own checks, the order it applies actions in and the errors it answers
are unchanged (its whole-table copy is still asked for, and answered with the table itself, so its restore
puts back the very table it holds). A cancelled transaction's stream records for its own items are dropped
too, as the whole-table restore dropped them.

A fourth fix, for SQS's clock: moto asks whether a queued message is visible, or still delayed, by building two
datetimes per question (`unix_time_millis`), and asks it of every queued message for each count and for each
ReceiveMessage. At 10,000 queued messages one GetQueueAttributes took 1.1 s of the emulator's CPU and one
ReceiveMessage of ten 0.21 s (measured here on a loaded machine), so a reliability campaign's drain, which polls
its queues' depth, was bounded by the emulator's clock. The two questions now read `time.time()`: the same
clock (seconds since the epoch), so every answer is the one moto gave. The same call took 0.07 s and 0.03 s.
"""

from __future__ import annotations

import bisect
import copy
import functools
import inspect
import threading
import time
import warnings
import weakref
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


# ----------------------------------------------------------------------------------------- SQS clock

MESSAGE_CLOCK = ("visible", "delayed")  # moto's Message properties that read the clock
_CLOCK_FIELDS = ("visible_at", "delayed_until")  # the times (ms since the epoch) they compare the clock with


def _message_visible(message: Any) -> bool:
    return time.time() * 1000.0 > message.visible_at


def _message_delayed(message: Any) -> bool:
    return time.time() * 1000.0 < message.delayed_until


def patch_message_clock() -> bool:
    """Apply the clock fix to moto's SQS Message; False (and a warning) if moto's shape is not the one it fits."""
    from moto.sqs import models

    message_class = getattr(models, "Message", None)
    if message_class is None or not all(isinstance(getattr(message_class, n, None), property) for n in MESSAGE_CLOCK):
        warnings.warn("moto's SQS Message changed: each message keeps its cost per clock read", stacklevel=2)
        return False
    try:
        source = inspect.getsource(message_class)
    except (OSError, TypeError):
        source = ""
    if not all(f"self.{field} = " in source for field in _CLOCK_FIELDS):
        warnings.warn("moto's SQS Message keeps its times elsewhere: its clock is left as it is", stacklevel=2)
        return False
    message_class.visible = property(_message_visible)
    message_class.delayed = property(_message_delayed)
    return True


# ----------------------------------------------------------------------------------------- DynamoDB Scan

TABLE_CALLS = ("all_items", "scan", "put_item", "delete_item")
_scan_start = threading.local()  # the page's start key, while moto's Table.scan runs
_sorted: dict[int, tuple[Any, tuple[int, int], list[Any]]] = {}  # id(table) -> (weakref, state, items)


def patch_table_scan() -> bool:
    """Apply the Scan fix to moto's DynamoDB Table; False (and a warning) if moto's shape is not the one it fits."""
    from moto.dynamodb.models import table as table_models

    table_class = getattr(table_models, "Table", None)
    if table_class is None or not all(callable(getattr(table_class, name, None)) for name in TABLE_CALLS):
        warnings.warn("moto's DynamoDB Table changed: each Scan page keeps its cost per item", stacklevel=2)
        return False
    if getattr(table_class.all_items, "_kept_sorted", False):
        return True
    table_class.all_items = _kept_sorted(table_class.all_items)
    table_class.scan = _remembering_start(table_class.scan)
    table_class.put_item = _changing_order(table_class.put_item)
    table_class.delete_item = _changing_order(table_class.delete_item)
    return True


def _changing_order(call: Any) -> Any:
    @functools.wraps(call)
    def changing(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(self, *args, **kwargs)
        finally:
            self._items_generation = getattr(self, "_items_generation", 0) + 1

    return changing


def _remembering_start(scan: Any) -> Any:
    signature = inspect.signature(scan)

    @functools.wraps(scan)
    def remembering(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs).arguments
        # Only a base-table Scan reads all_items; an index Scan sorts its own list.
        _scan_start.key = None if bound.get("index_name") else bound.get("exclusive_start_key")
        try:
            return scan(self, *args, **kwargs)
        finally:
            _scan_start.key = None

    return remembering


def _order_of(item: Any) -> Any:
    """moto's own order of a table's items (Table.all_items)."""
    return (item.hash_key, item.range_key) if item.range_key else item.hash_key


def _forgetting(key: int) -> Any:
    """A weak reference's callback: a table gone (dropped, or a transaction's copy) leaves no list behind."""

    def forget(_: Any) -> None:
        _sorted.pop(key, None)

    return forget


def _kept_sorted(all_items: Any) -> Any:
    @functools.wraps(all_items)
    def kept(self: Any) -> list[Any]:
        state = (getattr(self, "_items_generation", 0), id(self.items))
        held = _sorted.get(id(self))
        if held is None or held[0]() is not self or held[1] != state:
            held = (weakref.ref(self, _forgetting(id(self))), state, all_items(self))
            _sorted[id(self)] = held
        items: list[Any] = held[2]
        start = getattr(_scan_start, "key", None)
        if not start:
            return list(items)
        from moto.dynamodb.models.dynamo_type import DynamoType

        hash_key = DynamoType(start[self.hash_key_attr])
        range_attr = self.range_key_attr
        after = (hash_key, DynamoType(start[range_attr])) if range_attr and range_attr in start else hash_key
        # The page's own walk skips every item at or before its start key; those are exactly these.
        return items[bisect.bisect_right(items, after, key=_order_of) :]

    kept._kept_sorted = True  # type: ignore[attr-defined]
    return kept


# ---------------------------------------------------------------------------- DynamoDB TransactWriteItems

_copying_nothing = threading.local()  # set while moto's transact_write_items runs, under the fix


def patch_transact_write_items() -> bool:
    """Apply the item-level backup fix to moto's TransactWriteItems; False (and a warning) if moto's shape differs."""
    from moto.dynamodb import models as backend_models
    from moto.dynamodb.models import table as table_models

    backend_class: Any = getattr(backend_models, "DynamoDBBackend", None)
    table_class: Any = getattr(table_models, "Table", None)
    transact = getattr(backend_class, "transact_write_items", None)
    try:
        source = inspect.getsource(transact) if callable(transact) else ""
    except (OSError, TypeError):
        source = ""
    fits = (
        table_class is not None
        and "__deepcopy__" not in vars(table_class)
        and "copy.deepcopy(" in source
        and "self.tables[table_name] = original_table_state[table_name]" in source
    )
    if getattr(transact, "_item_backups", False):
        return True
    if not fits:
        warnings.warn(
            "moto's TransactWriteItems changed: each transaction keeps copying its whole tables", stacklevel=2
        )
        return False

    def table_itself(table: Any, memo: dict[int, Any]) -> Any:
        if getattr(_copying_nothing, "depth", 0):
            return table  # moto's backup of a whole table: the items backed up below stand in for it
        copied = table_class.__new__(table_class)  # any other deepcopy (backups, restores) copies as before
        memo[id(table)] = copied
        copied.__dict__.update(copy.deepcopy(vars(table), memo))
        return copied

    table_class.__deepcopy__ = table_itself
    backend_class.transact_write_items = _backing_up_items(transact)
    return True


def _transaction_keys(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(table, hash key, range key) of every item a transaction names; moto itself refuses what is malformed."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys = []
    for action in transact_items:
        for operation in action.values():
            try:
                table = backend.tables[operation["TableName"]]
                key = operation["Item"] if "Item" in operation else operation["Key"]
                range_attr = table.range_key_attr
                range_key = DynamoType(key[range_attr]) if range_attr else None
                keys.append((table, DynamoType(key[table.hash_key_attr]), range_key))
            except (KeyError, TypeError, AttributeError):
                continue
    return keys


def _backing_up_items(transact: Any) -> Any:
    @functools.wraps(transact)
    def backing_up(self: Any, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        keys = _transaction_keys(self, transact_items)
        prior = [
            (table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key)))
            for table, hash_key, range_key in keys
        ]
        streams = {
            id(table): (table.stream_shard, len(table.stream_shard.items)) for table, *_ in keys if table.stream_shard
        }
        _copying_nothing.depth = getattr(_copying_nothing, "depth", 0) + 1
        try:
            return transact(self, transact_items, *args, **kwargs)
        except BaseException:
            for table, hash_key, range_key, item in prior:
                _put_back(table, hash_key, range_key, item)
            for table, *_ in keys:
                _drop_stream_records(table, *streams.get(id(table), (None, 0)), keys)
            raise
        finally:
            _copying_nothing.depth -= 1

    backing_up._item_backups = True  # type: ignore[attr-defined]
    return backing_up


def _put_back(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    """An item as it was before the transaction, or gone again if it was absent (no stream record, no check)."""
    if item is not None:
        if range_key is not None:
            table.items[hash_key][range_key] = item
        else:
            table.items[hash_key] = item
    elif range_key is not None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items.pop(hash_key, None)
    table._items_generation = getattr(table, "_items_generation", 0) + 1  # the Scan fix's sorted list is stale


def _drop_stream_records(table: Any, shard: Any, before: int, keys: list[tuple[Any, Any, Any]]) -> None:
    """A cancelled transaction's stream records of its own items go, as AWS never writes them."""
    if shard is None or table.stream_shard is not shard:
        return
    named = [
        {
            table.hash_key_attr: hash_key.to_json(),
            **({table.range_key_attr: range_key.to_json()} if range_key is not None else {}),
        }
        for owner, hash_key, range_key in keys
        if owner is table
    ]
    kept = shard.items[:before] + [
        record for record in shard.items[before:] if record.record["dynamodb"]["Keys"] not in named
    ]
    shard.items[:] = kept


def main() -> None:
    patch_message_clock()
    patch_send_message()
    patch_table_scan()
    patch_transact_write_items()
    from moto.server import main as moto_main

    moto_main()


if __name__ == "__main__":
    main()
