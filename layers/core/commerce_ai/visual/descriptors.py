"""Colour, shape and texture descriptors of a product image, in numpy (no scikit-image), and the named
values the API filters on. Computed by one code path for the catalogue (at build and at upload) and for a
query photo.

- **Colour**: each product pixel's hue, saturation and value (HSV, a perceptual space) is named with the
  table `NAMED_COLOURS` below; the item's colour is the name that covers most of the product, and its
  colour histogram is the share of each name.
- **Shape**: the product's aspect ratio (height / width of its extent) named `tall` (> 1.25), `wide`
  (< 0.8) or `square`, plus its 7 Hu moments (log-scaled; invariant to position, scale and rotation).
- **Texture**: local binary patterns (8 neighbours at radius 1, rotation-invariant uniform codes, 10 bins)
  over the product; `patterned` when under `PLAIN_SHARE` (30%) of the product's pixels are flat (every neighbour
  within `LBP_TOLERANCE` grey levels of the centre or above it), else `plain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from commerce_ai.visual.images import catalogue_batch, catalogue_pixels

if TYPE_CHECKING:
    import numpy as np

# Named colours: hue ranges in degrees for saturated pixels; black, white and grey by value/saturation.
CHROMATIC: tuple[tuple[str, float, float], ...] = (
    ("red", 345.0, 15.0),  # wraps around 0
    ("orange", 15.0, 40.0),
    ("yellow", 40.0, 70.0),
    ("green", 70.0, 170.0),
    ("blue", 170.0, 255.0),
    ("purple", 255.0, 290.0),
    ("pink", 290.0, 345.0),
)
COLOURS: tuple[str, ...] = (*(name for name, _, _ in CHROMATIC), "white", "grey", "black")
SHAPES: tuple[str, ...] = ("tall", "square", "wide")
TEXTURES: tuple[str, ...] = ("plain", "patterned")
SATURATED = 0.25  # below: achromatic
DARK = 0.2  # value below: black
LIGHT = 0.8  # value above (and unsaturated): white
TALL, WIDE = 1.25, 0.8
LBP_TOLERANCE = 8
PLAIN_SHARE = 0.3
LBP_BINS = 10
HU_MOMENTS = 7


@dataclass(frozen=True)
class Descriptors:
    colour: str
    colour_histogram: np.ndarray  # float32 [len(COLOURS)], shares of the product's pixels
    shape: str
    aspect_ratio: float
    hu_moments: np.ndarray  # float32 [7]
    texture: str
    lbp_histogram: np.ndarray  # float32 [10]


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """uint8 [..., 3] RGB to float [..., 3] HSV: hue in degrees [0, 360), saturation and value in [0, 1]."""
    import numpy as np

    x = rgb.astype(np.float32) / 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    top, bottom = x.max(axis=-1), x.min(axis=-1)
    span = top - bottom
    safe = np.where(span == 0, 1.0, span)
    hue = np.where(top == r, ((g - b) / safe) % 6.0, np.where(top == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    hue = np.where(span == 0, 0.0, hue * 60.0) % 360.0
    saturation = np.where(top == 0, 0.0, span / np.where(top == 0, 1.0, top))
    return np.stack([hue, saturation, top], axis=-1)


def colour_names(hsv: np.ndarray) -> np.ndarray:
    """The index into COLOURS of each pixel's named colour."""
    import numpy as np

    hue, saturation, value = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    names = np.full(hue.shape, COLOURS.index("grey"), dtype=np.int64)
    for index, (_, start, end) in enumerate(CHROMATIC):
        inside = (hue >= start) | (hue < end) if start > end else (hue >= start) & (hue < end)
        names = np.where(inside & (saturation >= SATURATED), index, names)
    achromatic = saturation < SATURATED
    names = np.where(achromatic & (value >= LIGHT), COLOURS.index("white"), names)
    return np.where(value < DARK, COLOURS.index("black"), names)


def colour_histograms(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """float32 [n, len(COLOURS)]: each image's share of product pixels (`mask` [n, h, w]) per named colour."""
    import numpy as np

    image_of, rows, cols = np.nonzero(mask)
    names = colour_names(rgb_to_hsv(rgb[image_of, rows, cols]))
    return _shares(image_of, names, len(mask), len(COLOURS))


def _shares(image_of: np.ndarray, codes: np.ndarray, images: int, bins: int) -> np.ndarray:
    import numpy as np

    counts = np.bincount(image_of * bins + codes, minlength=images * bins).reshape(images, bins)
    counts = counts.astype(np.float32)
    return counts / np.maximum(1.0, counts.sum(axis=1, keepdims=True))


def dominant_colours(histograms: np.ndarray) -> np.ndarray:
    """Index into COLOURS of each row's most common named colour, ignoring black when anything else covers
    a fifth of the product (dark shading and seams are black in most photos of coloured products)."""
    import numpy as np

    shares = histograms.copy()
    black = COLOURS.index("black")
    shares[:, black] = np.where(shares.sum(axis=1) - shares[:, black] >= 0.2, 0.0, shares[:, black])
    return np.argmax(shares, axis=1)


def hu_moments(mask: np.ndarray) -> np.ndarray:
    """The 7 Hu moment invariants of a binary shape, log-scaled (sign kept) so they are comparable."""
    import numpy as np

    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return np.zeros(HU_MOMENTS, dtype=np.float32)
    x, y = xs - xs.mean(), ys - ys.mean()
    m00 = float(len(xs))

    def eta(p: int, q: int) -> float:
        import numpy as np

        return float(np.sum(x**p * y**q)) / m00 ** (1 + (p + q) / 2)

    n20, n02, n11 = eta(2, 0), eta(0, 2), eta(1, 1)
    n30, n03, n21, n12 = eta(3, 0), eta(0, 3), eta(2, 1), eta(1, 2)
    a, b = n30 + n12, n21 + n03
    hu = np.array(
        [
            n20 + n02,
            (n20 - n02) ** 2 + 4 * n11**2,
            (n30 - 3 * n12) ** 2 + (3 * n21 - n03) ** 2,
            a**2 + b**2,
            (n30 - 3 * n12) * a * (a**2 - 3 * b**2) + (3 * n21 - n03) * b * (3 * a**2 - b**2),
            (n20 - n02) * (a**2 - b**2) + 4 * n11 * a * b,
            (3 * n21 - n03) * a * (a**2 - 3 * b**2) - (n30 - 3 * n12) * b * (3 * a**2 - b**2),
        ]
    )
    return (-np.sign(hu) * np.log10(np.abs(hu) + 1e-30)).astype(np.float32)


def aspect_ratios(mask: np.ndarray) -> np.ndarray:
    """height / width of each mask's extent ([n, h, w] -> [n]); 1 for an empty mask."""
    import numpy as np

    rows: np.ndarray = np.any(mask, axis=2)
    cols: np.ndarray = np.any(mask, axis=1)
    h, w = mask.shape[1:]
    height = h - np.argmax(rows[:, ::-1], axis=1) - np.argmax(rows, axis=1)
    width = w - np.argmax(cols[:, ::-1], axis=1) - np.argmax(cols, axis=1)
    empty = ~np.any(rows, axis=1)
    return np.where(empty, 1.0, height / np.maximum(width, 1)).astype(np.float32)


def shape_codes(ratios: np.ndarray) -> np.ndarray:
    """Index into SHAPES: tall over TALL, wide under WIDE, else square."""
    import numpy as np

    return np.where(ratios > TALL, SHAPES.index("tall"), np.where(ratios < WIDE, SHAPES.index("wide"), 1))


def lbp_codes(grey_pixels: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform LBP (P=8, R=1) of the interior pixels of [..., h, w]: 0..8 for the uniform
    patterns (the number of neighbours at least as bright as the centre less `LBP_TOLERANCE`), 9 for others."""
    import numpy as np

    g = grey_pixels.astype(np.int16)
    h, w = g.shape[-2:]
    centre = g[..., 1:-1, 1:-1]
    offsets = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))  # in circular order
    bits = np.stack(
        [g[..., 1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] >= centre - LBP_TOLERANCE for dy, dx in offsets]
    ).astype(np.int16)
    transitions = np.sum(bits != np.roll(bits, 1, axis=0), axis=0)
    return np.where(transitions <= 2, bits.sum(axis=0), 9)


def lbp_histograms(grey_pixels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """float32 [n, LBP_BINS]: each image's share of product pixels per LBP code."""
    import numpy as np

    codes = lbp_codes(grey_pixels)
    image_of, rows, cols = np.nonzero(mask[:, 1:-1, 1:-1])
    return _shares(image_of, codes[image_of, rows, cols], len(mask), LBP_BINS)


def texture_codes(histograms: np.ndarray) -> np.ndarray:
    """Index into TEXTURES: plain when at least PLAIN_SHARE of the product is flat (LBP code 8)."""
    import numpy as np

    plain = (histograms.sum(axis=1) == 0) | (histograms[:, 8] >= PLAIN_SHARE)
    return np.where(plain, TEXTURES.index("plain"), TEXTURES.index("patterned"))


@dataclass(frozen=True)
class BatchDescriptors:
    colours: np.ndarray  # int [n], into COLOURS
    colour_histograms: np.ndarray  # float32 [n, len(COLOURS)]
    shapes: np.ndarray  # int [n], into SHAPES
    aspect_ratios: np.ndarray  # float32 [n]
    textures: np.ndarray  # int [n], into TEXTURES
    lbp_histograms: np.ndarray  # float32 [n, LBP_BINS]

    def codes(self) -> dict[str, np.ndarray]:
        return {"colour": self.colours, "shape": self.shapes, "texture": self.textures}


def describe_batch(rgb: np.ndarray) -> BatchDescriptors:
    """Colour, shape and texture of product images of one size (uint8 [n, h, w, 3]). The product is found as
    `catalogue_pixels` finds it (the border's median is the background); shape and texture are read on the
    canonical 28x28 image the embedder sees, so a photo and a catalogue image are measured alike."""
    import numpy as np

    grey_pixels = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.uint8)
    border = np.concatenate(
        [grey_pixels[:, 0], grey_pixels[:, -1], grey_pixels[:, :, 0], grey_pixels[:, :, -1]], axis=1
    )
    background = np.median(border, axis=1).astype(np.int16)
    mask = np.abs(grey_pixels.astype(np.int16) - background[:, None, None]) > 24
    empty = ~mask.any(axis=(1, 2))
    mask[empty] = True
    colours = colour_histograms(rgb, mask)
    canonical = catalogue_batch(grey_pixels)[:, 0]
    shape_mask = canonical > 0.1
    ratios = aspect_ratios(mask)
    lbp = lbp_histograms((canonical * 255).astype(np.uint8), shape_mask)
    return BatchDescriptors(
        colours=dominant_colours(colours),
        colour_histograms=colours,
        shapes=shape_codes(ratios),
        aspect_ratios=ratios,
        textures=texture_codes(lbp),
        lbp_histograms=lbp,
    )


def describe(rgb: np.ndarray) -> Descriptors:
    """All three descriptors of one product image (uint8 [h, w, 3]), with its Hu moments."""
    import numpy as np

    batch = describe_batch(rgb[None])
    grey_pixels = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.uint8)
    shape_mask = catalogue_pixels(grey_pixels) > 0.1
    return Descriptors(
        colour=COLOURS[int(batch.colours[0])],
        colour_histogram=batch.colour_histograms[0],
        shape=SHAPES[int(batch.shapes[0])],
        aspect_ratio=float(batch.aspect_ratios[0]),
        hu_moments=hu_moments(shape_mask),
        texture=TEXTURES[int(batch.textures[0])],
        lbp_histogram=batch.lbp_histograms[0],
    )
