"""What visual search's handlers share, built once per container: the served index (with its embedder),
the scene classifier, the add-log as last read, the catalogue; and the one path from image bytes to an
embedding and descriptors, used by search, scene and the upload indexer alike."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.catalog.settings import settings as catalog_settings
from commerce_ai.catalog.store import Catalog
from commerce_ai.errors import CommerceError, InvalidInput
from commerce_ai.visual.categories import CATEGORIES
from commerce_ai.visual.contract import CategoryGuess, VisualItem
from commerce_ai.visual.deltas import DeltaLog
from commerce_ai.visual.descriptors import COLOURS, SHAPES, TEXTURES, Descriptors, describe
from commerce_ai.visual.images import Decoded, ImageProblem, catalogue_pixels, decode_image, grey
from commerce_ai.visual.index import MODEL_NAME, VisualIndex, open_faiss, top_categories
from commerce_ai.visual.scene import SCENE_MODEL, SCENE_SIDE
from commerce_ai.visual.search import Deltas, Hit
from commerce_ai.visual.settings import settings

if TYPE_CHECKING:
    import numpy as np

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "application/octet-stream", "multipart/form-data")


class UnsupportedImage(CommerceError):
    status_code = 415
    code = "UnsupportedMediaType"


@cache
def index_loader() -> ModelLoader[VisualIndex]:
    return ModelLoader(MODEL_NAME, opener=open_faiss)


@cache
def scene_loader() -> ModelLoader[Any]:
    return ModelLoader(SCENE_MODEL)


@lru_cache(maxsize=4)
def scene_labels(path: str) -> list[str]:
    """The classifier's class names (`labels.json` of a `visual-scene` version), read once per version."""
    with open(path, encoding="utf-8") as handle:
        labels: list[str] = json.load(handle)
    return labels


@cache
def catalogue() -> Catalog | None:
    """The shop's catalogue (CATALOG_TABLE); None where the function has none configured."""
    return Catalog.from_settings() if catalog_settings().catalog_table else None


class _DeltaCache:
    """The add-log, re-read at most every VISUAL_DELTA_REFRESH_SECONDS by a warm container."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._deltas: Deltas | None = None

    def get(self, dimension: int, log: DeltaLog | None = None) -> Deltas:
        with self._lock:
            now = time.monotonic()
            stale = self._read_at is None or now - self._read_at >= settings().visual_delta_refresh_seconds
            if self._deltas is None or stale or self._deltas.vectors.shape[1] != dimension:
                if not settings().visual_deltas_table and log is None:
                    self._deltas = Deltas.of([], dimension)
                else:
                    self._deltas = Deltas.of((log or DeltaLog.from_settings()).all(), dimension)
                self._read_at = now
            return self._deltas

    def forget(self) -> None:
        with self._lock:
            self._read_at, self._deltas = None, None


delta_cache = _DeltaCache()


def served() -> tuple[LoadedModel[VisualIndex], Deltas]:
    loaded = index_loader().get()
    return loaded, delta_cache.get(loaded.model.dimension)


def image_bytes(body: bytes, content_type: str | None) -> bytes:
    """The image a request carries: the raw body, or the `image` field (else the first file) of a
    multipart form."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        return body
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", errors="replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InvalidInput("the multipart body has no parts (is its boundary right?)")
    parts = list(message.iter_parts())
    named = [p for p in parts if p.get_param("name", header="content-disposition") == "image"]
    files = named or [p for p in parts if p.get_filename() or p.get_content_maintype() == "image"]
    if not files:
        raise InvalidInput("the multipart form has no `image` field")
    payload = files[0].get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def decode(data: bytes) -> Decoded:
    try:
        return decode_image(data)
    except ImageProblem as exc:
        if exc.unsupported_type:
            raise UnsupportedImage(str(exc)) from None
        raise InvalidInput(str(exc)) from None


@dataclass(frozen=True)
class Embedded:
    embedding: np.ndarray  # float32 [d]
    categories: list[tuple[str, float]]
    descriptors: Descriptors


def embed(index: VisualIndex, decoded: Decoded) -> Embedded:
    """The one path from a decoded image to what search compares: `catalogue_pixels`, the embedder, and
    the colour, shape and texture descriptors."""
    import numpy as np

    rgb = np.asarray(decoded.image, dtype=np.uint8)
    pixels = catalogue_pixels(grey(decoded.image))[None, None, :, :]
    embedding, logits = index.embed(pixels)
    return Embedded(embedding[0], top_categories(logits[0], CATEGORIES), describe(rgb))


def guesses(embedded: Embedded) -> list[CategoryGuess]:
    return [CategoryGuess(category=c, probability=round(p, 6)) for c, p in embedded.categories]


def scene_pixels(decoded: Decoded) -> np.ndarray:
    """The photo's centre square resized to SCENE_SIDE, uint8 [224, 224, 3] (cropped first, so a very long
    thin image never becomes a large one)."""
    import numpy as np
    from PIL import Image

    image = decoded.image
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((SCENE_SIDE, SCENE_SIDE), Image.Resampling.BILINEAR), dtype=np.uint8)


def view(hits: list[Hit]) -> list[VisualItem]:
    """Hits as the API shows them, with title and stock from the catalogue when it holds the item."""
    source = catalogue()
    known = source.get_many(h.item_id for h in hits) if source is not None and hits else {}
    items = []
    for hit in hits:
        item = known.get(hit.item_id)
        items.append(
            VisualItem(
                item_id=hit.item_id,
                category=hit.category,
                score=round(hit.score, 6),
                colour=hit.colour,  # type: ignore[arg-type]
                shape=hit.shape,  # type: ignore[arg-type]
                texture=hit.texture,  # type: ignore[arg-type]
                title=item.title if item else None,
                in_stock=item.in_stock if item else None,
            )
        )
    return items


def descriptor_names(descriptors: Descriptors) -> dict[str, str]:
    assert descriptors.colour in COLOURS and descriptors.shape in SHAPES and descriptors.texture in TEXTURES
    return {"colour": descriptors.colour, "shape": descriptors.shape, "texture": descriptors.texture}
