"""In-memory stand-ins for the few AWS operations the code uses, plus a controllable clock.

They implement only what the project calls, with the same request/response shapes as boto3, and fail
loudly on anything else so a new call shows up as a test failure rather than as silent success.
"""

from __future__ import annotations

import copy
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError


def client_error(code: str, operation: str = "Operation", message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message or code}}, operation)


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Paginator:
    def __init__(self, pages: Any) -> None:
        self._pages = pages

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return iter(self._pages(**kwargs))


# ------------------------------------------------------------------------------------------ DynamoDB

KEY_SCHEMAS = {"registry-table": ("model", "version"), "health-table": ("function",)}


class FakeDynamoDB:
    """put_item (with the two condition expressions the registry uses), get_item, query and scan."""

    def __init__(self, key_schemas: dict[str, tuple[str, ...]] | None = None) -> None:
        self.key_schemas = dict(KEY_SCHEMAS if key_schemas is None else key_schemas)
        self.tables: dict[str, dict[tuple[str, ...], dict[str, Any]]] = defaultdict(dict)
        self.puts: list[dict[str, Any]] = []
        self.fail_with: Exception | None = None
        self.log: list[tuple[str, dict[str, Any]]] = []  # (operation, parameters) of every call

    def _key(self, table: str, item: dict[str, Any]) -> tuple[str, ...]:
        if table not in self.key_schemas:
            raise client_error("ResourceNotFoundException", message=f"no table {table}")
        return tuple(item[name]["S"] for name in self.key_schemas[table])

    def put_item(
        self,
        TableName: str,
        Item: dict[str, Any],
        ConditionExpression: str | None = None,
        ExpressionAttributeNames: dict[str, str] | None = None,
        ExpressionAttributeValues: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self.log.append(("PutItem", {"TableName": TableName}))
        if self.fail_with is not None:
            raise self.fail_with
        key = self._key(TableName, Item)
        existing = self.tables[TableName].get(key)
        if ConditionExpression in ("attribute_not_exists(#m)", "attribute_not_exists(#i)"):
            ok = existing is None
        elif ConditionExpression == "attribute_not_exists(#i) OR observed_at <= :t":
            bound = (ExpressionAttributeValues or {})[":t"]["S"]
            ok = existing is None or existing["observed_at"]["S"] <= bound
        elif ConditionExpression in ("active_version = :expected", "revision = :expected"):
            attribute = ConditionExpression.split(" ", 1)[0]
            expected = (ExpressionAttributeValues or {})[":expected"]
            ok = existing is not None and existing.get(attribute) == expected
        elif ConditionExpression is None:
            ok = True
        else:  # pragma: no cover - a new expression needs teaching to the fake
            raise NotImplementedError(ConditionExpression)
        if not ok:
            raise client_error("ConditionalCheckFailedException", "PutItem")
        self.tables[TableName][key] = copy.deepcopy(Item)
        self.puts.append({"TableName": TableName, "Item": copy.deepcopy(Item)})
        return {}

    def get_item(self, TableName: str, Key: dict[str, Any], ConsistentRead: bool = False) -> dict[str, Any]:
        self.log.append(("GetItem", {"TableName": TableName}))
        if self.fail_with is not None:
            raise self.fail_with
        item = self.tables[TableName].get(self._key(TableName, Key))
        return {"Item": copy.deepcopy(item)} if item is not None else {}

    def _query(self, TableName: str, ExpressionAttributeValues: dict[str, Any], **_: Any) -> Iterator[dict[str, Any]]:
        self.log.append(("Query", {"TableName": TableName}))
        if self.fail_with is not None:
            raise self.fail_with
        wanted = ExpressionAttributeValues[":m"]["S"]
        items = [copy.deepcopy(i) for k, i in sorted(self.tables[TableName].items()) if k[0] == wanted]
        # Two pages, so callers that forget to paginate lose items.
        half = len(items) // 2
        yield {"Items": items[:half]}
        yield {"Items": items[half:]}

    def _scan(self, TableName: str, **_: Any) -> Iterator[dict[str, Any]]:
        self.log.append(("Scan", {"TableName": TableName}))
        if self.fail_with is not None:
            raise self.fail_with
        items = [copy.deepcopy(i) for _, i in sorted(self.tables[TableName].items())]
        for start in range(0, max(len(items), 1), 2):
            yield {"Items": items[start : start + 2]}

    def scan(
        self, TableName: str, Limit: int = 1000, ExclusiveStartKey: dict[str, Any] | None = None, **_: Any
    ) -> dict[str, Any]:
        """One page in key order, with LastEvaluatedKey when more remain, as DynamoDB pages a Scan."""
        self.log.append(("Scan", {"TableName": TableName}))
        if self.fail_with is not None:
            raise self.fail_with
        ordered = sorted(self.tables[TableName].items())
        if ExclusiveStartKey is not None:
            start = self._key(TableName, ExclusiveStartKey)
            ordered = [(k, i) for k, i in ordered if k > start]
        page = ordered[:Limit]
        response: dict[str, Any] = {"Items": [copy.deepcopy(i) for _, i in page]}
        if len(ordered) > Limit:
            names = self.key_schemas[TableName]
            response["LastEvaluatedKey"] = {n: page[-1][1][n] for n in names}
        return response

    def get_paginator(self, operation: str) -> _Paginator:
        if operation == "query":
            return _Paginator(self._query)
        if operation == "scan":
            return _Paginator(self._scan)
        raise NotImplementedError(operation)  # pragma: no cover


# ------------------------------------------------------------------------------------------------ S3


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.fail_with: Exception | None = None  # every call fails with this
        self.fail_on: dict[str, Exception] = {}  # calls logged as this operation fail with that
        self.log: list[tuple[str, dict[str, Any]]] = []  # (operation, parameters) of every call

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        if self.log and self.log[-1][0] in self.fail_on:
            raise self.fail_on[self.log[-1][0]]

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        self.log.append(("PutObject", {"Bucket": Bucket, "Key": Key}))
        self._check()
        self.objects[(Bucket, Key)] = bytes(Body)
        return {}

    def upload_file(self, Filename: str, Bucket: str, Key: str) -> None:
        self.log.append(("PutObject", {"Bucket": Bucket, "Key": Key}))
        self._check()
        self.objects[(Bucket, Key)] = Path(Filename).read_bytes()

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.log.append(("HeadObject", {"Bucket": Bucket, "Key": Key, "missing": (Bucket, Key) not in self.objects}))
        self._check()
        if (Bucket, Key) not in self.objects:
            raise client_error("404", "HeadObject", "Not Found")
        return {"ContentLength": len(self.objects[(Bucket, Key)])}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.log.append(("GetObject", {"Bucket": Bucket, "Key": Key, "missing": (Bucket, Key) not in self.objects}))
        self._check()
        if (Bucket, Key) not in self.objects:
            raise client_error("NoSuchKey", "GetObject")
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}

    def download_file(self, Bucket: str, Key: str, Filename: str) -> None:
        self.log.append(("DownloadFile", {"Bucket": Bucket, "Key": Key, "missing": (Bucket, Key) not in self.objects}))
        self._check()
        if (Bucket, Key) not in self.objects:
            raise client_error("404", "HeadObject", "Not Found")
        Path(Filename).write_bytes(self.objects[(Bucket, Key)])

    def _list(self, Bucket: str, Prefix: str = "") -> Iterator[dict[str, Any]]:
        self.log.append(("ListObjectsV2", {"Bucket": Bucket, "Prefix": Prefix}))
        keys = sorted(k for b, k in self.objects if b == Bucket and k.startswith(Prefix))
        for start in range(0, max(len(keys), 1), 3):
            chunk = keys[start : start + 3]
            yield {"Contents": [{"Key": k} for k in chunk]} if chunk else {}

    def get_paginator(self, operation: str) -> _Paginator:
        if operation == "list_objects_v2":
            return _Paginator(self._list)
        raise NotImplementedError(operation)  # pragma: no cover

    def put_directory(self, bucket: str, prefix: str, directory: Path) -> None:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            self.objects[(bucket, prefix + path.relative_to(directory).as_posix())] = path.read_bytes()


# ----------------------------------------------------------------------------------------------- SQS


@dataclass
class FakeSQS:
    """Hands out pre-loaded receive responses in order and records deletions."""

    responses: list[list[dict[str, Any]]] = field(default_factory=list)
    receive_calls: list[dict[str, Any]] = field(default_factory=list)
    delete_calls: list[dict[str, Any]] = field(default_factory=list)

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.receive_calls.append(kwargs)
        messages = self.responses.pop(0) if self.responses else []
        assert len(messages) <= kwargs["MaxNumberOfMessages"] <= 10
        return {"Messages": messages} if messages else {}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        assert 1 <= len(Entries) <= 10, "SQS accepts 1..10 entries per DeleteMessageBatch"
        self.delete_calls.append({"QueueUrl": QueueUrl, "Entries": Entries})
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    @property
    def deleted_handles(self) -> list[str]:
        return [e["ReceiptHandle"] for call in self.delete_calls for e in call["Entries"]]


def sqs_message(message_id: str, body: str = "{}") -> dict[str, Any]:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"rh-{message_id}",
        "Body": body,
        "MD5OfBody": "0" * 32,
        "Attributes": {"ApproximateReceiveCount": "1"},
    }


# ----------------------------------------------------------------------------------------------- SSM


class FakeSSMProvider:
    """The slice of Powertools' SSMProvider that `commerce_ai.http.admin_key` uses."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.calls: list[tuple[str, bool, int]] = []

    def get(self, name: str, decrypt: bool = False, max_age: int = 5) -> str:
        self.calls.append((name, decrypt, max_age))
        return self.values[name]


@dataclass
class FakeAws:
    dynamodb: FakeDynamoDB = field(default_factory=FakeDynamoDB)
    s3: FakeS3 = field(default_factory=FakeS3)
    sqs: FakeSQS = field(default_factory=FakeSQS)

    def client(self, service: str) -> Any:
        found = getattr(self, service, None)
        if found is None:
            raise AssertionError(f"unit tests have no fake for the {service!r} client")
        return found


# --------------------------------------------------------------------------------------- manifests

FEATURES = ["price", "units_7d", "margin"]


def make_manifest(
    name: str = "demo-scorer",
    version: str = "v1",
    features: list[str] | None = None,
    framework: str = "json",
    files: dict[str, str] | dict[str, tuple[str, int]] | None = None,
) -> Any:
    """A valid Manifest; `files` maps relative path -> sha256, or (sha256, bytes) (the entrypoint is first)."""
    from commerce_ai.artifacts.manifest import Manifest

    features = FEATURES if features is None else features
    files = files or {"model.json": "0" * 64}
    return Manifest.model_validate(
        {
            "name": name,
            "version": version,
            "created_at": "2026-01-01T00:00:00+00:00",
            "git_commit": "abcdef12",
            "framework": framework,
            "entrypoint": next(iter(files)),
            "input_schema": {
                "tensors": [{"name": "features", "dtype": "float32", "shape": [None, len(features) or None]}],
                "feature_names": features,
            },
            "output_schema": [{"name": "score", "dtype": "float32", "shape": [None, 1]}],
            "training_data": {"fingerprint": "f" * 64, "source": "unit test"},
            "metrics": {"mae": 1.5},
            "files": {
                path: {"sha256": entry, "bytes": 1}
                if isinstance(entry, str)
                else {"sha256": entry[0], "bytes": entry[1]}
                for path, entry in files.items()
            },
        }
    )
