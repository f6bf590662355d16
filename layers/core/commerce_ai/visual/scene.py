"""Scene suggestions: EfficientNet-Lite0's ImageNet labels of a photo, mapped to catalogue categories.

The ImageNet classifier is not retrained (`visual-scene`); what it recognises is mapped through `SCENE_TABLE`,
written for this catalogue (ten clothing categories): a garment the classifier names maps to its category,
and a scene to what one wears there. The catalogue has no office products, so an office (desk, monitor,
keyboard...) suggests office wear. A label not in the table suggests nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from commerce_ai.visual.categories import CATEGORIES

if TYPE_CHECKING:
    import numpy as np

SCENE_MODEL = "visual-scene"
SCENE_FILE = "scene.onnx"
LABELS_FILE = "labels.json"
SCENE_IMAGE = "image"
SCENE_PROBABILITIES = "probabilities"
SCENE_SIDE = 224
TOP_LABELS = 5
CONSIDERED = 10  # labels whose probability counts towards the suggested categories
MIN_CATEGORY_SCORE = 0.02

_OFFICE = ("Shirt", "Trouser", "Bag")
_BEACH = ("Sandal", "T-shirt/top", "Bag")
_COLD = ("Coat", "Pullover", "Ankle boot")
# ImageNet-1k class index -> (catalogue categories, why). Indices are the classifier's outputs (0..999).
SCENE_TABLE: dict[int, tuple[tuple[str, ...], str]] = {
    610: (("T-shirt/top",), "a T-shirt"),
    608: (("Trouser",), "jeans"),
    841: (("Pullover",), "a sweatshirt"),
    474: (("Pullover",), "a cardigan"),
    578: (("Dress",), "a gown"),
    655: (("Dress",), "a miniskirt"),
    601: (("Dress",), "a hoop skirt"),
    614: (("Dress",), "a kimono"),
    869: (("Coat",), "a trench coat"),
    568: (("Coat",), "a fur coat"),
    617: (("Coat",), "a lab coat"),
    834: (("Coat", "Shirt", "Trouser"), "a suit"),
    697: (("Shirt", "Trouser"), "pyjamas"),
    774: (("Sandal",), "a sandal"),
    502: (("Sandal",), "clogs"),
    770: (("Sneaker",), "a running shoe"),
    630: (("Sneaker",), "a slip-on shoe"),
    514: (("Ankle boot",), "a boot"),
    414: (("Bag",), "a backpack"),
    748: (("Bag",), "a purse"),
    636: (("Bag",), "a messenger bag"),
    842: (_BEACH, "swim shorts: a beach outfit"),
    445: (_BEACH, "a bikini: a beach outfit"),
    978: (_BEACH, "a beach"),
    970: (_COLD, "mountains: cold weather"),
    795: (_COLD, "skis: cold weather"),
    894: (("Dress", "Shirt", "Coat"), "a wardrobe"),
    788: (("Sneaker", "Sandal", "Ankle boot"), "a shoe shop"),
    526: (_OFFICE, "a desk: office wear"),
    527: (_OFFICE, "a desktop computer: office wear"),
    664: (_OFFICE, "a monitor: office wear"),
    782: (_OFFICE, "a monitor: office wear"),
    508: (_OFFICE, "a keyboard: office wear"),
    673: (_OFFICE, "a computer mouse: office wear"),
    681: (_OFFICE, "a laptop: office wear"),
}
assert all(c in CATEGORIES for cats, _ in SCENE_TABLE.values() for c in cats), "SCENE_TABLE names a category"


@dataclass(frozen=True)
class SceneLabel:
    label: str
    probability: float


@dataclass(frozen=True)
class Suggestion:
    category: str
    score: float
    because: list[str]


def scene_input(rgb: np.ndarray) -> np.ndarray:
    """uint8 [224, 224, 3] -> the classifier's float32 [1, 3, 224, 224] (0..255; the graph normalises)."""
    import numpy as np

    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None].astype(np.float32))


def read_scene(probabilities: np.ndarray, labels: list[str]) -> tuple[list[SceneLabel], list[Suggestion]]:
    """The top labels, and the categories the table maps the most probable labels to (score: the summed
    probability of the labels that suggest it)."""
    import numpy as np

    order = np.argsort(-probabilities)
    top = [SceneLabel(labels[i], round(float(probabilities[i]), 6)) for i in order[:TOP_LABELS]]
    scores: dict[str, float] = {}
    reasons: dict[str, list[str]] = {}
    for i in order[:CONSIDERED]:
        mapped = SCENE_TABLE.get(int(i))
        if mapped is None:
            continue
        categories, why = mapped
        for category in categories:
            scores[category] = scores.get(category, 0.0) + float(probabilities[i])
            reasons.setdefault(category, []).append(f"{labels[i]} ({why})")
    suggestions = [
        Suggestion(category, round(score, 6), reasons[category])
        for category, score in sorted(scores.items(), key=lambda kv: -kv[1])
        if score >= MIN_CATEGORY_SCORE
    ]
    return top, suggestions
