"""DynamoDB adapters for risk: velocity state (`RISK_STATE_TABLE`, key `entity`) and scored transactions
with their labels (`RISK_RESULTS_TABLE`, key `transaction_id`).

Per scored payment the cost is bounded: one BatchGetItem (four entity items, their four block-list items
and the transaction's own result, which makes a retry return the first answer), one conditional PutItem
(the result: it claims the transaction, so a concurrent duplicate cannot count twice), and one UpdateItem
per entity, sent in parallel. Entity items stay small: bounded buckets and bounded maps
(`commerce_ai.risk.velocity`).

Each per-entity UpdateItem of a scored payment is idempotent per transaction: it also writes a short digest
of the transaction id into one of RECENT_SLOTS slot attributes of the item (`seen_<nn>`, the slot chosen by
the id's hash) and is conditioned on that slot not holding it already. The SDK's retry of an UpdateItem
that did land (a read timeout) is then refused instead of counting the payment twice, as is a concurrent
duplicate's write; undoing a write clears its slot in the same conditioned UpdateItem. An id is remembered
until another transaction of the same entity hashes to its slot (on average RECENT_SLOTS payments of that
entity later), far longer than the SDK's retries of one call take; the slots add at most ~600 bytes.

Privacy by expiry: entity items hold device ids, IP addresses and last locations, so every write sets
their `expires_at` (the table's TTL attribute) STATE_RETENTION ahead: an entity unseen that long is
forgotten, and starts over as new. Blocks are kept apart, one item per blocked entity under
`block#<entity>`, which never carries `expires_at`: expiry never lifts a block, and only an admin does.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from commerce_ai import aws
from commerce_ai.dynamodb_batches import batch_get, batch_write
from commerce_ai.errors import NotFound
from commerce_ai.idempotency import KeyReused
from commerce_ai.paging import decode_cursor, encode_cursor
from commerce_ai.risk.velocity import Item, Update, entity_key

RESULT_RETENTION = timedelta(days=180)
# Velocity windows reach back 7 days; first-seen times and known devices are what make an old customer
# look familiar, so an entity is remembered this long after its last event, then expires (TTL).
STATE_RETENTION = timedelta(days=90)
BLOCK_PREFIX = "block#"  # block-list items: `block#<entity key>`, never expiring
USER_INDEX = "by_user"  # RiskResultsTable's index of a user's transactions (erasure)
EVENT_MARKER_RETENTION = timedelta(days=7)
EVENT_PREFIX = "event#"  # account-event markers share the results table with transactions
_BATCH_GET_ATTEMPTS = 8
RECENT_SLOTS = 32  # per entity item: the slots that remember which transactions its counters hold
RECENT_PREFIX = "seen_"
_APPLIED_ONCE = "attribute_not_exists(#seen) OR NOT #seen = :seen"
BLOCKLIST_SCAN_PAGE = 500  # velocity items one Scan call reads for the block list
BLOCKLIST_SCAN_ITEMS = 10_000  # ... and one request at most (about 20 calls), before it answers short


def plain(value: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as plain Python: N -> float, M -> dict, S/BOOL as they are."""
    ((kind, raw),) = value.items()
    if kind == "N":
        return float(raw)
    if kind == "M":
        return {k: plain(v) for k, v in raw.items()}
    if kind == "L":
        return [plain(v) for v in raw]
    if kind == "NULL":
        return None
    return raw


def attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(float(value))}
    if isinstance(value, dict):
        return {"M": {k: attribute(v) for k, v in value.items()}}
    if value is None:
        return {"NULL": True}
    return {"S": str(value)}


def block_key(entity: str) -> str:
    """The block-list item of an entity (`user#u-1` -> `block#user#u-1`)."""
    return BLOCK_PREFIX + entity


def expiry(now: datetime, retention: timedelta = STATE_RETENTION) -> int:
    return int((now + retention).timestamp())


def recent_slot(transaction_id: str) -> tuple[str, str]:
    """The slot attribute of an entity item that remembers `transaction_id`, and what it holds: a digest
    of the id (12 hex digits), the slot chosen by other bits of the same hash."""
    digest = hashlib.blake2b(transaction_id.encode(), digest_size=8).hexdigest()
    return f"{RECENT_PREFIX}{int(digest[:4], 16) % RECENT_SLOTS:02d}", digest[4:]


def once_request(request: dict[str, Any], transaction_id: str) -> dict[str, Any]:
    """`request` (an UpdateItem) applied at most once for `transaction_id`: it records the id in its slot,
    on the condition that the slot does not hold it already."""
    slot, seen = recent_slot(transaction_id)
    names = {**request["ExpressionAttributeNames"], "#seen": slot}
    values = {**request.get("ExpressionAttributeValues", {}), ":seen": {"S": seen}}
    expression = request["UpdateExpression"]
    if expression.startswith("SET "):
        expression = "SET #seen = :seen, " + expression.removeprefix("SET ")
    else:
        expression = "SET #seen = :seen " + expression
    return {
        **request,
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ConditionExpression": _APPLIED_ONCE,
    }


def undo_request(table: str, update: Update, transaction_id: str) -> dict[str, Any]:
    """The UpdateItem that takes back `update`'s increments for `transaction_id` and clears its slot, only
    while the slot holds it: the SDK's retry of an undo that landed is refused, not applied twice."""
    slot, seen = recent_slot(transaction_id)
    undo = Update(update.key, add={k: -v for k, v in update.add.items()}, remove={slot})
    request = update_request(table, undo, None)
    request["ExpressionAttributeNames"]["#seen"] = slot
    request.setdefault("ExpressionAttributeValues", {})[":seen"] = {"S": seen}
    request["ConditionExpression"] = "#seen = :seen"
    return request


def update_request(table: str, update: Update, existing: Item | None, expires_at: int | None = None) -> dict[str, Any]:
    """The UpdateItem call for `update`. A map that does not exist yet is written whole; entries are
    set or removed one by one in one that does. `expires_at` (epoch seconds) refreshes the item's TTL."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def name(path: str) -> str:
        placeholder = f"#n{len(names)}"
        names[placeholder] = path
        return placeholder

    def value(raw: Any) -> str:
        placeholder = f":v{len(values)}"
        values[placeholder] = attribute(raw)
        return placeholder

    present = existing or {}
    sets = [f"{name(k)} = {value(v)}" for k, v in update.assign.items()]
    if expires_at is not None:  # an integer, as a TTL attribute wants it (value() would write a float)
        values[f":v{len(values)}"] = {"N": str(expires_at)}
        sets.append(f"{name('expires_at')} = :v{len(values) - 1}")
    adds = [f"{name(k)} {value(v)}" for k, v in update.add.items()]
    removes = [name(k) for k in sorted(update.remove)]
    for attr, entries in update.put_in.items():
        if attr in present:
            parent = name(attr)
            sets += [f"{parent}.{name(k)} = {value(v)}" for k, v in entries.items()]
        else:
            sets.append(f"{name(attr)} = {value(dict(entries))}")
    for attr, gone in update.remove_in.items():
        removed = sorted(k for k in gone if k not in update.put_in.get(attr, {}))
        if attr in present and removed:  # an unused placeholder is a ValidationException
            parent = name(attr)
            removes += [f"{parent}.{name(k)}" for k in removed]
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if adds:
        clauses.append("ADD " + ", ".join(adds))
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    request: dict[str, Any] = {
        "TableName": table,
        "Key": {"entity": {"S": update.key}},
        "UpdateExpression": " ".join(clauses),
        "ExpressionAttributeNames": names,
    }
    if values:
        request["ExpressionAttributeValues"] = values
    return request


class RiskStore:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, state_table: str, results_table: str, dynamodb: Any | None = None) -> None:
        self.state_table = state_table
        self.results_table = results_table
        self._ddb = dynamodb
        self._writers = concurrent.futures.ThreadPoolExecutor(5, thread_name_prefix="risk-state")

    # -- reads -----------------------------------------------------------------------------------------

    def read(
        self, entity_keys: Iterable[str], transaction_id: str | None = None
    ) -> tuple[dict[str, Item], Item | None]:
        """The entities' state items (consistent reads) and, if asked, the transaction's stored result. A
        blocked entity's item carries its block's reason as `blocked` (read from its block-list item)."""
        keys = list(dict.fromkeys(entity_keys))
        wanted = keys + [block_key(k) for k in keys]
        request: dict[str, Any] = {
            self.state_table: {"Keys": [{"entity": {"S": k}} for k in wanted], "ConsistentRead": True}
        }
        if transaction_id is not None:
            request[self.results_table] = {
                "Keys": [{"transaction_id": {"S": transaction_id}}],
                "ConsistentRead": True,
            }
        states: dict[str, Item] = {}
        blocks: dict[str, str] = {}
        result: Item | None = None
        for responses in batch_get(self.ddb, request, attempts=_BATCH_GET_ATTEMPTS, first_delay=0.01, max_delay=0.5):
            for raw in responses.get(self.state_table, []):
                item = {k: plain(v) for k, v in raw.items()}
                entity = str(item.pop("entity"))
                if entity.startswith(BLOCK_PREFIX):
                    blocks[entity.removeprefix(BLOCK_PREFIX)] = str(item["blocked"])
                else:
                    # A block is read from its own item only: a state item never says whether its entity
                    # is blocked (it expires), whatever attributes it holds.
                    item.pop("blocked", None)
                    states[entity] = item
            for raw in responses.get(self.results_table, []):
                result = {k: plain(v) for k, v in raw.items()}
        for entity, reason in blocks.items():
            states.setdefault(entity, {})["blocked"] = reason
        return states, result

    def result(self, transaction_id: str) -> Item:
        raw = self.ddb.get_item(
            TableName=self.results_table, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
        ).get("Item")
        if not raw:
            raise NotFound(f"transaction {transaction_id!r} has not been scored")
        return {k: plain(v) for k, v in raw.items()}

    # -- writes ----------------------------------------------------------------------------------------

    def claim(
        self, transaction_id: str, result: Mapping[str, Any], now: datetime, retention: timedelta = RESULT_RETENTION
    ) -> bool:
        """Store the result unless the transaction already has one; False if it had (a duplicate)."""
        return self._claim(transaction_id, result, now, uuid.uuid4().hex, retention)[0]

    def _claim(
        self,
        transaction_id: str,
        result: Mapping[str, Any],
        now: datetime,
        token: str,
        retention: timedelta = RESULT_RETENTION,
    ) -> tuple[bool, str | None]:
        """Whether this call claimed the transaction, and the request digest of the claim that stands.

        The item carries a random token: when the SDK retries a PutItem whose first attempt did land (a read
        timeout), the retry fails the condition, and the token tells our own claim from a duplicate's."""
        item = {k: attribute(v) for k, v in result.items() if v is not None}
        item["transaction_id"] = {"S": transaction_id}
        item["claim_token"] = {"S": token}
        item["expires_at"] = {"N": str(int((now + retention).timestamp()))}
        claim = {"TableName": self.results_table, "Item": item}
        if aws.put_if(self.ddb, **claim, ConditionExpression="attribute_not_exists(transaction_id)"):
            return True, None
        stored = self.ddb.get_item(
            TableName=self.results_table, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
        ).get("Item", {})
        digest = stored.get("request_digest", {}).get("S")
        return bool(stored.get("claim_token", {}).get("S") == token), digest

    def release(self, transaction_id: str, token: str | None = None) -> None:
        """Undo a claim whose state writes failed, so a retry scores and counts the transaction again (with
        `token`, only the claim that carries it: one whose fate this call does not know)."""
        request: dict[str, Any] = {"TableName": self.results_table, "Key": {"transaction_id": {"S": transaction_id}}}
        if token is not None:
            request["ConditionExpression"] = "claim_token = :token"
            request["ExpressionAttributeValues"] = {":token": {"S": token}}
        try:
            self.ddb.delete_item(**request)
        except ClientError as exc:
            if not aws.is_conditional_check_failure(exc):
                raise

    def apply_event_once(
        self, event_id: str, digest: str, now: datetime, updates: list[Update], existing: Mapping[str, Item]
    ) -> str | None:
        """Mark an account event applied (for a week) and write its state changes in one transaction, so
        both land or neither does. None if this call applied it; if it was applied before, the digest of
        the request that did (empty for a mark written before digests were kept).

        The client request token makes the SDK's own retry of a transaction that did land (a read timeout)
        succeed without applying it twice, for ten minutes, as DynamoDB documents."""
        marker = EVENT_PREFIX + event_id
        mark = {
            "transaction_id": {"S": marker},
            "kind": {"S": "event"},
            "request_digest": {"S": digest},
            "expires_at": {"N": str(int((now + EVENT_MARKER_RETENTION).timestamp()))},
        }
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.results_table,
                    "Item": mark,
                    "ConditionExpression": "attribute_not_exists(transaction_id)",
                }
            }
        ]
        changes = [u for u in updates if not u.empty()]
        actions += [{"Update": update_request(self.state_table, u, existing.get(u.key), expiry(now))} for u in changes]
        try:
            self.ddb.transact_write_items(TransactItems=actions, ClientRequestToken=uuid.uuid4().hex)
            return None
        except ClientError as exc:
            if (aws.cancellation_codes(exc) or ["None"])[0] != "ConditionalCheckFailed":
                raise  # a conflict with a concurrent write, a throttle: nothing was written, the retry applies it
        stored = self.ddb.get_item(
            TableName=self.results_table, Key={"transaction_id": {"S": marker}}, ConsistentRead=True
        ).get("Item", {})
        return str(stored.get("request_digest", {}).get("S", ""))

    def mark_published(self, transaction_id: str) -> None:
        self._mark(transaction_id, "published")

    def _mark(self, transaction_id: str, flag: str) -> None:
        """Set a stored result's `flag` (`published`, `applied`) to true."""
        self.ddb.update_item(
            TableName=self.results_table,
            Key={"transaction_id": {"S": transaction_id}},
            UpdateExpression=f"SET {flag} = :yes",
            ConditionExpression="attribute_exists(score)",  # never create a result-less stub
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )

    def _write(
        self, updates: list[Update], existing: Mapping[str, Item], now: datetime, transaction_id: str | None = None
    ) -> tuple[list[Update], Exception | None]:
        """Send one UpdateItem per entity, in parallel (counters are ADDs, so concurrent requests commute), and
        wait for all of them: the updates that landed, and the first failure if any did not. Each refreshes
        its item's `expires_at`. With `transaction_id`, each is applied at most once for it (`once_request`):
        one refused because the entity already holds the transaction is neither landed nor failed."""
        changes = [u for u in updates if not u.empty()]
        requests = [update_request(self.state_table, u, existing.get(u.key), expiry(now)) for u in changes]
        if transaction_id is not None:
            requests = [once_request(r, transaction_id) for r in requests]
        sent = [self._writers.submit(self._update, r) for r in requests]
        landed, failure = [], None
        for update, write in zip(changes, sent, strict=True):
            try:
                if write.result():
                    landed.append(update)
            except Exception as exc:  # the caller decides, once every write has ended
                failure = failure or exc
        return landed, failure

    def apply(self, updates: list[Update], existing: Mapping[str, Item], now: datetime) -> None:
        """Write state changes that no claim guards (an account event sent without an id)."""
        _, failure = self._write(updates, existing, now)
        if failure is not None:
            raise failure

    def _update(self, request: dict[str, Any]) -> bool:
        """UpdateItem; False if its condition refused it (the entity holds the transaction already)."""
        try:
            self.ddb.update_item(**request)
            return True
        except ClientError as exc:
            if "ConditionExpression" in request and aws.is_conditional_check_failure(exc):
                return False
            raise

    def claim_and_apply(
        self,
        transaction_id: str,
        result: Mapping[str, Any],
        now: datetime,
        updates: list[Update],
        existing: Mapping[str, Item],
    ) -> bool:
        """Store the result and write the state changes in one parallel round (the latency of one call, not
        two in a row); each state write counts the transaction at most once (`once_request`), whatever the
        SDK retries and however many duplicates race. The claim still decides the answer: a duplicate of the
        same request that lost it keeps what it wrote (the winner's own writes to those entities were refused,
        so the payment counts once) and gets False; another request that lost it takes its writes back; a
        state write that failed takes back what landed and gives the claim back, so the retry counts it."""
        token = uuid.uuid4().hex
        claim = self._writers.submit(self._claim, transaction_id, result, now, token)
        landed, failure = self._write(updates, existing, now, transaction_id)
        try:
            claimed, holder = claim.result()
        except Exception:
            self._take_back(landed, transaction_id)
            self.release(transaction_id, token)  # the claim may have landed before the call failed
            raise
        if not claimed:
            if holder != result.get("request_digest"):
                self._take_back(landed, transaction_id)
                return False
            if failure is not None:  # the same request: what landed counts, and its retry writes the rest
                raise failure
            self._mark_applied(transaction_id)
            return False
        if failure is not None:
            self._give_back(landed, transaction_id)
            raise failure
        self._mark_applied(transaction_id)
        return True

    def finish_applying(
        self, transaction_id: str, updates: list[Update], existing: Mapping[str, Item], now: datetime
    ) -> None:
        """Write a claimed transaction's state changes that may not have landed (its first attempt stored the
        result, then died: a crash, a timeout), each at most once for it (`once_request`), then mark it
        applied. A failure raises, and the next retry finishes."""
        _, failure = self._write(updates, existing, now, transaction_id)
        if failure is not None:
            raise failure
        self._mark_applied(transaction_id)

    def _mark_applied(self, transaction_id: str) -> None:
        """The result's `applied` flag: every state write of the transaction has landed. A result stored with
        `applied` false whose flag never came tells a retry to finish the writes (`finish_applying`)."""
        self._mark(transaction_id, "applied")

    def _give_back(self, landed: list[Update], claimed: str) -> None:
        self._take_back(landed, claimed)
        self.release(claimed)

    def _take_back(self, applied: list[Update], transaction_id: str) -> None:
        undo = [undo_request(self.state_table, u, transaction_id) for u in applied]
        for future in [self._writers.submit(self._update, request) for request in undo]:
            future.result()

    def label(self, transaction_id: str, is_fraud: bool, source: str, labelled_at: datetime, digest: str) -> None:
        """Label a scored transaction, keeping the digest of the label request (`commerce_ai.idempotency`).

        A resent label changes nothing (the first answer stands). A different label replaces it only when
        it is later (`labelled_at`): a correction, like a chargeback reversed after review. A different
        label that is not later is a 409 (KeyReused), so a delayed retry of an old label cannot flip back
        the correction that followed it."""
        at = iso(labelled_at)
        try:
            self.ddb.update_item(
                TableName=self.results_table,
                Key={"transaction_id": {"S": transaction_id}},
                UpdateExpression=(
                    "SET label_is_fraud = :fraud, label_source = :source, labelled_at = :at, label_digest = :digest"
                ),
                ConditionExpression=(
                    "attribute_exists(transaction_id) AND attribute_exists(score)"
                    " AND (attribute_not_exists(labelled_at) OR labelled_at < :at)"
                    " AND (attribute_not_exists(label_digest) OR NOT label_digest = :digest)"
                ),
                ExpressionAttributeValues={
                    ":fraud": {"BOOL": is_fraud},
                    ":source": {"S": source},
                    ":at": {"S": at},
                    ":digest": {"S": digest},
                },
            )
        except ClientError as exc:
            if not aws.is_conditional_check_failure(exc):
                raise
            stored = self.ddb.get_item(
                TableName=self.results_table, Key={"transaction_id": {"S": transaction_id}}, ConsistentRead=True
            ).get("Item", {})
            if "score" not in stored:
                raise NotFound(
                    f"transaction {transaction_id!r} has not been scored; labels need a scored one"
                ) from None
            if stored.get("label_digest", {}).get("S") != digest:
                raise KeyReused(
                    f"transaction_id {transaction_id!r} already has a label from a different request, as of "
                    f"{stored.get('labelled_at', {}).get('S', 'an unknown time')}: a retry must resend the same "
                    "label, and a correction needs a later reported_at"
                ) from None

    def block(self, entity_key: str, reason: str | None) -> None:
        """Put an entity on the block list (`reason`) or take it off (None). The block is its own item,
        without `expires_at`, so the entity's state expiring never lifts it."""
        key = {"entity": {"S": block_key(entity_key)}}
        if reason is None:
            self.ddb.delete_item(TableName=self.state_table, Key=key)
            return
        self.ddb.update_item(
            TableName=self.state_table,
            Key=key,
            UpdateExpression="SET blocked = :why",
            ExpressionAttributeValues={":why": {"S": reason}},
        )

    def blocked(self, limit: int, cursor: str | None) -> tuple[list[tuple[str, str]], str | None]:
        """A page of the block list as (entity key, reason), in the table's scan order.

        The block list is the `block#<entity>` items of the velocity table, so a page is a filtered Scan:
        it reads past the entities' state items, at most BLOCKLIST_SCAN_ITEMS of them per
        request, and may then answer short with a `next_cursor` (the list ends when that is null). Fine
        for an operator's console; a table of millions of entities wants a sparse index on `blocked`.
        """
        request: dict[str, Any] = {
            "TableName": self.state_table,
            "Limit": BLOCKLIST_SCAN_PAGE,
            "FilterExpression": "begins_with(entity, :block)",
            "ExpressionAttributeValues": {":block": {"S": BLOCK_PREFIX}},
        }
        start = decode_cursor(cursor, {"entity"})
        if start:
            request["ExclusiveStartKey"] = start
        found: list[tuple[str, str]] = []
        for _ in range(BLOCKLIST_SCAN_ITEMS // BLOCKLIST_SCAN_PAGE):
            response = self.ddb.scan(**request)
            for item in response.get("Items", []):
                found.append((item["entity"]["S"].removeprefix(BLOCK_PREFIX), item["blocked"]["S"]))
                if len(found) == limit:
                    return found, encode_cursor({"entity": item["entity"]})
            if "LastEvaluatedKey" not in response:
                return found, None
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found, encode_cursor(request["ExclusiveStartKey"])

    def erase_user(self, user_id: str) -> int:
        """Remove a user (the shop-wide erasure, `commerce_ai.risk.erasure`): their state item, their entry
        in the `usr` maps of the devices and IPs they used, and their scored transactions (found through
        the results table's `by_user` index). A block of the user stays: it is an admin's fraud decision,
        not a profile, and lifting it is an admin's call. Returns the items removed or changed."""
        user = entity_key("user", user_id)
        item = self.ddb.get_item(TableName=self.state_table, Key={"entity": {"S": user}}, ConsistentRead=True).get(
            "Item", {}
        )
        shared = {entity_key("device", d) for d in item.get("dev", {}).get("M", {})}
        shared |= {entity_key("ip", i) for i in item.get("ipm", {}).get("M", {})}
        transactions = []
        request: dict[str, Any] = {
            "TableName": self.results_table,
            "IndexName": USER_INDEX,
            "KeyConditionExpression": "user_id = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
        }
        while True:
            response = self.ddb.query(**request)
            for found in response.get("Items", []):
                transactions.append(found["transaction_id"]["S"])
                shared |= {entity_key("device", found["device_id"]["S"]), entity_key("ip", found["ip"]["S"])}
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        removed = 0
        if item:
            self.ddb.delete_item(TableName=self.state_table, Key={"entity": {"S": user}})
            removed += 1
        for entity in sorted(shared):
            try:
                self.ddb.update_item(
                    TableName=self.state_table,
                    Key={"entity": {"S": entity}},
                    UpdateExpression="REMOVE usr.#user",
                    ConditionExpression="attribute_exists(usr)",  # never create an item; REMOVE needs the map
                    ExpressionAttributeNames={"#user": user_id},
                )
                removed += 1
            except ClientError as exc:
                if not aws.is_conditional_check_failure(exc):
                    raise
        deletes = [{"DeleteRequest": {"Key": {"transaction_id": {"S": t}}}} for t in dict.fromkeys(transactions)]
        for start in range(0, len(deletes), 25):
            batch_write(self.ddb, {self.results_table: deletes[start : start + 25]})
        return removed + len(deletes)

    def scored(self, since: datetime) -> Iterable[Item]:
        """Every scored transaction at or after `since` (the weekly job's training and graph data)."""
        request: dict[str, Any] = {
            "TableName": self.results_table,
            "FilterExpression": "attribute_exists(score) AND #ts >= :since",
            "ExpressionAttributeNames": {"#ts": "timestamp"},
            "ExpressionAttributeValues": {":since": {"S": iso(since)}},
        }
        while True:
            response = self.ddb.scan(**request)
            for raw in response.get("Items", []):
                yield {k: plain(v) for k, v in raw.items()}
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def iso(moment: datetime) -> str:
    """One timestamp format for stored times, so they compare as strings in time order."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
