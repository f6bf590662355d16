"""Visual search from outside, against `commerce-ai up` (Fashion-MNIST's index built or restored, the
catalogue seeded): search by a photo as raw body and as a multipart form, similar items, a scene, bad bodies
answered with 4xx, and a real product image uploaded to S3 under `catalog/images/` becoming searchable."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import Running, until
from tests.support.visual import catalogue_image, encoded, product_photo

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_search_similar_and_scene_over_http(running: Running) -> None:
    session = requests.Session()
    png = encoded(catalogue_image(42))
    found = session.post(
        f"{running.http}/visual/search?n=5", data=png, headers={"Content-Type": "image/png"}, timeout=30
    )
    assert found.status_code == 200, found.text
    assert found.json()["results"][0]["item_id"] == "fmnist-42"
    assert found.json()["results"][0]["title"]  # from the seeded catalogue
    form = session.post(f"{running.http}/visual/search?n=3&colour=red", files={"image": ("q.png", png)}, timeout=30)
    assert form.status_code == 200 and all(r["colour"] == "red" for r in form.json()["results"])
    similar = session.get(f"{running.http}/visual/similar/fmnist-42?n=4", timeout=30)
    assert similar.status_code == 200 and len(similar.json()["similar"]) == 4
    scene = session.post(
        f"{running.http}/visual/scene", data=product_photo(7), headers={"Content-Type": "image/jpeg"}, timeout=30
    )
    assert scene.status_code == 200 and len(scene.json()["labels"]) == 5
    bad = session.post(f"{running.http}/visual/search", data=png[:60], headers={"Content-Type": "image/png"})
    assert bad.status_code == 400 and "truncated" in bad.json()["Message"]
    text = session.post(f"{running.http}/visual/search", data=b"hello", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415


def test_an_uploaded_product_image_becomes_searchable(running: Running) -> None:
    s3 = running.client("s3")
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"] if "-uploads-" in b["Name"]]
    photo = product_photo(123)
    s3.put_object(Bucket=bucket, Key="catalog/images/e2e-visual-1.jpg", Body=photo, ContentType="image/jpeg")
    session = requests.Session()

    def found_first() -> bool:
        answer = session.post(
            f"{running.http}/visual/search?n=1", data=photo, headers={"Content-Type": "image/jpeg"}, timeout=30
        )
        return answer.status_code == 200 and answer.json()["results"][0]["item_id"] == "e2e-visual-1"

    assert until(found_first, timeout=120, every=2)
    item = session.get(f"{running.http}/catalog/items/e2e-visual-1", timeout=10)
    assert item.status_code == 200 and item.json()["title"] == "Uploaded item e2e-visual-1"
