"""A forecast chart as PNG without matplotlib (which is in no Lambda layer): history as a black line, the
p10-p90 band shaded, p50 as a blue line, a grey rule where the forecast starts, light grid lines at
round numbers of units. No text (no fonts): the JSON route has the numbers. Pure Python + zlib."""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence

WIDTH, HEIGHT, MARGIN = 720, 320, 16
WHITE, BLACK, BLUE, BAND, GREY, GRID = (
    (255, 255, 255),
    (20, 20, 20),
    (31, 119, 180),
    (187, 214, 236),
    (150, 150, 150),
    (235, 235, 235),
)


class Canvas:
    def __init__(self, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(WHITE * (width * height))

    def set(self, x: int, y: int, colour: tuple[int, int, int]) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            i = 3 * (y * self.width + x)
            self.pixels[i : i + 3] = bytes(colour)

    def vertical(self, x: int, y0: int, y1: int, colour: tuple[int, int, int]) -> None:
        for y in range(min(y0, y1), max(y0, y1) + 1):
            self.set(x, y, colour)

    def line(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(steps + 1):
            x = round(x0 + (x1 - x0) * i / steps)
            y = round(y0 + (y1 - y0) * i / steps)
            self.set(x, y, colour)
            self.set(x, y + 1, colour)

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[3 * y * self.width : 3 * (y + 1) * self.width]) for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
        )


def forecast_png(
    history: Sequence[float | None], p10: Sequence[float], p50: Sequence[float], p90: Sequence[float]
) -> bytes:
    """History then the forecast periods, left to right, on one shared y axis from 0."""
    canvas = Canvas()
    n_hist, n_fut = len(history), len(p50)
    total = max(n_hist + n_fut, 2)
    finite = [v for v in [*history, *p90] if v is not None and math.isfinite(v)]
    top = max(finite, default=1.0) * 1.05 or 1.0
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def px(i: float) -> int:
        return MARGIN + round(plot_w * i / (total - 1))

    def py(v: float) -> int:
        return HEIGHT - MARGIN - round(plot_h * max(0.0, min(v, top)) / top)

    step = 10 ** math.floor(math.log10(top)) if top > 0 else 1.0
    level = step
    while level < top:
        for x in range(MARGIN, WIDTH - MARGIN):
            canvas.set(x, py(level), GRID)
        level += step
    for i in range(n_fut):  # the band, column by column between forecast periods
        a, b = n_hist - 1 + i, n_hist + i
        lo0, hi0 = (p10[i - 1], p90[i - 1]) if i else (p10[0], p90[0])
        for x in range(px(max(a, 0)), px(b) + 1):
            t = (x - px(max(a, 0))) / max(px(b) - px(max(a, 0)), 1)
            canvas.vertical(x, py(lo0 + (p10[i] - lo0) * t), py(hi0 + (p90[i] - hi0) * t), BAND)
    canvas.vertical(px(max(n_hist - 1, 0)), MARGIN, HEIGHT - MARGIN, GREY)
    canvas.line(MARGIN, HEIGHT - MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN, GREY)

    past = [math.nan if v is None else float(v) for v in history]  # a period without a record breaks the line
    for i in range(1, n_hist):
        if math.isfinite(past[i - 1]) and math.isfinite(past[i]):
            canvas.line(px(i - 1), py(past[i - 1]), px(i), py(past[i]), BLACK)
    previous = (n_hist - 1, past[-1]) if n_hist and math.isfinite(past[-1]) else (n_hist, p50[0] if p50 else 0.0)
    for i in range(n_fut):
        canvas.line(px(previous[0]), py(previous[1]), px(n_hist + i), py(p50[i]), BLUE)
        previous = (n_hist + i, p50[i])
    return canvas.png()
