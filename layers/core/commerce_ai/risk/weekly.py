"""The weekly feature-library update: rebuild the graph features from recent scored transactions and the
labels that came back for them, and publish them as a new `risk-graph` version.

The snapshot keeps no raw user, device or IP id (`commerce_ai.risk.pseudonyms`). The new version goes
through the same validation as any artifact (checksums, the file opens) and, when
sound and built from at least MIN_GRAPH_PAYMENTS payments, becomes the active snapshot; the previous one
stays in the registry for a rollback. Unlabelled
transactions count as genuine, as they do for training.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from commerce_ai.artifacts.manifest import InputSchema, Manifest, TrainingData, describe_files, new_version
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.artifacts.validation import validate_version
from commerce_ai.risk.graph import GRAPH_FILE, GRAPH_INPUTS, GRAPH_KEYS, GRAPH_OUTPUTS, Edge, build_snapshot
from commerce_ai.risk.model import GRAPH_NAME
from commerce_ai.risk.pseudonyms import serving_key
from commerce_ai.risk.store import RiskStore, iso

GRAPH_WINDOW = timedelta(days=28)
MIN_GRAPH_PAYMENTS = 1000  # a quieter window (or a broken scan) is registered but does not replace the active one


@dataclass(frozen=True)
class GraphRebuild:
    version: str
    outcome: str  # activated, candidate (registered, too few payments to activate) or quarantined
    payments: int
    labelled_fraud: int
    users: int

    def summary(self) -> dict[str, object]:
        return {
            "graph_version": self.version,
            "outcome": self.outcome,
            "payments": self.payments,
            "labelled_fraud": self.labelled_fraud,
            "users": self.users,
        }


def rebuild_graph(
    results: RiskStore,
    artifacts: ArtifactStore,
    registry: ModelRegistry,
    now: datetime,
    window: timedelta = GRAPH_WINDOW,
    scratch: Path | None = None,
    pseudonym_key: Callable[[], bytes] = serving_key,
) -> GraphRebuild:
    """Rebuild the graph from the window's scored payments and publish it with its ids pseudonymised."""
    edges = [
        Edge(
            str(item["user_id"]),
            str(item["device_id"]),
            str(item["ip"]),
            str(item["merchant_id"]),
            bool(item.get("label_is_fraud", False)),
        )
        for item in results.scored(now - window)
        if all(k in item for k in GRAPH_KEYS)
    ]
    snapshot = build_snapshot(edges, built_at=iso(now)).pseudonymised(pseudonym_key())
    with tempfile.TemporaryDirectory(prefix="risk-graph-", dir=scratch) as work:
        directory = Path(work) / "graph"
        directory.mkdir()
        body = snapshot.model_dump_json().encode()
        (directory / GRAPH_FILE).write_bytes(body)
        manifest = Manifest(
            name=GRAPH_NAME,
            version=new_version(now, "weekly"),
            created_at=now,
            git_commit="weekly-job",
            framework="json",
            entrypoint=GRAPH_FILE,
            input_schema=InputSchema(tensors=GRAPH_INPUTS, feature_names=list(GRAPH_KEYS)),
            output_schema=GRAPH_OUTPUTS,
            training_data=TrainingData(
                fingerprint=hashlib.sha256(body).hexdigest(),
                source=f"RiskResultsTable: transactions scored since {iso(now - window)}, with their labels",
                rows=len(edges),
            ),
            metrics={"payments": float(len(edges)), "users": float(len(snapshot.users))},
            files=describe_files(directory),
        )
        artifacts.publish(manifest, directory)
        verdict = validate_version(artifacts, registry, GRAPH_NAME, manifest.version, scratch=Path(work))
    outcome: str = verdict.outcome
    if outcome in ("registered", "unchanged"):
        if len(edges) >= MIN_GRAPH_PAYMENTS:
            registry.activate(GRAPH_NAME, manifest.version)
            outcome = "activated"
        else:
            outcome = "candidate"  # too little to replace the active snapshot with: every feature would go neutral
    return GraphRebuild(manifest.version, outcome, len(edges), sum(e.is_fraud for e in edges), len(snapshot.users))
