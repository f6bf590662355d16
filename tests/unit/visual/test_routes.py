"""Visual search's routes through Chalice's test client over in-memory AWS, serving the small real
artifacts: search by photo (raw body and multipart), filters, similar items, scene suggestions, items from
the add-log, and every bad body answered with a JSON 4xx naming the problem."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from PIL import Image

from commerce_ai.visual import service
from commerce_ai.visual.deltas import Delta, DeltaLog
from tests.support.visual import catalogue_image, encoded, product_photo
from tests.unit.visual.test_images import _png_declaring

PNG = {"Content-Type": "image/png"}


def post(client: Any, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = client.http.post(path, headers=PNG if headers is None else headers, body=body)
    return response.status_code, json.loads(response.body)


def test_a_catalogue_image_finds_itself_first(client: Any) -> None:
    status, found = post(client, "/visual/search?n=5", encoded(catalogue_image(7)))
    assert status == 200, found
    first = found["results"][0]
    assert first["item_id"] == "fmnist-7" and first["score"] > 0.99
    assert set(first) == {"item_id", "category", "score", "colour", "shape", "texture", "title", "in_stock"}
    assert len(found["results"]) == 5 and found["index_version"] == "v1"
    assert found["query"]["format"] == "PNG" and len(found["query"]["categories"]) == 3


def test_a_product_photo_on_white_finds_the_product(client: Any) -> None:
    # The catalogue image dark on white, enlarged to 200 px, as JPEG: the shared pixel path undoes all that.
    status, found = post(client, "/visual/search?n=3", product_photo(3), {"Content-Type": "image/jpeg"})
    assert status == 200, found
    assert found["results"][0]["item_id"] == "fmnist-3" and found["results"][0]["score"] > 0.8
    assert found["query"]["format"] == "JPEG" and found["query"]["width"] == 200


def test_a_multipart_form_carries_the_image(client: Any) -> None:
    boundary = "xyzBOUNDARY"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="q.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + encoded(catalogue_image(7))
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, found = post(
        client, "/visual/search?n=1", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert status == 200, found
    assert found["results"][0]["item_id"] == "fmnist-7"


@pytest.mark.parametrize(("name", "value"), [("colour", "red"), ("shape", "wide"), ("texture", "patterned")])
def test_each_filter_holds_for_every_result(client: Any, name: str, value: str) -> None:
    status, found = post(client, f"/visual/search?n=10&{name}={value}", encoded(catalogue_image(0)))
    assert status == 200, found
    assert found["results"] and all(r[name] == value for r in found["results"])
    assert found["filters"] == {name: value}


def test_the_category_filter(client: Any) -> None:
    status, found = post(client, "/visual/search?n=5&category=Sneaker", encoded(catalogue_image(0)))
    assert status == 200 and {r["category"] for r in found["results"]} == {"Sneaker"}


def test_similar_items_leave_the_item_out(client: Any) -> None:
    response = client.http.get("/visual/similar/fmnist-7?n=4")
    similar = json.loads(response.body)
    assert response.status_code == 200 and len(similar["similar"]) == 4
    assert "fmnist-7" not in [s["item_id"] for s in similar["similar"]]


def test_an_unknown_item_is_a_404(client: Any) -> None:
    response = client.http.get("/visual/similar/no-such-item")
    assert response.status_code == 404 and "no image" in json.loads(response.body)["Message"]


def test_scene_suggestions_name_labels_and_categories(client: Any) -> None:
    status, scene = post(client, "/visual/scene", product_photo(1), {"Content-Type": "image/jpeg"})
    assert status == 200, scene
    assert len(scene["labels"]) == 5 and all(0 <= label["probability"] <= 1 for label in scene["labels"])
    for suggestion in scene["suggestions"]:
        assert all(item["category"] == suggestion["category"] for item in suggestion["items"])


def test_an_image_in_the_add_log_is_found_and_similar(client: Any, visual_world: Any) -> None:
    loaded = service.index_loader().get()
    embedding = loaded.model.vectors[7]
    table = DeltaLog.from_settings()
    table.add(Delta("new-item-1", "Trouser", np.asarray(embedding), 0, 0, 1, datetime.now(UTC).isoformat(), "k"))
    service.delta_cache.forget()
    status, found = post(client, "/visual/search?n=3", encoded(catalogue_image(7)))
    assert status == 200 and {"fmnist-7", "new-item-1"} <= {r["item_id"] for r in found["results"]}
    assert client.http.get("/visual/similar/new-item-1?n=2").status_code == 200


def test_a_body_that_is_not_an_image_is_a_415(client: Any) -> None:
    status, body = post(client, "/visual/search", b'{"image": "no"}', {"Content-Type": "application/octet-stream"})
    assert status == 415 and "not a JPEG, PNG or WebP" in body["Message"]


def test_a_json_content_type_is_a_415(client: Any) -> None:
    status, body = post(client, "/visual/search", b"{}", {"Content-Type": "application/json"})
    assert status == 415 and body["Code"] == "UnsupportedMediaType"


def test_a_truncated_image_is_a_400(client: Any) -> None:
    data = encoded(np.random.default_rng(2).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    status, body = post(client, "/visual/search", data[: len(data) // 2])
    assert status == 400 and "truncated or corrupt" in body["Message"]


def test_a_decompression_bomb_is_a_400(client: Any) -> None:
    status, body = post(client, "/visual/scene", _png_declaring(100_000, 100_000))
    assert status == 400 and "too large" in body["Message"]


def test_a_body_over_the_limit_is_a_413(client: Any) -> None:
    status, body = post(client, "/visual/search", b"\x89PNG\r\n\x1a\n" + b"\0" * (4 * 1024 * 1024))
    assert status == 413 and body["Code"] == "PayloadTooLargeError"


def test_an_animated_image_is_searched_at_its_first_frame(client: Any) -> None:
    frames = [Image.fromarray(catalogue_image(7)), Image.fromarray(catalogue_image(8))]
    out = io.BytesIO()
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:], lossless=True)
    status, found = post(client, "/visual/search?n=1", out.getvalue(), {"Content-Type": "image/webp"})
    assert status == 200 and found["query"]["frames"] == 2 and found["results"][0]["item_id"] == "fmnist-7"


def test_a_cmyk_jpeg_is_searched(client: Any) -> None:
    out = io.BytesIO()
    Image.fromarray(255 - catalogue_image(7)).convert("CMYK").save(out, format="JPEG", quality=95)
    status, found = post(client, "/visual/search?n=3", out.getvalue(), {"Content-Type": "image/jpeg"})
    assert status == 200, found


def test_a_multipart_form_without_an_image_is_a_400(client: Any) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--b--\r\n'
    status, found = post(client, "/visual/search", body, {"Content-Type": "multipart/form-data; boundary=b"})
    assert status == 400 and "`image`" in found["Message"]


@pytest.mark.parametrize("query", ["n=0", "n=51", "colour=mauve", "shape=round", "bogus=1"])
def test_bad_query_parameters_are_400s(client: Any, query: str) -> None:
    status, body = post(client, f"/visual/search?{query}", encoded(catalogue_image(0)))
    assert status == 400 and body["Details"]
