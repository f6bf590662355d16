"""`reports/visual.md`: precision@10 by method and category on all 10,000 held-out test images against the
60,000-item catalogue; the index trade-off sweep at 100,000 items; colour and texture filter accuracy on the
colourised test split; example queries as image grids. Figures under `reports/visual/`."""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.visual.categories import CATEGORIES
from commerce_ai.visual.descriptors import COLOURS, TEXTURES, describe_batch
from commerce_ai.visual.index import Entries, IndexSettings, VisualIndex, build_ivfpq
from model_build.plots import figure
from model_build.visual import finetune
from model_build.visual.colourise import striped, tint_of
from model_build.visual.data import read_fashion_mnist
from model_build.visual.export import SHIPPED, colourised, embed
from model_build.visual.metrics import nearest, normalised, precision_at_k, timed_recall

SERVED_METHOD = "served: head on trunk features and pixels (64)"
FINETUNED_METHOD = "fine-tuned: top blocks and head (64)"
REPLICATED = 100_000
SWEEP_QUERIES = 500
SWEEP = [
    IndexSettings(nlist=nlist, m=m, nprobe=nprobe, rerank=rerank)
    for nlist in (256, 1024)
    for m in (8, 16, 32)
    for nprobe in (8, 16, 32)
    for rerank in (100, 300, 500, 1000)
]


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def replicate(vectors: np.ndarray, total: int, seed: int = 11) -> np.ndarray:
    """The catalogue's embeddings replicated with jitter (Gaussian, sd 0.02 per dimension), renormalised,
    to `total` items: a 100,000-item index for the sweep and the benchmark."""
    rng = np.random.default_rng(seed)
    extra = vectors[rng.integers(0, len(vectors), total - len(vectors))]
    extra = extra + rng.normal(0.0, 0.02, extra.shape).astype(np.float32)
    return normalised(np.concatenate([vectors, extra]))


def sweep(vectors: np.ndarray, queries: np.ndarray) -> list[dict[str, Any]]:
    exact = nearest(queries, vectors, 10)
    flat_bytes = vectors.nbytes
    rows = []
    trained: dict[tuple[int, int], Any] = {}
    for settings in SWEEP:
        key = (settings.nlist, settings.m)
        if key not in trained:
            started = time.perf_counter()
            trained[key] = (build_ivfpq(vectors, settings), time.perf_counter() - started)
        index, build_seconds = trained[key]
        index.nprobe = settings.nprobe
        searcher = VisualIndex(index, vectors, Entries([], []), settings, "", None)
        recall, times = timed_recall(searcher, queries, exact)
        import faiss

        memory = len(faiss.serialize_index(index))
        rows.append(
            {
                "settings": settings,
                "recall": recall,
                "p50_ms": float(np.median(times)) * 1000,
                "p99_ms": float(np.percentile(times, 99)) * 1000,
                "memory_ratio": memory / flat_bytes,
                "build_seconds": build_seconds,
            }
        )
    return rows


def write_report(report_dir: Path) -> Path:
    figures = report_dir / "visual"
    figures.mkdir(parents=True, exist_ok=True)
    data = read_fashion_mnist()
    with tempfile.TemporaryDirectory(prefix="visual-eval-") as tmp:
        embedded = embed(data, Path(tmp), queries=len(data.test))
    labels, catalogue_labels = data.test.labels, data.train.labels
    methods = {
        "raw pixels (784, cosine)": (
            embedded.query_pixels.reshape(len(labels), -1),
            embedded.catalogue_pixels.reshape(len(catalogue_labels), -1),
        ),
        "frozen Lite0 trunk (1280, pooled)": (embedded.query_features, embedded.catalogue_features),
        SERVED_METHOD: (embedded.queries, embedded.catalogue),
    }
    per_method = {name: precision_at_k(q, labels, c, catalogue_labels)[1] for name, (q, c) in methods.items()}
    tuned = finetune.run(report_dir, data)  # the trunk fine-tuned (bounded; see finetune.py)
    per_method[FINETUNED_METHOD] = np.asarray(tuned.per_query)

    with figure(figures / "precision_by_category.png", (10, 4.5)) as ax:
        width = 0.8 / len(per_method)
        x = np.arange(len(CATEGORIES))
        for i, (name, per_query) in enumerate(per_method.items()):
            offset = (i - (len(per_method) - 1) / 2) * width
            ax.bar(x + offset, [per_query[labels == c].mean() for c in range(len(CATEGORIES))], width, label=name)
        ax.set_xticks(x, CATEGORIES, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.axhline(0.88, color="black", linestyle="--", linewidth=0.8, label="goal 0.88")
        ax.set_ylabel("precision@10 (same category)")
        ax.legend(fontsize=8)

    served = embedded.catalogue
    vectors = replicate(served, REPLICATED)
    queries = normalised(embedded.queries[:SWEEP_QUERIES])
    rows = sweep(vectors, queries)
    with figure(figures / "index_tradeoff.png", (7, 4.5)) as ax:
        for m in (8, 16, 32):
            chosen = [r for r in rows if r["settings"].m == m]
            ax.scatter([r["p50_ms"] for r in chosen], [r["recall"] for r in chosen], label=f"m={m}")
        shipped = next(r for r in rows if r["settings"] == SHIPPED)
        ax.scatter([shipped["p50_ms"]], [shipped["recall"]], marker="*", s=250, color="black", label="shipped")
        ax.axhline(0.95, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel("p50 query time (ms, one thread, re-rank included)")
        ax.set_ylabel("recall@10 against exact search")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8)

    coloured = colourised(data.test.images)
    descriptors = describe_batch(coloured)
    truth_colour = np.array([COLOURS.index(tint_of(i)[0]) for i in range(len(labels))])
    truth_texture = np.array([TEXTURES.index("patterned" if striped(i) else "plain") for i in range(len(labels))])
    colour_hits = descriptors.colours == truth_colour
    texture_hits = descriptors.textures == truth_texture
    tints = sorted({tint_of(i)[0] for i in range(8)}, key=lambda n: COLOURS.index(n))
    colour_by_tint = {n: float(colour_hits[truth_colour == COLOURS.index(n)].mean()) for n in tints}
    with figure(figures / "colour_filter_accuracy.png", (8, 4)) as ax:
        ax.bar(tints, [colour_by_tint[n] for n in tints], color="tab:purple")
        ax.set_ylim(0, 1)
        ax.set_ylabel("named colour read correctly")

    _query_grid(figures / "example_queries.png", data, embedded)
    return _write_markdown(
        report_dir, per_method, labels, rows, colour_hits, texture_hits, colour_by_tint, embedded, tuned
    )


def _query_grid(path: Path, data: Any, embedded: Any, shown: int = 6, k: int = 8) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    picks = [int(np.flatnonzero(data.test.labels == c)[0]) for c in range(0, len(CATEGORIES), 2)][:shown]
    found = nearest(normalised(embedded.queries[picks]), normalised(embedded.catalogue), k)
    fig, axes = plt.subplots(len(picks), k + 1, figsize=(k + 1, len(picks) * 1.1))
    for row, (query, hits) in enumerate(zip(picks, found, strict=True)):
        axes[row, 0].imshow(data.test.images[query], cmap="gray")
        axes[row, 0].set_title("query", fontsize=7)
        for col, hit in enumerate(hits, start=1):
            same = data.train.labels[hit] == data.test.labels[query]
            axes[row, col].imshow(data.train.images[hit], cmap="gray" if same else "Reds_r")
        for ax in axes[row]:
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _write_markdown(
    report_dir: Path,
    per_method: dict[str, np.ndarray],
    labels: np.ndarray,
    rows: list[dict[str, Any]],
    colour_hits: np.ndarray,
    texture_hits: np.ndarray,
    colour_by_tint: dict[str, float],
    embedded: Any,
    tuned: finetune.FineTuned,
) -> Path:
    n = len(labels)
    lines = [
        "# Visual search: evaluation",
        "",
        "Generated by `make eval` (`model_build/visual/report.py`). Data: Fashion-MNIST (real product images,",
        f"28x28 greyscale); the 60,000 train images are the catalogue, all {n:,} test images the queries, never",
        "seen in training. Precision@10: of a query's 10 nearest catalogue items (cosine), the share in its",
        "category; intervals are 95% Wilson intervals over the queries' hits (an approximation: a query's 10 hits",
        "are not independent).",
        "",
        "## Precision@10 by method",
        "",
        "| method | P@10 | 95% interval |",
        "|---|---|---|",
    ]
    for name, per_query in per_method.items():
        low, high = wilson(float(per_query.mean()), n * 10)
        lines.append(f"| {name} | **{per_query.mean():.4f}** | {low:.4f}-{high:.4f} |")
    served = per_method[SERVED_METHOD].mean()
    lines += [
        "",
        f"The goal is P@10 >= 0.88: the served embedding reaches {served:.4f}"
        + (" (met)." if served >= 0.88 else " (not met)."),
        "The frozen ImageNet trunk alone is below raw pixels on these 28 px greyscale images, as measured before",
        "(FIELD-NOTES); the head trained on its features with the pixels beside them (the train split only) lifts it",
        "above both. The trunk fine-tuned with the head: next section.",
        "",
        "| category | " + " | ".join(per_method) + " |",
        "|---|" + "---|" * len(per_method),
    ]
    for c, name in enumerate(CATEGORIES):
        cells = " | ".join(f"{per_query[labels == c].mean():.3f}" for per_query in per_method.values())
        lines.append(f"| {name} | {cells} |")
    lines += ["", "![P@10 by category](visual/precision_by_category.png)", ""]
    served_per_query = per_method[SERVED_METHOD]
    by_category = [float(served_per_query[labels == c].mean()) for c in range(len(CATEGORIES))]
    lines += finetune.section(tuned, float(served_per_query.mean()), by_category, n)
    lines += [
        "## Index trade-off at 100,000 items",
        "",
        f"The 60,000 served embeddings replicated with jitter to {REPLICATED:,} (`replicate`); "
        f"{SWEEP_QUERIES} held-out queries; recall@10 against exact search of the same vectors; time per query,",
        "one thread, PQ search plus the exact re-rank of the short list (`rerank` best PQ candidates, float32",
        "vectors memory-mapped); memory: the serialized faiss index (codes, ids, centroids) against a flat",
        "float32 index of the same vectors.",
        "",
        "| nlist | m | nprobe | rerank | recall@10 | p50 ms | p99 ms | memory / flat |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["settings"]
        mark = " (shipped)" if s == SHIPPED else ""
        lines.append(
            f"| {s.nlist} | {s.m} | {s.nprobe} | {s.rerank}{mark} | {r['recall']:.4f} | {r['p50_ms']:.3f} | "
            f"{r['p99_ms']:.3f} | {r['memory_ratio']:.3f} |"
        )
    shipped = next(r for r in rows if r["settings"] == SHIPPED)
    lines += [
        "",
        f"Shipped: nlist {SHIPPED.nlist}, m {SHIPPED.m}, nprobe {SHIPPED.nprobe}, re-rank {SHIPPED.rerank}: recall@10 "
        f"{shipped['recall']:.4f}, p50 {shipped['p50_ms']:.3f} ms, memory {shipped['memory_ratio']:.3f} of flat "
        "(goals: >= 0.95, <= 1 ms, <= 0.1). The re-rank reads the float32 vectors from a memory map: they are",
        "on disk (and in the page cache when warm), not in the index's memory; counting them, the footprint is",
        "more than flat's. The re-rank depth buys most of the recall; nprobe beyond 16 adds time for little.",
        "",
        "![trade-off](visual/index_tradeoff.png)",
        "",
        "## Filters on the colourised test split",
        "",
        "Each test image tinted and (every third) striped by the documented rule (`model_build/visual/colourise.py`),",
        "then read back by the serving descriptors (`commerce_ai/visual/descriptors.py`).",
        "",
    ]
    low, high = wilson(float(colour_hits.mean()), n)
    lines.append(f"- Named colour: **{colour_hits.mean():.4f}** correct ({low:.4f}-{high:.4f}).")
    low, high = wilson(float(texture_hits.mean()), n)
    lines.append(f"- Texture (plain or patterned): **{texture_hits.mean():.4f}** correct ({low:.4f}-{high:.4f}).")
    lines += ["", "| tint | colour read correctly |", "|---|---|"]
    lines += [f"| {name} | {share:.3f} |" for name, share in colour_by_tint.items()]
    lines += [
        "",
        "![colour filter](visual/colour_filter_accuracy.png)",
        "",
        "## Example queries",
        "",
        "Each row: a test image, then its 8 nearest catalogue items with the served embedding (red: another",
        "category).",
        "",
        "![examples](visual/example_queries.png)",
        "",
        f"Head training accuracy on the train split: {embedded.train_accuracy:.4f}.",
        "",
    ]
    path = report_dir / "visual.md"
    path.write_text("\n".join(lines))
    return path
