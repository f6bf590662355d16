"""Safe image decoding, and the one pixel path that training and serving share.

Decoding refuses, before any pixel is decoded: a body that is not JPEG, PNG or WebP (by its magic bytes,
not its Content-Type), and declared dimensions over `MAX_PIXELS` (a decompression bomb: a few KB of PNG can
declare 100,000 x 100,000 pixels). A truncated file, or one Pillow cannot read, is a clear `ImageProblem`.
An animated image is read at its first frame; CMYK, palette, grey and alpha images are converted to RGB (alpha
over white, as a product photo's background).

`catalogue_pixels` turns any product image into what the catalogue's images are: Fashion-MNIST's own recipe
(Xiao et al. 2017: trim, longest edge to 28, centre on 28x28, negate to a light product on black), so an
uploaded photo on a white background and a catalogue image go through the same code before the embedder.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


SIDE = 28
MAX_PIXELS = 25_000_000  # 5000 x 5000: an 8-bit RGB frame of 75 MB at most, far under the function's memory
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))
WORKING_SIDE = 512  # large photos are reduced to this before any descriptor: enough for 28 px and colours


class ImageProblem(ValueError):
    """The bytes are not an image this API reads; the message says why (a 400 or 415 to the client)."""

    def __init__(self, message: str, unsupported_type: bool = False) -> None:
        super().__init__(message)
        self.unsupported_type = unsupported_type


@dataclass(frozen=True)
class Decoded:
    image: Image.Image  # RGB, at most WORKING_SIDE on its longest edge
    format: str  # JPEG, PNG or WEBP
    width: int  # as declared by the file
    height: int
    frames: int  # > 1 for an animated image (the first frame is read)


def sniff_format(data: bytes) -> str | None:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> Decoded:
    """The image in `data` as RGB, or an `ImageProblem` naming what is wrong (never a Pillow exception)."""
    from PIL import Image

    if not data:
        raise ImageProblem("the body is empty: send a JPEG, PNG or WebP image")
    # Decompression bombs: Pillow raises DecompressionBombError over twice this and warns over it; the
    # declared size is checked below before any pixel is decoded, so this is a second fence.
    Image.MAX_IMAGE_PIXELS = max_pixels
    kind = sniff_format(data)
    if kind is None:
        raise ImageProblem("the body is not a JPEG, PNG or WebP image", unsupported_type=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])  # reads the header only
            width, height = image.size
            if width <= 0 or height <= 0 or width * height > max_pixels:
                raise ImageProblem(f"the image declares {width}x{height} pixels, over the limit of {max_pixels}")
            frames = int(getattr(image, "n_frames", 1) or 1)
            if frames > 1:
                image.seek(0)
            if kind == "JPEG":
                image.draft("RGB", (WORKING_SIDE, WORKING_SIDE))  # decode JPEG at a reduced scale: less memory
            image.load()
            rgb = _to_rgb(image)
    except ImageProblem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageProblem(f"the image is too large to decode safely: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        # Pillow reports a truncated or corrupt file as OSError ("image file is truncated"), SyntaxError
        # (a broken PNG chunk) or ValueError; the client gets one clear message.
        raise ImageProblem(f"the {kind} image cannot be decoded (truncated or corrupt): {exc}") from exc
    rgb.thumbnail((WORKING_SIDE, WORKING_SIDE))
    return Decoded(rgb, kind, width, height, frames)


def _to_rgb(image: Image.Image) -> Image.Image:
    import numpy as np
    from PIL import Image

    if image.mode == "RGB":
        return image.copy()
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode == "CMYK":
        return image.convert("RGB")  # Pillow undoes Adobe's inverted CMYK JPEGs itself
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        scaled = np.asarray(image, dtype=np.float64)
        top = scaled.max() or 1.0
        return Image.fromarray((scaled / top * 255).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def grey(image: Image.Image) -> np.ndarray:
    """ITU-R 601 luma, uint8 [h, w]."""
    import numpy as np

    return np.asarray(image.convert("L"), dtype=np.uint8)


def product_mask(grey_pixels: np.ndarray) -> tuple[np.ndarray, bool]:
    """(foreground mask, inverted): the background is the border's median; a light background (a product
    photo) means the product is darker, so the image is negated to Fashion-MNIST's light-on-black."""
    import numpy as np

    border = np.concatenate([grey_pixels[0], grey_pixels[-1], grey_pixels[:, 0], grey_pixels[:, -1]])
    background = float(np.median(border))
    inverted = background > 127
    distance = np.abs(grey_pixels.astype(np.int16) - int(background))
    return distance > 24, inverted


def catalogue_pixels(grey_pixels: np.ndarray) -> np.ndarray:
    """Any greyscale product image (uint8 [h, w]) as the embedder's input: float32 [28, 28] in [0, 1], the
    product light on black, trimmed to its extent, longest edge 28, centred (Fashion-MNIST's recipe)."""
    import numpy as np
    from PIL import Image

    if grey_pixels.ndim != 2 or min(grey_pixels.shape) == 0:
        raise ImageProblem("the image has no pixels")
    mask, inverted = product_mask(grey_pixels)
    light = 255 - grey_pixels if inverted else grey_pixels
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) and len(cols):
        light = light[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = light.shape
    if max(height, width) == SIDE:  # already 28 on its longest edge (most catalogue images): only centred
        resized, size = light, (width, height)
    else:
        scale = SIDE / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resized = np.asarray(Image.fromarray(np.ascontiguousarray(light)).resize(size, Image.Resampling.LANCZOS))
    canvas = np.zeros((SIDE, SIDE), dtype=np.uint8)
    top, left = (SIDE - size[1]) // 2, (SIDE - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = resized
    return canvas.astype(np.float32) / 255.0


def catalogue_batch(images: np.ndarray) -> np.ndarray:
    """A batch of uint8 [n, h, w] images as the embedder's input float32 [n, 1, 28, 28]: `catalogue_pixels`
    of each, with the background and extent found for the whole batch at once (a unit test holds the two
    equal); only images not already 28 on their longest edge go through the resize one by one."""
    import numpy as np

    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
    background = np.median(border, axis=1)
    inverted = background > 127
    light = np.where(inverted[:, None, None], 255 - images, images)
    mask = np.abs(images.astype(np.int16) - background.astype(np.int16)[:, None, None]) > 24
    rows_any, cols_any = mask.any(axis=2), mask.any(axis=1)
    out = np.zeros((len(images), 1, SIDE, SIDE), dtype=np.float32)
    for i in range(len(images)):
        rows, cols = np.flatnonzero(rows_any[i]), np.flatnonzero(cols_any[i])
        if len(rows) == 0 or len(cols) == 0:
            out[i, 0] = catalogue_pixels(images[i])
            continue
        height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
        if max(height, width) != SIDE:
            out[i, 0] = catalogue_pixels(images[i])
            continue
        top, left = (SIDE - height) // 2, (SIDE - width) // 2
        crop = light[i, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        out[i, 0, top : top + height, left : left + width] = crop / np.float32(255.0)
    return out
