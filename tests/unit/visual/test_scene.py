"""Scene suggestions: the documented table, and the photo's square crop."""

from __future__ import annotations

import numpy as np
from PIL import Image

from commerce_ai.visual.categories import CATEGORIES
from commerce_ai.visual.images import Decoded
from commerce_ai.visual.scene import SCENE_TABLE, read_scene
from commerce_ai.visual.service import scene_pixels

LABELS = [f"label-{i}" for i in range(1000)]


def _probabilities(**by_index: float) -> np.ndarray:
    p = np.full(1000, 1e-6, dtype=np.float32)
    for index, value in by_index.items():
        p[int(index.removeprefix("i"))] = value
    return p


def test_a_beach_suggests_sandals_tops_and_bags() -> None:
    labels, suggestions = read_scene(_probabilities(i978=0.6, i774=0.2), LABELS)
    assert labels[0].label == "label-978" and len(labels) == 5
    scores = {s.category: s.score for s in suggestions}
    assert abs(scores["Sandal"] - 0.8) < 1e-5
    assert {"T-shirt/top", "Bag"} <= set(scores)
    assert suggestions[0].category == "Sandal" and "beach" in " ".join(suggestions[0].because)


def test_an_office_suggests_office_wear() -> None:
    _, suggestions = read_scene(_probabilities(i526=0.5, i664=0.3), LABELS)
    assert {s.category for s in suggestions} == {"Shirt", "Trouser", "Bag"}


def test_a_label_outside_the_table_suggests_nothing() -> None:
    _, suggestions = read_scene(_probabilities(i1=0.9), LABELS)
    assert suggestions == []


def test_the_table_names_only_catalogue_categories() -> None:
    assert all(c in CATEGORIES for categories, _ in SCENE_TABLE.values() for c in categories)


def test_a_long_thin_photo_is_cropped_before_it_is_resized() -> None:
    image = Image.fromarray(np.zeros((2, 512, 3), dtype=np.uint8))
    assert scene_pixels(Decoded(image, "PNG", 512, 2, 1)).shape == (224, 224, 3)
