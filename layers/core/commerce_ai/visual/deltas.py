"""The add-log: images indexed since the index was built (`VISUAL_DELTAS_TABLE`, one item per catalogue item).

An image uploaded under `catalog/images/` is embedded by `VisualIndexingFunction` and written here; search
merges the log into every answer (exact scores over the few logged vectors), so a new product is findable
within `VISUAL_DELTA_REFRESH_SECONDS` without a rebuild. The scheduled rebuild (`VisualRebuildFunction`) folds
the log into a new index version, activates it, then removes the entries it folded, each only if it was not
re-logged meanwhile (`added_at` unchanged).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from commerce_ai import aws
from commerce_ai.visual.settings import settings

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Delta:
    item_id: str
    category: str
    embedding: np.ndarray  # float32 [d], L2-normalised
    colour: int  # codes into descriptors.COLOURS / SHAPES / TEXTURES
    shape: int
    texture: int
    added_at: str  # ISO 8601 UTC
    image_key: str


def to_dynamodb(delta: Delta) -> dict[str, Any]:
    import numpy as np

    return {
        "item_id": {"S": delta.item_id},
        "category": {"S": delta.category},
        "embedding": {"B": np.ascontiguousarray(delta.embedding, dtype="<f4").tobytes()},
        "colour": {"N": str(delta.colour)},
        "shape": {"N": str(delta.shape)},
        "texture": {"N": str(delta.texture)},
        "added_at": {"S": delta.added_at},
        "image_key": {"S": delta.image_key},
    }


def from_dynamodb(item: dict[str, Any]) -> Delta:
    import numpy as np

    return Delta(
        item_id=item["item_id"]["S"],
        category=item["category"]["S"],
        embedding=np.frombuffer(bytes(item["embedding"]["B"]), dtype="<f4").astype(np.float32),
        colour=int(item["colour"]["N"]),
        shape=int(item["shape"]["N"]),
        texture=int(item["texture"]["N"]),
        added_at=item["added_at"]["S"],
        image_key=item["image_key"]["S"],
    )


class DeltaLog:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @classmethod
    def from_settings(cls) -> DeltaLog:
        return cls(settings().need("visual_deltas_table"))

    def add(self, delta: Delta) -> None:
        """Log (or re-log: the newest image of an item wins) an indexed image."""
        self.ddb.put_item(TableName=self.table, Item=to_dynamodb(delta))

    def all(self) -> list[Delta]:
        found: list[Delta] = []
        request: dict[str, Any] = {"TableName": self.table}
        while True:
            page = self.ddb.scan(**request)
            found.extend(from_dynamodb(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def remove_folded(self, folded: Iterable[Delta]) -> int:
        """Remove entries a new index version holds; an entry re-logged since (newer `added_at`) stays."""
        removed = 0
        for delta in folded:
            try:
                self.ddb.delete_item(
                    TableName=self.table,
                    Key={"item_id": {"S": delta.item_id}},
                    ConditionExpression="added_at = :seen",
                    ExpressionAttributeValues={":seen": {"S": delta.added_at}},
                )
                removed += 1
            except Exception as exc:  # botocore's ClientError: only a refused condition is expected
                if not aws.is_conditional_check_failure(exc):
                    raise
        return removed
