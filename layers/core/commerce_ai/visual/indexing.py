"""Incremental indexing: a product image uploaded under `catalog/images/<item_id>.<ext>` in the shop's
uploads bucket is embedded and logged (`deltas`), so search finds it before the next rebuild.

Its metadata is the catalogue's: the item's category when the catalogue holds it; otherwise the embedder's
likeliest category, and the item is added to the catalogue (title `Uploaded item <id>`, its image's S3 URL
and descriptors as attributes). An image that does not decode is refused for good (logged, not retried);
indexing the same upload twice logs the same entry again, so a redelivery is harmless.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import datetime

from commerce_ai.catalog.items import ITEM_ID, CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.visual.deltas import Delta, DeltaLog
from commerce_ai.visual.descriptors import COLOURS, SHAPES, TEXTURES
from commerce_ai.visual.images import ImageProblem, decode_image
from commerce_ai.visual.index import VisualIndex

IMAGES_PREFIX = "catalog/images/"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def item_id_of(key: str) -> str | None:
    """The item an image key names (`catalog/images/<item_id>.<ext>`), or None for any other key."""
    if not key.startswith(IMAGES_PREFIX) or "/" in key[len(IMAGES_PREFIX) :]:
        return None
    stem, suffix = posixpath.splitext(posixpath.basename(key))
    if suffix.lower() not in IMAGE_SUFFIXES or not re.fullmatch(ITEM_ID, stem):
        return None
    return stem


@dataclass(frozen=True)
class Indexed:
    key: str
    item_id: str | None
    outcome: str  # indexed, refused (not an image we read), ignored (not an item image key)
    category: str | None = None
    reason: str | None = None

    def summary(self) -> dict[str, str | None]:
        return {"key": self.key, "item_id": self.item_id, "outcome": self.outcome, "category": self.category}


def index_upload(
    index: VisualIndex,
    log: DeltaLog,
    catalogue: Catalog | None,
    bucket: str,
    key: str,
    data: bytes,
    now: datetime,
) -> Indexed:
    from commerce_ai.visual.service import embed  # the search path's embedding, exactly

    item_id = item_id_of(key)
    if item_id is None:
        return Indexed(key, None, "ignored", reason="not catalog/images/<item_id>.<jpg|jpeg|png|webp>")
    try:
        decoded = decode_image(data)
    except ImageProblem as exc:
        return Indexed(key, item_id, "refused", reason=str(exc))
    embedded = embed(index, decoded)
    item = catalogue.get(item_id) if catalogue is not None else None
    category = item.category if item is not None else embedded.categories[0][0]
    descriptors = embedded.descriptors
    if catalogue is not None and item is None:
        catalogue.put(
            CatalogItem(
                item_id=item_id,
                title=f"Uploaded item {item_id}",
                category=category,
                image_url=f"s3://{bucket}/{key}",
                attributes={
                    "colour": descriptors.colour,
                    "shape": descriptors.shape,
                    "texture": descriptors.texture,
                    "source": "visual-upload",
                },
                updated_at=now,
            )
        )
    log.add(
        Delta(
            item_id=item_id,
            category=category,
            embedding=embedded.embedding,
            colour=COLOURS.index(descriptors.colour),
            shape=SHAPES.index(descriptors.shape),
            texture=TEXTURES.index(descriptors.texture),
            added_at=now.isoformat(),
            image_key=key,
        )
    )
    return Indexed(key, item_id, "indexed", category)
