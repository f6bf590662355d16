"""Visual search's test helpers, shared by its unit, integration and e2e tests: a small real `visual-index`
(the production pipeline on the first 600 catalogue and 100 test images of Fashion-MNIST, a coarse index)
and `visual-scene`, and image files made in memory."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from commerce_ai.visual.index import IndexSettings
from model_build import Built

SMALL_CATALOGUE = 600
SMALL_QUERIES = 100
SMALL_INDEX = IndexSettings(nlist=8, m=16, nbits=8, nprobe=4, rerank=50)


def small_fashion() -> object:
    from model_build.visual.data import FashionMnist, Split, read_fashion_mnist

    data = read_fashion_mnist()
    return FashionMnist(
        train=Split(data.train.images[:SMALL_CATALOGUE], data.train.labels[:SMALL_CATALOGUE]),
        test=Split(data.test.images[:SMALL_QUERIES], data.test.labels[:SMALL_QUERIES]),
    )


_BUILT: list[Built] = []


def built_visual(directory: Path) -> list[Built]:
    """Real `visual-index` (600 items) and `visual-scene` artifacts, through the production export code; built
    once per test process (about a minute on a busy machine), later calls get the same files."""
    from model_build.visual.export import build_index, build_scene

    if not _BUILT:
        data = small_fashion()
        _BUILT.extend(
            [build_index(directory, data, SMALL_INDEX, SMALL_QUERIES), build_scene(directory)]  # type: ignore[arg-type]
        )
    return list(_BUILT)


def encoded(pixels: np.ndarray, format: str = "PNG", **options: object) -> bytes:
    """An image (uint8 [h, w] grey or [h, w, 3] RGB) encoded as a file."""
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=format, **options)
    return out.getvalue()


def catalogue_image(index: int = 0) -> np.ndarray:
    """Fashion-MNIST train image `index` (item `fmnist-<index>`), uint8 [28, 28]."""
    from model_build.visual.data import read_fashion_mnist

    return np.asarray(read_fashion_mnist().train.images[index])


def product_photo(index: int = 0, side: int = 200) -> bytes:
    """Item `index` as a shop would photograph it: the product dark on a white background, larger, as JPEG."""
    grey = 255 - catalogue_image(index)
    image = Image.fromarray(grey).resize((side, side), Image.Resampling.BILINEAR).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()
