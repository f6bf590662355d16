"""The colourised Fashion-MNIST: Fashion-MNIST is greyscale, so colour and pattern are given to each item
by a documented rule, which is the ground truth the colour and texture filters are tested against.

Item i (train or test split, by its index in the split):
- its colour is `TINTS[i % len(TINTS)]` (name and RGB);
- it is striped when `i % 3 == 0`: every other pair of rows is shaded to 45%, a pattern;
- a pixel of grey intensity g (0..1, the product light on black) becomes `tint * (0.4 + 0.6 g)` where
  g > 0.05 (the product, shaded by its own greys), black elsewhere (Fashion-MNIST's background).

The shapes and embeddings of the catalogue come from the real greyscale images; only the catalogue's colour
and texture descriptors come from this variant, and README says so.
"""

from __future__ import annotations

import numpy as np

TINTS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("red", (210, 30, 35)),
    ("orange", (235, 130, 20)),
    ("yellow", (230, 210, 40)),
    ("green", (40, 150, 60)),
    ("blue", (35, 75, 210)),
    ("purple", (125, 45, 175)),
    ("pink", (235, 110, 175)),
    ("white", (240, 240, 240)),
)
STRIPE_EVERY = 3
STRIPE_SHADE = 0.45


def tint_of(index: int) -> tuple[str, tuple[int, int, int]]:
    return TINTS[index % len(TINTS)]


def striped(index: int) -> bool:
    return index % STRIPE_EVERY == 0


def colourise(grey_image: np.ndarray, index: int) -> np.ndarray:
    """uint8 [28, 28] greyscale item -> uint8 [28, 28, 3] coloured item (see the module docstring)."""
    return colourise_batch(grey_image[None], np.array([index]))[0]


def colourise_batch(grey_images: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """`colourise` of every image (uint8 [n, h, w]) with its index, at once."""
    g = grey_images.astype(np.float32) / 255.0
    tints = np.array([rgb for _, rgb in TINTS], dtype=np.float32)[indices % len(TINTS)]  # [n, 3]
    shade = 0.4 + 0.6 * g
    rows = (np.arange(g.shape[1]) // 2) % 2 == 1
    stripes = (indices % STRIPE_EVERY == 0)[:, None] & rows[None, :]  # [n, h]
    shade = np.where(stripes[:, :, None], shade * STRIPE_SHADE, shade)
    coloured = tints[:, None, None, :] * shade[..., None]
    return np.where((g > 0.05)[..., None], coloured, 0.0).round().astype(np.uint8)
