"""The catalogue on the emulator: the routes through the local gateway, and a file uploaded to the uploads
bucket announced by S3 to the imports queue and imported (or rejected whole) by the import function."""

from __future__ import annotations

import json
import threading
from typing import Any

from commerce_ai import aws
from commerce_ai.catalog.store import Catalog
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from tests.conftest import ADMIN_KEY
from tests.integration.conftest import empty_queue
from tests.integration.local_stack import call, gateway_for
from tests.support.invoke import in_process


def import_source(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("CatalogImportsQueue"))["QueueUrl"]
    return QueueSource(
        "CatalogImportFunction", url, stack.arn("CatalogImportsQueue"), batch_size=1, report_failures=True
    )


def upload_and_import(stack: Stack, key: str, data: bytes) -> dict[str, Any]:
    """Upload `key`, run the import function on what S3 announced, and read the status beside the upload."""
    source = import_source(stack)
    empty_queue(source.queue_url)
    bucket = stack.physical_name("UploadsBucket")
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    invoke = in_process(stack)
    for _ in range(10):
        if source.poll_once(invoke, threading.Event(), wait_seconds=1):
            break
    status = aws.client("s3").get_object(Bucket=bucket, Key=key + ".status.json")["Body"].read()
    parsed: dict[str, Any] = json.loads(status)
    return parsed


def test_items_are_put_read_listed_and_deleted_through_the_gateway(stack: Stack) -> None:
    gateway = gateway_for(stack)
    item = {"title": "Minute Maid 64 oz", "category": "juice", "brand": "Minute Maid", "price": 2.99, "stock": 4}
    status, put = call(gateway, "PUT", "/catalog/items/it-mm-64", item, ADMIN_KEY)
    assert status == 200 and put["in_stock"] is True
    assert call(gateway, "GET", "/catalog/items/it-mm-64") == (200, put)
    assert call(gateway, "PUT", "/catalog/items/it-mm-64", item)[0] == 401
    status, page = call(gateway, "GET", "/catalog/items?limit=200")
    assert status == 200 and "it-mm-64" in {i["item_id"] for i in page["items"]}
    assert call(gateway, "DELETE", "/catalog/items/it-mm-64", None, ADMIN_KEY)[0] == 200
    assert call(gateway, "GET", "/catalog/items/it-mm-64")[0] == 404


def test_an_uploaded_csv_is_imported_and_a_bad_one_rejected_whole(stack: Stack) -> None:
    catalog = Catalog(stack.physical_name("CatalogTable"))
    good = b"item_id,title,category,price,stock\nit-imp-1,One,juice,1.5,3\nit-imp-2,Two,juice,2.5,0\n"
    status = upload_and_import(stack, "uploads/catalog/it-good.csv", good)
    assert (status["status"], status["items"]) == ("imported", 2)
    found = catalog.get_many(["it-imp-1", "it-imp-2", "it-none"])
    assert sorted(found) == ["it-imp-1", "it-imp-2"] and found["it-imp-2"].in_stock is False

    bad = b"item_id,title,category,price\nit-imp-3,Three,juice,1.0\nit-imp-4,Four,juice,free\n"
    status = upload_and_import(stack, "uploads/catalog/it-bad.csv", bad)
    assert status["status"] == "rejected" and status["problems"] == ["line 3: price: 'free' is not a number"]
    assert catalog.get("it-imp-3") is None
