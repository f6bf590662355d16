"""DynamoDB and SQS adapters for customer service. Each item keeps its document as one JSON attribute
(`doc`) beside its key and, for personal data, `expires_at` (DynamoDB TTL): conversations expire after a
week idle, tickets 90 days after they were opened. Personal items also carry `user_hash` (the shop-wide
erasure's hash of the user id, `commerce_ai.erasure.user_hash`), the key of a keys-only index `by_user`, so
that `DELETE /users/{user_id}` finds a user's conversations and tickets without a scan.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from commerce_ai import aws
from commerce_ai.catalog.store import Catalog
from commerce_ai.erasure import user_hash
from commerce_ai.errors import Conflict
from commerce_ai.paging import decode_cursor, encode_cursor
from commerce_ai.support.conversation import Connection, ConversationState
from commerce_ai.support.dialogue import Ticket
from commerce_ai.support.faq import FaqEntry
from commerce_ai.support.graph import ALIAS_PARTITION, Edge
from commerce_ai.support.orders import Order
from commerce_ai.support.settings import settings

TICKET_TTL_SECONDS = 90 * 24 * 3600
CONNECTION_PREFIX = "connection#"  # a conversation id never holds '#' (contract.ID), so keys cannot clash
CONNECTION_TTL_SECONDS = 2 * 3600  # API Gateway closes a WebSocket connection after two hours
SEEDED_PARTITION = "#seeded"  # not an item id (contract.ITEM_ID starts with a letter or digit), as `#alias`
BY_USER_INDEX = "by_user"  # keys-only GSI on `user_hash` of SupportConversationsTable and SupportTicketsTable


def erase_by_user(ddb: Any, table: str, key: str, user_id: str) -> int:
    """Delete every item of `table` whose `user_hash` is the user's (through the `by_user` index); the number
    deleted. Safe to repeat: an item already gone is simply not found again."""
    removed = 0
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": BY_USER_INDEX,
        "KeyConditionExpression": "user_hash = :user",
        "ExpressionAttributeValues": {":user": {"S": user_hash(user_id)}},
    }
    while True:
        response = ddb.query(**request)
        for item in response.get("Items", []):
            ddb.delete_item(TableName=table, Key={key: item[key]})
            removed += 1
        if "LastEvaluatedKey" not in response:
            return removed
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


class Conversations:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @classmethod
    def from_settings(cls) -> Conversations:
        return cls(settings().need("conversations_table"))

    def get(self, conversation_id: str, now_epoch: int) -> tuple[ConversationState, int] | None:
        """The state and its revision; None when absent or expired (TTL deletes lazily, so check)."""
        stored = self.ddb.get_item(
            TableName=self.table, Key={"conversation_id": {"S": conversation_id}}, ConsistentRead=True
        ).get("Item")
        if not stored or int(stored["expires_at"]["N"]) <= now_epoch:
            return None
        return ConversationState.model_validate_json(stored["doc"]["S"]), int(stored["revision"]["N"])

    def put(self, state: ConversationState, revision: int | None) -> None:
        """Write the next revision; a conversation changed since `revision` was read is a 409."""
        item = {
            "conversation_id": {"S": state.conversation_id},
            "user_hash": {"S": user_hash(state.user_id)},
            "doc": {"S": state.model_dump_json()},
            "expires_at": {"N": str(state.expires_at)},
            "revision": {"N": str((revision or 0) + 1)},
        }
        if revision is None:
            condition, values = "attribute_not_exists(conversation_id)", {}
        else:
            condition, values = "revision = :seen", {":seen": {"N": str(revision)}}
        request: dict[str, Any] = {"TableName": self.table, "Item": item, "ConditionExpression": condition}
        if values:
            request["ExpressionAttributeValues"] = values
        if not aws.put_if(self.ddb, **request):
            raise Conflict("the conversation changed meanwhile: send the message again")

    def delete(self, conversation_id: str) -> bool:
        old = self.ddb.delete_item(
            TableName=self.table, Key={"conversation_id": {"S": conversation_id}}, ReturnValues="ALL_OLD"
        )
        return bool(old.get("Attributes"))

    def erase_user(self, user_id: str) -> int:
        """Delete every conversation (and open WebSocket connection) of the user; the number deleted."""
        return erase_by_user(self.ddb, self.table, "conversation_id", user_id)


class Connections:
    """Open WebSocket connections, as items of SupportConversationsTable (so the erasure's `by_user` index
    finds them with the user's conversations)."""

    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @classmethod
    def from_settings(cls) -> Connections:
        return cls(settings().need("conversations_table"))

    def open(self, connection: Connection) -> None:
        expires = int(connection.connected_at.timestamp()) + CONNECTION_TTL_SECONDS
        self.ddb.put_item(
            TableName=self.table,
            Item={
                "conversation_id": {"S": CONNECTION_PREFIX + connection.connection_id},
                "user_hash": {"S": user_hash(connection.user_id)},
                "doc": {"S": connection.model_dump_json()},
                "expires_at": {"N": str(expires)},
            },
        )

    def get(self, connection_id: str, now_epoch: int) -> Connection | None:
        stored = self.ddb.get_item(
            TableName=self.table, Key={"conversation_id": {"S": CONNECTION_PREFIX + connection_id}}
        ).get("Item")
        if not stored or int(stored["expires_at"]["N"]) <= now_epoch:
            return None
        return Connection.model_validate_json(stored["doc"]["S"])

    def close(self, connection_id: str) -> None:
        self.ddb.delete_item(TableName=self.table, Key={"conversation_id": {"S": CONNECTION_PREFIX + connection_id}})


class ConnectionPusher:
    """Frames to a client's WebSocket connection through API Gateway's management API (post-to-connection).
    Its endpoint is the API's stage URL, from AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI (boto3 reads it): on
    AWS `https://{api}.execute-api.{region}.amazonaws.com/{stage}`, locally the runner's stand-in."""

    client = aws.ClientAttribute("apigatewaymanagementapi")

    def __init__(self, client: Any = None) -> None:
        self._client = client

    def post(self, connection_id: str, frame: dict[str, Any]) -> bool:
        """Send one JSON frame; False when the connection is gone (closed by the client or expired), or when
        this function has no management endpoint configured (an HTTP-only deployment)."""
        if self._client is None and not settings().connections_endpoint:
            return False
        try:
            self.client.post_to_connection(
                ConnectionId=connection_id, Data=json.dumps(frame, ensure_ascii=False).encode("utf-8")
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "GoneException":
                return False
            raise
        return True


class DynamoOrders:
    """The demo orders backend (`orders.OrdersBackend`) over SupportOrdersTable."""

    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @classmethod
    def from_settings(cls) -> DynamoOrders:
        return cls(settings().need("orders_table"))

    def get(self, order_id: str) -> Order | None:
        stored = self.ddb.get_item(TableName=self.table, Key={"order_id": {"S": order_id}}).get("Item")
        return Order.model_validate_json(stored["doc"]["S"]) if stored else None

    def put(self, order: Order, only_if_absent: bool = False) -> bool:
        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": {"order_id": {"S": order.order_id}, "doc": {"S": order.model_dump_json()}},
        }
        if only_if_absent:
            return aws.put_if(self.ddb, ConditionExpression="attribute_not_exists(order_id)", **request)
        self.ddb.put_item(**request)
        return True

    def cancel(self, order_id: str) -> Order:
        return self._change(order_id, status="cancelled")

    def change_address(self, order_id: str, address: str) -> Order:
        return self._change(order_id, address=address)

    def _change(self, order_id: str, **changes: Any) -> Order:
        order = self.get(order_id)
        if order is None:
            raise KeyError(order_id)
        changed = order.model_copy(update=changes)
        self.put(changed)
        return changed


class FaqStore:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @classmethod
    def from_settings(cls) -> FaqStore:
        return cls(settings().need("faq_table"))

    def all(self) -> list[FaqEntry]:
        entries: list[FaqEntry] = []
        request: dict[str, Any] = {"TableName": self.table}
        while True:
            response = self.ddb.scan(**request)
            entries.extend(FaqEntry.model_validate_json(item["doc"]["S"]) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return sorted(entries, key=lambda e: e.faq_id)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def page(self, limit: int, cursor: str | None) -> tuple[list[FaqEntry], str | None]:
        request: dict[str, Any] = {"TableName": self.table, "Limit": limit}
        start = decode_cursor(cursor, {"faq_id"})
        if start is not None:
            request["ExclusiveStartKey"] = start
        response = self.ddb.scan(**request)
        entries = [FaqEntry.model_validate_json(item["doc"]["S"]) for item in response.get("Items", [])]
        return entries, encode_cursor(response.get("LastEvaluatedKey"))

    def get(self, faq_id: str) -> FaqEntry | None:
        stored = self.ddb.get_item(TableName=self.table, Key={"faq_id": {"S": faq_id}}).get("Item")
        return FaqEntry.model_validate_json(stored["doc"]["S"]) if stored else None

    def put(self, entry: FaqEntry, only_if_absent: bool = False) -> bool:
        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": {"faq_id": {"S": entry.faq_id}, "doc": {"S": entry.model_dump_json()}},
        }
        if only_if_absent:
            return aws.put_if(self.ddb, ConditionExpression="attribute_not_exists(faq_id)", **request)
        self.ddb.put_item(**request)
        return True

    def delete(self, faq_id: str) -> bool:
        old = self.ddb.delete_item(TableName=self.table, Key={"faq_id": {"S": faq_id}}, ReturnValues="ALL_OLD")
        return bool(old.get("Attributes"))


def ticket_document(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_id": ticket.ticket_id,
        "conversation_id": ticket.conversation_id,
        "user_id": ticket.user_id,
        "reason": ticket.reason,
        "intent": ticket.intent,
        "slots": ticket.slots,
        "emotion": ticket.emotion,
        "language": ticket.language,
        "transcript": [m.model_dump(mode="json") for m in ticket.transcript],
        "created_at": ticket.created_at.isoformat().replace("+00:00", "Z"),
    }


class HandoffQueue:
    sqs = aws.ClientAttribute("sqs")

    def __init__(self, queue_url: str, sqs: Any = None) -> None:
        self.queue_url = queue_url
        self._sqs = sqs

    @classmethod
    def from_settings(cls) -> HandoffQueue:
        return cls(settings().need("handoff_queue_url"))

    def send(self, ticket: Ticket) -> None:
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(ticket_document(ticket)))


class Tickets:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @classmethod
    def from_settings(cls) -> Tickets:
        return cls(settings().need("tickets_table"))

    def open(self, document: dict[str, Any], created: datetime) -> bool:
        """Record a ticket once (a redelivered message finds it there and changes nothing)."""
        return aws.put_if(
            self.ddb,
            TableName=self.table,
            Item={
                "ticket_id": {"S": document["ticket_id"]},
                "user_hash": {"S": user_hash(document["user_id"])},
                "status": {"S": "open"},
                "doc": {"S": json.dumps(document)},
                "expires_at": {"N": str(int(created.timestamp()) + TICKET_TTL_SECONDS)},
            },
            ConditionExpression="attribute_not_exists(ticket_id)",
        )

    def get(self, ticket_id: str) -> tuple[dict[str, Any], str] | None:
        stored = self.ddb.get_item(TableName=self.table, Key={"ticket_id": {"S": ticket_id}}).get("Item")
        return (json.loads(stored["doc"]["S"]), stored["status"]["S"]) if stored else None

    def close(self, ticket_id: str) -> None:
        self.ddb.update_item(
            TableName=self.table,
            Key={"ticket_id": {"S": ticket_id}},
            UpdateExpression="SET #s = :closed",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":closed": {"S": "closed"}},
        )

    def erase_user(self, user_id: str) -> int:
        """Delete every ticket (with its copy of the transcript) of the user; the number deleted."""
        return erase_by_user(self.ddb, self.table, "ticket_id", user_id)

    def page(self, status: str, limit: int, cursor: str | None) -> tuple[list[tuple[dict[str, Any], str]], str | None]:
        """Tickets in `status`, in the table's order: a Scan with a filter (a shop's open queue is small; an
        index on status would serve a large one), so a page may hold fewer than `limit` before the end."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "Limit": limit,
            "FilterExpression": "#s = :status",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":status": {"S": status}},
        }
        start = decode_cursor(cursor, {"ticket_id"})
        if start is not None:
            request["ExclusiveStartKey"] = start
        response = self.ddb.scan(**request)
        found = [(json.loads(i["doc"]["S"]), i["status"]["S"]) for i in response.get("Items", [])]
        return found, encode_cursor(response.get("LastEvaluatedKey"))


class DynamoGraph:
    """The product knowledge graph (`graph.ProductGraph`) over SupportGraphTable and the shop's catalogue."""

    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, catalog: Catalog, dynamodb: Any = None) -> None:
        self.table = table
        self.catalog = catalog
        self._ddb = dynamodb
        self._aliases: dict[str, str] | None = None

    @classmethod
    def from_settings(cls) -> DynamoGraph:
        return cls(settings().need("graph_table"), Catalog.from_settings())

    def _partition(self, item_id: str) -> list[str]:
        keys: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "item_id = :item",
            "ExpressionAttributeValues": {":item": {"S": item_id}},
        }
        while True:
            response = self.ddb.query(**request)
            keys.extend(item["edge"]["S"] for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return keys
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def edges(self, item_id: str) -> list[Edge]:
        return [Edge(item_id, *key.split("#", 1)) for key in self._partition(item_id)]

    def aliases(self) -> dict[str, str]:
        if self._aliases is None:
            pairs = [key.split("#", 1) for key in self._partition(ALIAS_PARTITION)]
            self._aliases = {alias: item_id for alias, item_id in pairs}
        return self._aliases

    def titles(self, item_ids: list[str]) -> dict[str, str]:
        return {item_id: item.title for item_id, item in self.catalog.get_many(item_ids).items()}

    def attributes(self, item_id: str) -> dict[str, str | float | bool]:
        item = self.catalog.get(item_id)
        return dict(item.attributes) if item else {}

    def put_edge(self, edge: Edge) -> None:
        """Store the edge from both ends (the reverse one as `~relation`)."""
        for item_id, key in (
            (edge.source, f"{edge.relation}#{edge.target}"),
            (edge.target, f"~{edge.relation}#{edge.source}"),
        ):
            self.ddb.put_item(TableName=self.table, Item={"item_id": {"S": item_id}, "edge": {"S": key}})

    def put_alias(self, alias: str, item_id: str) -> None:
        self.ddb.put_item(
            TableName=self.table, Item={"item_id": {"S": ALIAS_PARTITION}, "edge": {"S": f"{alias.lower()}#{item_id}"}}
        )
        self._aliases = None

    def seeded(self, name: str) -> bool:
        """Whether the demo relations `name` were seeded already (so `up` never puts back a relation an
        admin has removed)."""
        key = {"item_id": {"S": SEEDED_PARTITION}, "edge": {"S": name}}
        return "Item" in self.ddb.get_item(TableName=self.table, Key=key)

    def mark_seeded(self, name: str) -> None:
        self.ddb.put_item(TableName=self.table, Item={"item_id": {"S": SEEDED_PARTITION}, "edge": {"S": name}})

    def remove_edge(self, edge: Edge) -> bool:
        """Delete the edge from both ends; whether it was there."""
        old = self.ddb.delete_item(
            TableName=self.table,
            Key={"item_id": {"S": edge.source}, "edge": {"S": f"{edge.relation}#{edge.target}"}},
            ReturnValues="ALL_OLD",
        )
        self.ddb.delete_item(
            TableName=self.table, Key={"item_id": {"S": edge.target}, "edge": {"S": f"~{edge.relation}#{edge.source}"}}
        )
        return bool(old.get("Attributes"))

    def aliases_of(self, item_id: str) -> list[str]:
        return sorted(alias for alias, owner in self.aliases().items() if owner == item_id)

    def remove_alias(self, alias: str, item_id: str) -> None:
        self.ddb.delete_item(
            TableName=self.table, Key={"item_id": {"S": ALIAS_PARTITION}, "edge": {"S": f"{alias}#{item_id}"}}
        )
        self._aliases = None
