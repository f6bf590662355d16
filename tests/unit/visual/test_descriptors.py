"""Colour, shape and texture descriptors against known cases, and the colourised Fashion-MNIST's rule."""

from __future__ import annotations

import numpy as np
import pytest

from commerce_ai.visual.descriptors import COLOURS, describe, describe_batch, hu_moments, rgb_to_hsv
from model_build.visual.colourise import TINTS, colourise, striped, tint_of


def _product(colour: tuple[int, int, int], height: int = 20, width: int = 12, side: int = 28) -> np.ndarray:
    image = np.zeros((side, side, 3), dtype=np.uint8)
    top, left = (side - height) // 2, (side - width) // 2
    image[top : top + height, left : left + width] = colour
    return image


@pytest.mark.parametrize(("name", "rgb"), [(n, c) for n, c in TINTS])
def test_each_named_tint_is_read_back_as_its_name(name: str, rgb: tuple[int, int, int]) -> None:
    assert describe(_product(rgb)).colour == name


@pytest.mark.parametrize(
    ("rgb", "name"), [((10, 10, 10), "black"), ((128, 128, 128), "grey"), ((120, 20, 200), "purple")]
)
def test_achromatic_and_dark_colours(rgb: tuple[int, int, int], name: str) -> None:
    background_white = np.full((28, 28, 3), 255, dtype=np.uint8)
    background_white[5:23, 8:20] = rgb
    assert describe(background_white).colour == name


def test_hsv_matches_the_textbook() -> None:
    hsv = rgb_to_hsv(np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]], dtype=np.uint8))
    np.testing.assert_allclose(hsv[:, 0], [0, 120, 240, 0], atol=1e-4)
    np.testing.assert_allclose(hsv[:, 1], [1, 1, 1, 0], atol=1e-6)


@pytest.mark.parametrize(("height", "width", "shape"), [(24, 8, "tall"), (10, 24, "wide"), (20, 20, "square")])
def test_shape_by_aspect_ratio(height: int, width: int, shape: str) -> None:
    assert describe(_product((200, 200, 200), height, width)).shape == shape


def test_hu_moments_ignore_position_and_scale() -> None:
    small = np.zeros((60, 60), dtype=bool)
    small[5:15, 5:25] = True
    large = np.zeros((60, 60), dtype=bool)
    large[30:50, 10:50] = True
    np.testing.assert_allclose(hu_moments(small)[:2], hu_moments(large)[:2], rtol=0.05)


def test_stripes_are_patterned_and_a_flat_product_is_plain() -> None:
    flat = _product((200, 200, 200), 24, 20)
    striped_image = flat.copy()
    striped_image[::4] = striped_image[::4] // 3
    striped_image[1::4] = striped_image[1::4] // 3
    assert describe(flat).texture == "plain"
    assert describe(striped_image).texture == "patterned"


def test_the_colourised_variant_follows_its_documented_rule() -> None:
    item = np.zeros((28, 28), dtype=np.uint8)
    item[4:24, 8:20] = 255
    coloured = colourise(item, 4)
    assert tint_of(4)[0] == "blue" and not striped(4)
    assert tuple(coloured[10, 10]) == TINTS[4][1] and tuple(coloured[0, 0]) == (0, 0, 0)
    assert striped(3) and coloured.shape == (28, 28, 3)


def test_the_batch_and_single_descriptors_agree() -> None:
    images = np.stack([_product(c, 10 + i, 20 - i) for i, (_, c) in enumerate(TINTS)])
    batch = describe_batch(images)
    for i, image in enumerate(images):
        one = describe(image)
        assert (COLOURS[int(batch.colours[i])], one.shape) == (one.colour, ["tall", "square", "wide"][batch.shapes[i]])
