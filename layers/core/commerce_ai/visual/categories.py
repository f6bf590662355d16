"""The catalogue's categories for visual search: Fashion-MNIST's ten classes, by their standard names."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
