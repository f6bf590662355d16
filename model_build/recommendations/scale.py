"""One candidate-model fit at the shop's catalogue size: MovieLens-100k plus visual search's 60,000 items.

`make run` seeds visual search's Fashion-MNIST items into the one catalogue (`model_build.visual.seeding`),
so a retrain that reads the catalogue (the daily `RecommendationsRetrainFunction`, `commerce-ai train
recommendations`) fits on about 61,700 items, nearly all of them untouched, each with a 64-d image vector
from the active `visual-index`. This builds the same item set without a stack: MovieLens' interactions and
items, and the 60,000 items with the seed's titles and categories (`fashion_items`). The image vectors stand
in for visual search's: unit vectors clustered by category (a fixed seed), the same shape and density, so
the timing is the one the retrain meets; what they say about the items is not measured here.

    python -m model_build.recommendations.scale [--items 60000]

prints the fit's wall and CPU seconds, its content-neighbour step apart, and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from model_build.recommendations.data import Dataset, read_movielens
from model_build.recommendations.images import ImageVectors

IMAGE_DIMENSIONS = 64


def _fashion_labels(count: int) -> np.ndarray:
    from model_build.visual.data import read_fashion_mnist

    return read_fashion_mnist().train.labels[:count]


def catalogue_dataset(fashion_items: int = 60_000, seed: int = 0) -> Dataset:
    """MovieLens-100k with visual search's seeded items (titles and categories as `make run` seeds them)
    added to its items, and category-clustered 64-d image vectors for them."""
    from model_build.visual.data import FashionMnist
    from model_build.visual.seeding import fashion_items as seeded

    movielens = read_movielens()
    labels = _fashion_labels(fashion_items)
    data = FashionMnist(train=_LabelsOnly(labels), test=_LabelsOnly(labels[:0]))  # type: ignore[arg-type]
    catalogue = seeded(data, datetime.now(UTC))
    extra = pd.DataFrame(
        {
            "item_id": [item.item_id for item in catalogue],
            "title": [item.title for item in catalogue],
            "categories": [[item.category] for item in catalogue],
        }
    )
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(int(labels.max()) + 1, IMAGE_DIMENSIONS))
    vectors = centres[labels] + 0.7 * rng.normal(size=(len(labels), IMAGE_DIMENSIONS))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    items = pd.concat([movielens.items, extra], ignore_index=True)
    images = ImageVectors(list(extra["item_id"]), vectors, "synthetic")
    return Dataset(movielens.interactions, items, movielens.users, f"{movielens.source} and 60k seeded", images)


class _LabelsOnly:
    """What `fashion_items` reads of a split: its labels (the titles need no pixels)."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels

    def __len__(self) -> int:
        return len(self.labels)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    from commerce_ai.recommendations import content
    from model_build.recommendations.fitting import fit_state

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60_000, help="visual search's seeded items to add")
    args = parser.parse_args(argv)
    dataset = catalogue_dataset(args.items)
    print(f"items: {len(dataset.items)}, interactions: {len(dataset.interactions)}; load {os.getloadavg()}")

    timed: dict[str, float] = {"wall": 0.0, "cpu": 0.0}
    real = content.top_similar

    def top_similar(*args: object, **kwargs: object) -> object:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        timed["wall"] += time.perf_counter() - wall
        timed["cpu"] += _cpu_seconds() - cpu
        return found

    import model_build.recommendations.fitting as fitting

    fitting.top_similar = top_similar  # type: ignore[assignment]
    wall, cpu = time.perf_counter(), _cpu_seconds()
    state = fit_state(dataset, dataset.interactions)
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    print(
        f"fit_state: {wall:.1f} s wall, {cpu:.1f} s CPU; content neighbours: {timed['wall']:.1f} s wall, "
        f"{timed['cpu']:.1f} s CPU; {state.n_items} items, vocabulary {len(state.title_vocabulary)} words; "
        f"load average after {os.getloadavg()}"
    )


if __name__ == "__main__":
    main()
