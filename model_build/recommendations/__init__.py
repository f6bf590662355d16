"""Recommendations: MovieLens-100k (or a user's own files, or the behaviour-event archive) to
`recommendations-ranker`: item-item cosine and EASE neighbours, a Wide&Deep ranker over their candidates
(torch, exported to ONNX), compared on the fixed leave-last-out protocol (`protocol`).

`build` trains and exports; `evaluate` writes `reports/recommendations.md` (every method, coverage and
diversity against accuracy); `seed` puts the MovieLens items into the shared catalogue.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.template import Stack
    from model_build import Built
    from model_build.recommendations.data import Dataset

MODELS: list[str] = ["recommendations-ranker"]
ARCHIVE = "archive"  # `--data archive`: train on the behaviour-event archive's last 90 days
# `commerce-ai train recommendations` without `--data` trains on the shop's own behaviour (the archive), as
# the issue asks; `up` calls `build(workdir)` and keeps training on MovieLens, which `--data movielens` names.
TRAIN_DEFAULT_DATA = ARCHIVE
UP_DATA = "movielens"


def build(workdir: Path, data: Path | None = None, items: Path | None = None) -> list[Built]:
    """Train on MovieLens-100k (`data` None: what `up` builds), or on `data`: a user's interactions CSV (with
    `items`, their items CSV), or the event archive when `data` is `archive` (with `items`, else the shop's
    catalogue, as the daily retrain reads it; erased users left out)."""
    from model_build.progress import stage
    from model_build.recommendations.data import DataProblem, read_movielens, read_user_files
    from model_build.recommendations.export import export, train_and_compare

    with stage("read interactions"):
        if data is None:
            dataset = read_movielens()
        elif str(data) == ARCHIVE and not data.exists():
            from model_build.recommendations.retrain import too_little

            dataset = archive_training_data(items)
            why_not = too_little(dataset)
            if why_not is not None:
                raise DataProblem(f"too little to train on: {why_not}")
        else:
            dataset = read_user_files(data, items)
    trained = train_and_compare(dataset)
    return [export(dataset, trained, workdir)]


def archive_training_data(items: Path | None = None) -> Dataset:
    """The behaviour-event archive's last 90 days through the daily retrain's reader
    (`retrain.read_archive`: erased users' events left out), with the items of `items` or else the shop's
    whole catalogue, and visual search's image embeddings of those items (`images`). The buckets and tables
    are the deployed function's variables when set (BEHAVIOUR_EVENTS_BUCKET, USER_ERASURES_TABLE,
    CATALOG_TABLE, MODEL_REGISTRY_TABLE, ARTIFACT_BUCKET), else the local stack's."""
    import os
    import tempfile
    from datetime import UTC, datetime

    from commerce_ai.artifacts.registry import ModelRegistry
    from commerce_ai.artifacts.store import ArtifactStore
    from commerce_ai.catalog.store import Catalog
    from commerce_ai.erasure import ErasureLog
    from infra.template import Stack
    from model_build.behaviour_events import archive_bucket
    from model_build.recommendations.data import read_items_csv
    from model_build.recommendations.images import visual_index_loader
    from model_build.recommendations.retrain import catalogue_items, read_archive

    def table(variable: str, logical_id: str) -> str:
        return os.environ.get(variable, "").strip() or Stack().physical_name(logical_id)

    erased = ErasureLog(table("USER_ERASURES_TABLE", "UserErasuresTable")).erased_hashes()
    catalogue = (
        read_items_csv(items) if items is not None else catalogue_items(Catalog(table("CATALOG_TABLE", "CatalogTable")))
    )
    registry = ModelRegistry(table("MODEL_REGISTRY_TABLE", "ModelRegistryTable"))
    artifacts = ArtifactStore(table("ARTIFACT_BUCKET", "ArtifactBucket"))
    with tempfile.TemporaryDirectory(prefix="recommendations-images-") as images_cache:
        index = visual_index_loader(registry, artifacts, Path(images_cache))
        return read_archive(archive_bucket(), catalogue, datetime.now(UTC), erased, images=index)


def build_inputs() -> dict[str, str]:
    """What determines `build` besides its code (the build cache's key): the MovieLens files' checksums."""
    from model_build.recommendations.data import MOVIELENS_FILES

    return {f"data:{name} sha256": digest for name, digest in sorted(MOVIELENS_FILES.items())}


def seed(stack: Stack, cache_dir: Path) -> str:
    """Add the MovieLens items to the shop's catalogue (items already there are left as they are)."""
    from commerce_ai.catalog.store import Catalog
    from model_build.recommendations.seeding import seed_catalogue

    added = seed_catalogue(Catalog(stack.physical_name("CatalogTable")))
    return f"catalogue: {added} MovieLens item(s) added"


def evaluate(report_dir: Path) -> Path:
    from model_build.recommendations.report import write_report

    return write_report(report_dir)
