"""`commerce-ai train recommendations`' default data: the behaviour-event archive, read the way the daily
retrain reads it. Kept apart from `retrain` (which the retrain's image carries) since it finds the local
stack's names through `infra`, which the image does not hold."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.catalog.store import Catalog
from commerce_ai.erasure import ErasureLog
from infra.template import Stack
from model_build.behaviour_events import archive_bucket
from model_build.recommendations.data import Dataset, read_items_csv
from model_build.recommendations.images import visual_index_loader
from model_build.recommendations.retrain import catalogue_items, read_archive


def archive_training_data(items: Path | None = None) -> Dataset:
    """The behaviour-event archive's last 90 days through the daily retrain's reader
    (`retrain.read_archive`: erased users' events left out), with the items of `items` or else the shop's
    whole catalogue, and visual search's image embeddings of those items (`images`). The buckets and tables
    are the deployed function's variables when set (BEHAVIOUR_EVENTS_BUCKET, USER_ERASURES_TABLE,
    CATALOG_TABLE, MODEL_REGISTRY_TABLE, ARTIFACT_BUCKET), else the local stack's."""

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
