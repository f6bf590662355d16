"""Fashion-MNIST for visual search: the catalogue (60,000 train images) and the queries (10,000 test images).

Source: Zalando Research, https://github.com/zalandoresearch/fashion-mnist (Xiao, Rasul and Vollgraf,
"Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017),
MIT licence (Debian: Expat), as packaged in Debian's `dataset-fashion-mnist`. 28x28 greyscale product
images of ten clothing categories, light product on a black background. `fetch_fashion_mnist` gets the
package with `apt-get download` and `dpkg -x` into `data/cache/visual/` (git-ignored) and verifies each
file's sha256; nothing is downloaded at run time.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from commerce_ai.visual.categories import CATEGORIES
from model_build.debian import PackageDataError, cached, fetch_package_files

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "data" / "cache" / "visual"
PACKAGE = "dataset-fashion-mnist"
MEMBER_DIR = "usr/share/datasets/fashion-mnist"
FILES = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
ITEM_PREFIX = "fmnist-"


class DataError(RuntimeError):
    pass


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # uint8 [n, 28, 28], light product on black
    labels: np.ndarray  # int64 [n], index into CATEGORIES

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class FashionMnist:
    train: Split  # the catalogue: item `fmnist-<index>`
    test: Split  # the queries

    @staticmethod
    def item_id(index: int) -> str:
        return f"{ITEM_PREFIX}{index}"


def fetch_fashion_mnist(cache: Path = CACHE) -> Path:
    """The directory of the four verified idx files, fetched once from the Debian package."""
    try:
        return fetch_package_files(PACKAGE, MEMBER_DIR, FILES, cache)
    except PackageDataError as error:
        raise DataError(str(error)) from error


def _idx(path: Path, expected_dims: int) -> np.ndarray:
    """An idx file (big-endian header: magic, dimension sizes; then unsigned bytes)."""
    raw = gzip.decompress(path.read_bytes())
    dims = raw[3]
    if raw[2] != 0x08 or dims != expected_dims:
        raise DataError(f"{path.name} is not an idx file of unsigned bytes with {expected_dims} dimensions")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def read_fashion_mnist(directory: Path | None = None) -> FashionMnist:
    source = directory or fetch_fashion_mnist()
    if not cached(source, FILES):
        raise DataError(f"{source} does not hold the verified Fashion-MNIST files")

    def split(prefix: str) -> Split:
        images = _idx(source / f"{prefix}-images-idx3-ubyte.gz", 3)
        labels = _idx(source / f"{prefix}-labels-idx1-ubyte.gz", 1).astype(np.int64)
        if len(images) != len(labels) or labels.max() >= len(CATEGORIES):
            raise DataError(f"{prefix}: images and labels disagree")
        return Split(images, labels)

    return FashionMnist(train=split("train"), test=split("t10k"))
