"""Safe image decoding: every hostile or odd body is a clear ImageProblem or a correct image, never a Pillow
exception or a blow-up; and the one pixel path that catalogue and query images share."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from commerce_ai.visual.images import (
    MAX_PIXELS,
    ImageProblem,
    catalogue_batch,
    catalogue_pixels,
    decode_image,
    grey,
    sniff_format,
)
from tests.support.visual import encoded


def _rgb(side: int = 40) -> np.ndarray:
    image = np.zeros((side, side, 3), dtype=np.uint8)
    image[10:30, 15:25] = (200, 30, 30)
    return image


@pytest.mark.parametrize("format", ["PNG", "JPEG", "WEBP"])
def test_jpeg_png_and_webp_decode_to_rgb(format: str) -> None:
    decoded = decode_image(encoded(_rgb(), format))
    assert (decoded.format, decoded.width, decoded.height, decoded.frames) == (format, 40, 40, 1)
    assert decoded.image.mode == "RGB"


def test_a_body_that_is_not_an_image_is_an_unsupported_type() -> None:
    with pytest.raises(ImageProblem, match="not a JPEG, PNG or WebP") as raised:
        decode_image(b'{"not": "an image"}')
    assert raised.value.unsupported_type


def test_an_empty_body_is_refused() -> None:
    with pytest.raises(ImageProblem, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize("format", ["PNG", "JPEG"])
def test_a_truncated_file_is_refused_clearly(format: str) -> None:
    data = encoded(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8), format)
    with pytest.raises(ImageProblem, match="cannot be decoded"):
        decode_image(data[: len(data) // 2])


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` x `height` (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _png_declaring(100_000, 100_000)
    assert len(bomb) < 200
    with pytest.raises(ImageProblem, match=r"too large|over the limit"):
        decode_image(bomb)


def test_dimensions_just_over_the_limit_are_refused_by_the_declared_size() -> None:
    with pytest.raises(ImageProblem, match=r"too large|over the limit"):
        decode_image(_png_declaring(5001, 5000), max_pixels=MAX_PIXELS)


def test_an_animated_image_is_read_at_its_first_frame() -> None:
    frames = [Image.fromarray(np.full((20, 20, 3), value, dtype=np.uint8)) for value in (250, 10, 120)]
    out = io.BytesIO()
    frames[0].save(out, format="WEBP", save_all=True, append_images=frames[1:], lossless=True)
    decoded = decode_image(out.getvalue())
    assert decoded.frames == 3
    assert np.asarray(decoded.image).mean() > 200  # the first, light frame


def test_a_cmyk_jpeg_is_converted_to_rgb() -> None:
    cmyk = Image.new("CMYK", (30, 30), (0, 255, 255, 0))  # no black, full magenta and yellow: red
    out = io.BytesIO()
    cmyk.save(out, format="JPEG")
    decoded = decode_image(out.getvalue())
    red, green, blue = np.asarray(decoded.image).reshape(-1, 3).mean(axis=0)
    assert decoded.image.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_transparency_is_laid_over_white() -> None:
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)  # fully transparent
    decoded = decode_image(encoded(rgba, "PNG"))
    assert np.asarray(decoded.image).min() == 255


def test_large_photos_are_reduced_before_any_descriptor() -> None:
    decoded = decode_image(encoded(np.zeros((1200, 900, 3), dtype=np.uint8), "JPEG"))
    assert max(decoded.image.size) <= 512 and (decoded.width, decoded.height) == (900, 1200)


def test_sniffing_reads_magic_bytes_not_names() -> None:
    assert sniff_format(encoded(_rgb(), "WEBP")) == "WEBP"
    assert sniff_format(b"GIF89a...") is None


def test_a_photo_on_white_is_negated_trimmed_and_centred_like_the_catalogue() -> None:
    photo = np.full((100, 60), 255, dtype=np.uint8)
    photo[10:90, 20:40] = 0  # a dark, tall product on white
    pixels = catalogue_pixels(photo)
    assert pixels.shape == (28, 28) and pixels.dtype == np.float32
    rows, cols = np.flatnonzero(pixels.max(axis=1) > 0.5), np.flatnonzero(pixels.max(axis=0) > 0.5)
    assert rows[-1] - rows[0] + 1 == 28  # the longest edge fills the frame
    assert abs((cols[0] + cols[-1]) / 2 - 13.5) <= 1  # centred
    assert pixels[0, 0] == 0  # background black, as Fashion-MNIST's


def test_the_batch_path_equals_the_single_image_path() -> None:
    rng = np.random.default_rng(3)
    images = np.zeros((20, 28, 28), dtype=np.uint8)
    for i in range(20):
        top, left = rng.integers(0, 8, 2)
        images[i, top : top + 20 - i % 5, left : left + 18] = rng.integers(60, 255)
    batch = catalogue_batch(images)
    for i in range(20):
        np.testing.assert_array_equal(batch[i, 0], catalogue_pixels(images[i]))


def test_grey_is_luma() -> None:
    image = Image.fromarray(np.full((2, 2, 3), (255, 0, 0), dtype=np.uint8))
    assert abs(int(grey(image)[0, 0]) - 76) <= 1
