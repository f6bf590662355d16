"""The scheduled rebuild: fold the add-log into a new `visual-index` version and activate it.

The new version keeps the served version's embedder and trained quantizers (`index.refill`: no retraining,
so it takes seconds) and holds every indexed item, an item's logged image replacing its old one. It is
validated like any artifact before activation; then the folded log entries are removed (an entry re-logged
meanwhile stays, see `deltas`). With nothing logged, nothing is published.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.artifacts.manifest import TrainingData, describe_files, new_version
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.artifacts.validation import validate_version
from commerce_ai.visual.deltas import DeltaLog
from commerce_ai.visual.index import DESCRIPTOR_CODES, EMBEDDER_FILE, MODEL_NAME, Entries, VisualIndex, refill, save
from commerce_ai.visual.search import Deltas

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Rebuild:
    version: str | None
    outcome: str  # activated, quarantined, or nothing (an empty log)
    folded: int
    items: int
    removed_from_log: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "index_version": self.version,
            "outcome": self.outcome,
            "folded": self.folded,
            "items": self.items,
            "removed_from_log": self.removed_from_log,
        }


def fold(index: VisualIndex, deltas: Deltas) -> tuple[np.ndarray, Entries]:
    """The index's items with the logged ones added (or replacing theirs): vectors and entries."""
    import numpy as np

    logged = deltas.ids()
    keep = np.array([i for i, item_id in enumerate(index.entries.item_ids) if item_id not in logged], dtype=np.int64)
    vectors = np.concatenate([np.asarray(index.vectors[keep], dtype=np.float32), deltas.vectors])
    codes = {
        k: np.concatenate([index.entries.codes[k][keep], np.array([getattr(d, k) for d in deltas.entries])]).astype(
            np.int8
        )
        for k in DESCRIPTOR_CODES
    }
    entries = Entries(
        [index.entries.item_ids[i] for i in keep] + [d.item_id for d in deltas.entries],
        [index.entries.categories[i] for i in keep] + [d.category for d in deltas.entries],
        codes,
    )
    return vectors, entries


def rebuild_index(
    loaded: LoadedModel[VisualIndex],
    log: DeltaLog,
    artifacts: ArtifactStore,
    registry: ModelRegistry,
    now: datetime,
    scratch: Path | None = None,
) -> Rebuild:
    index = loaded.model
    logged = log.all()
    deltas = Deltas.of(logged, index.dimension)
    if not deltas.entries:
        return Rebuild(None, "nothing", 0, len(index.entries))
    vectors, entries = fold(index, deltas)
    with tempfile.TemporaryDirectory(prefix="visual-rebuild-", dir=scratch) as work:
        directory = Path(work) / MODEL_NAME
        embedder = (loaded.directory / EMBEDDER_FILE).read_bytes()
        save(directory, refill(index.index, vectors), vectors, entries, index.settings, now.isoformat(), embedder)
        manifest = loaded.manifest.model_copy(
            update={
                "version": new_version(now, "rebuild"),
                "created_at": now,
                "git_commit": "visual-rebuild",
                "training_data": TrainingData(
                    fingerprint=hashlib.sha256(vectors.tobytes()).hexdigest(),
                    source=f"{MODEL_NAME} {loaded.version} with {len(deltas.entries)} logged image(s) folded in",
                    rows=len(entries),
                ),
                "metrics": {**loaded.manifest.metrics, "items": float(len(entries))},
                "files": describe_files(directory),
            }
        )
        artifacts.publish(manifest, directory)
        verdict = validate_version(artifacts, registry, MODEL_NAME, manifest.version, scratch=Path(work))
    if verdict.outcome not in ("registered", "unchanged"):
        return Rebuild(manifest.version, verdict.outcome, len(deltas.entries), len(entries))
    registry.activate(MODEL_NAME, manifest.version)
    removed = log.remove_folded(deltas.entries)
    return Rebuild(manifest.version, "activated", len(deltas.entries), len(entries), removed)
