"""`visual-index`: the catalogue's embeddings in a compressed faiss index, re-ranked exactly, with the
embedder that made them, as one artifact version (framework `faiss`), so the index and the model that
embeds a query never disagree.

Files of a version:
- `index.faiss` (the entrypoint): IVF-PQ over the L2-normalised embeddings, inner product. In memory.
- `vectors.npy`: the same embeddings in float32, memory-mapped, read only for the short list's exact
  re-ranking (so the in-memory part stays the compressed codes).
- `items.json`: per position, the item id and category; and the index settings and build time.
- `descriptors.npz`: per position, the colour, shape and texture codes (`commerce_ai.visual.descriptors`).
- `embedder.onnx`: `pixels` float32 [n, 1, 28, 28] -> `embedding` [n, d] (L2-normalised) and
  `category_logits` [n, 10].
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


MODEL_NAME = "visual-index"
INDEX_FILE = "index.faiss"
VECTORS_FILE = "vectors.npy"
ITEMS_FILE = "items.json"
DESCRIPTORS_FILE = "descriptors.npz"
EMBEDDER_FILE = "embedder.onnx"
PIXELS = "pixels"
EMBEDDING = "embedding"
LOGITS = "category_logits"
DESCRIPTOR_CODES = ("colour", "shape", "texture")


@dataclass(frozen=True)
class IndexSettings:
    """IVF-PQ: `nlist` coarse cells, `m` sub-quantizers of `nbits` bits; `nprobe` cells searched per query;
    the best `rerank` PQ candidates re-ranked exactly. The shipped values are justified in reports/visual.md."""

    nlist: int = 256
    m: int = 16
    nbits: int = 8
    nprobe: int = 16
    rerank: int = 1000  # the short list; chosen on validation queries at 100,000 items (README "Index")


@dataclass
class Entries:
    """What the index knows of each position besides its vector."""

    item_ids: list[str]
    categories: list[str]
    codes: dict[str, np.ndarray] = field(default_factory=dict)  # colour/shape/texture -> int8 [n]

    def __len__(self) -> int:
        return len(self.item_ids)


def build_ivfpq(vectors: np.ndarray, settings: IndexSettings, seed: int = 7) -> Any:
    """A trained, filled IVF-PQ index over `vectors` (float32 [n, d], L2-normalised)."""
    import faiss
    import numpy as np

    n, d = vectors.shape
    quantizer = faiss.IndexFlatIP(d)
    index: Any = faiss.IndexIVFPQ(quantizer, d, settings.nlist, settings.m, settings.nbits, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    index.pq.cp.seed = seed
    sample = np.random.default_rng(seed).permutation(n)[: min(n, 64 * max(settings.nlist, 2**settings.nbits))]
    index.train(np.ascontiguousarray(vectors[sample]))
    index.add(np.ascontiguousarray(vectors))
    index.nprobe = settings.nprobe
    return index


def refill(index: Any, vectors: np.ndarray) -> Any:
    """A copy of a trained index holding `vectors` instead (the rebuild: no retraining of the quantizers)."""
    import faiss
    import numpy as np

    copy: Any = faiss.clone_index(index)
    copy.reset()
    copy.add(np.ascontiguousarray(vectors, dtype=np.float32))
    copy.nprobe = index.nprobe
    return copy


def save(
    directory: Path,
    index: Any,
    vectors: np.ndarray,
    entries: Entries,
    settings: IndexSettings,
    built_at: str,
    embedder: bytes,
) -> None:
    import faiss
    import numpy as np

    directory.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(directory / INDEX_FILE))
    np.save(directory / VECTORS_FILE, np.ascontiguousarray(vectors, dtype=np.float32))
    body = {
        "item_ids": entries.item_ids,
        "categories": entries.categories,
        "settings": asdict(settings),
        "built_at": built_at,
    }
    (directory / ITEMS_FILE).write_text(json.dumps(body))
    codes: dict[str, Any] = {k: entries.codes[k].astype(np.int8) for k in DESCRIPTOR_CODES}
    np.savez(directory / DESCRIPTORS_FILE, **codes)
    (directory / EMBEDDER_FILE).write_bytes(embedder)


@dataclass
class VisualIndex:
    """An opened `visual-index` version: embed a query, search the index, re-rank exactly."""

    index: Any
    vectors: np.ndarray  # memory-mapped float32 [n, d]
    entries: Entries
    settings: IndexSettings
    built_at: str
    embedder: Any  # onnxruntime session
    positions: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = {item_id: i for i, item_id in enumerate(self.entries.item_ids)}

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    def embed(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings [n, d], category logits [n, 10]) of a batch of `catalogue_pixels` [n, 1, 28, 28]."""
        import numpy as np

        embedding, logits = self.embedder.run([EMBEDDING, LOGITS], {PIXELS: pixels.astype(np.float32)})
        return embedding, logits

    def search(self, query: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, exact inner products), best first: the `max(depth, rerank)` best PQ candidates
        re-ranked with their float32 vectors."""
        import numpy as np

        shortlist = max(depth, self.settings.rerank)
        _, found = self.index.search(query.reshape(1, -1).astype(np.float32), shortlist)
        candidates = found[0][found[0] >= 0]
        if len(candidates) == 0:
            return candidates, np.zeros(0, dtype=np.float32)
        exact = self.vectors[np.sort(candidates)] @ query  # sorted rows: sequential reads of the memory map
        ordered = np.sort(candidates)
        best = np.argsort(-exact, kind="stable")[:depth]
        return ordered[best], exact[best]


def _check_embedder(manifest: Any, session: Any) -> None:
    from commerce_ai.artifacts.frameworks import SchemaMismatch

    declared_in = [(t.name, t.shape) for t in manifest.input_schema.tensors]
    actual_in = [(a.name, [d if isinstance(d, int) else None for d in a.shape]) for a in session.get_inputs()]
    declared_out = [(t.name, t.shape) for t in manifest.output_schema]
    actual_out = [(a.name, [d if isinstance(d, int) else None for d in a.shape]) for a in session.get_outputs()]
    if declared_in != actual_in or declared_out != actual_out:
        raise SchemaMismatch(
            f"embedder takes {actual_in} and gives {actual_out}; the manifest says {declared_in} -> {declared_out}"
        )


def open_faiss(manifest: Any, directory: Path) -> VisualIndex:
    """The `faiss` opener: every file loads, agrees with the others and with the manifest's schema, and a
    query is answered (`_check_answers`). The registry's validator runs it on Lambda with VisualLayer, which
    holds faiss beside onnxruntime and numpy, so a version is queried before it is registered.
    """
    import faiss
    import numpy as np

    from commerce_ai.artifacts.frameworks import SchemaMismatch, onnx_session

    path = directory / manifest.entrypoint
    index: Any
    try:
        index = faiss.read_index(str(path))
        dimension_on_disk, count = int(index.d), int(index.ntotal)
    except (RuntimeError, ValueError, OSError) as exc:  # faiss reports an unreadable file as RuntimeError
        raise SchemaMismatch(f"faiss cannot read {manifest.entrypoint}: {str(exc)[:200]}") from exc
    try:
        vectors = np.load(directory / VECTORS_FILE, mmap_mode="r")
        body = json.loads((directory / ITEMS_FILE).read_text())
        with np.load(directory / DESCRIPTORS_FILE) as codes:
            descriptor_codes = {k: np.asarray(codes[k]) for k in DESCRIPTOR_CODES}
        settings = IndexSettings(**body["settings"])
        entries = Entries(list(body["item_ids"]), list(body["categories"]), descriptor_codes)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SchemaMismatch(f"visual-index files do not load: {exc}") from exc
    session = onnx_session(directory / EMBEDDER_FILE, manifest.files[EMBEDDER_FILE].sha256)
    _check_embedder(manifest, session)
    dimension = manifest.output_schema[0].shape[-1]
    sizes = {len(entries), len(entries.categories), count, vectors.shape[0]}
    sizes |= {len(v) for v in descriptor_codes.values()}
    if len(sizes) != 1:
        raise SchemaMismatch(f"index, vectors, items and descriptors disagree on the item count: {sorted(sizes)}")
    if dimension_on_disk != dimension or vectors.shape[1] != dimension:
        raise SchemaMismatch(
            f"index dimension {dimension_on_disk} / vectors {vectors.shape[1]} differ from the embedding's {dimension}"
        )
    index.nprobe = settings.nprobe
    opened = VisualIndex(index, vectors, entries, settings, str(body["built_at"]), session)
    _check_answers(opened)
    return opened


def _check_answers(opened: VisualIndex) -> None:
    """The embedder embeds a blank image to a finite unit vector, and the index finds its first, middle and
    last items from their own stored vectors (or one as close: a duplicate image), so the index's ids are rows
    of the re-rank vectors."""
    import numpy as np

    from commerce_ai.artifacts.frameworks import SchemaMismatch

    embedding, _ = opened.embed(np.zeros((1, 1, 28, 28), dtype=np.float32))
    if not np.all(np.isfinite(embedding)) or abs(float(np.linalg.norm(embedding[0])) - 1.0) > 1e-3:
        raise SchemaMismatch("the embedder's answer for a blank image is not a finite unit vector")
    count = len(opened.vectors)
    for probe in sorted({0, count // 2, count - 1} if count else set()):
        vector = np.asarray(opened.vectors[probe], dtype=np.float32)
        positions, scores = opened.search(vector, 10)
        if len(positions) == 0 or (probe not in positions and abs(float(scores[0]) - float(vector @ vector)) > 1e-4):
            raise SchemaMismatch(f"the index does not find item {probe} from that item's own vector")


def top_categories(logits: np.ndarray, names: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    import numpy as np

    shifted = np.exp(logits - logits.max())
    probabilities = shifted / shifted.sum()
    order = np.argsort(-probabilities)[:k]
    return [(names[i], float(probabilities[i])) for i in order]
