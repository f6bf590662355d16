"""The fine-tuning study of `make eval`: EfficientNet-Lite0's trunk trained end to end with the embedding head.

The served embedder (`embedder.train_head`) trains only a head on the frozen ImageNet trunk. Here the same
graph (`embedder.modules`: pixels -> trunk at `RESOLUTION` px -> pooled features and pixels -> head -> 64-d
embedding and a cosine classifier over the ten categories) is trained whole on the 60,000 train images with
the metric-learning objective of the served head (normalised softmax: items of a category gather around its
direction), horizontal flips as augmentation, AdamW with a smaller learning rate for the pretrained trunk
than for the new head, one-cycle schedule. The result is exported to ONNX with the served embedder's
signature, so it would be a drop-in `embedder.onnx` of the `visual-index` artifact (the index rebuilt from
its embeddings).

It is bounded for a busy 2-core machine: `VISUAL_FINETUNE_EPOCHS` epochs (default `DEFAULT_EPOCHS`) and, with
`VISUAL_FINETUNE_STEPS`, at most that many optimiser steps per epoch (default: the whole train split). The
measured figures are kept in `reports/visual/finetune.json`; `VISUAL_FINETUNE_REUSE=1` renders the report from
them without training again.

Run alone: `python -m model_build.visual.finetune` (writes the JSON); `... --into-report` then puts its section
into the last `reports/visual.md` without the rest of `make eval`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.visual.categories import CATEGORIES
from commerce_ai.visual.images import catalogue_batch
from commerce_ai.visual.index import EMBEDDING, LOGITS
from model_build.progress import stage
from model_build.visual import embedder
from model_build.visual.data import FashionMnist, read_fashion_mnist
from model_build.visual.metrics import precision_at_k

DEFAULT_EPOCHS = 1
# Blocks 0-10 of 16 (and the stem) stay frozen: at 32 px they are the 16x16 to 2x2 layers; the five 1x1
# blocks and the 1280-d head convolution above them hold most of the trunk's weights and are trained.
DEFAULT_FROZEN_BLOCKS = 11
BATCH = 128
TRUNK_LR = 1e-3
HEAD_LR = 3e-3
RESULTS_FILE = "finetune.json"


@dataclass(frozen=True)
class FineTuned:
    epochs: int
    frozen_blocks: int  # the stem and this many of Lite0's 16 blocks stay as pretrained
    trained_share: float  # of the trunk's weights (its ImageNet classifier aside)
    steps: int  # optimiser steps taken
    batch: int
    cache_seconds: float  # the frozen bottom's activations of the 60,000 train images, once
    train_seconds: float
    seconds_per_epoch: float  # of the full train split, from the measured steps
    train_accuracy: float  # on the batches seen in the last epoch, in training mode
    test_accuracy: float  # the cosine classifier on all test images
    precision_at_10: float
    per_category: list[float]
    onnx_bytes: int
    onnx_max_difference: float
    embed_seconds: float  # ONNX Runtime over the 70,000 images
    per_query: list[float]  # P@10 of each test query (for the report's intervals and bars)


def settings_from_env() -> tuple[int, int, int | None]:
    epochs = int(os.environ.get("VISUAL_FINETUNE_EPOCHS", str(DEFAULT_EPOCHS)))
    frozen = int(os.environ.get("VISUAL_FINETUNE_FROZEN_BLOCKS", str(DEFAULT_FROZEN_BLOCKS)))
    steps = os.environ.get("VISUAL_FINETUNE_STEPS")
    return epochs, frozen, int(steps) if steps else None


def trunk_parts(frozen_blocks: int) -> dict[str, Any]:
    """The trunk cut after block `frozen_blocks`: the frozen bottom (pixels -> its activations) and the trained
    top (those activations and the pixels -> pooled features and pixels, the served head's input)."""
    import torch

    nn = torch.nn
    functional = torch.nn.functional
    resolution = embedder.RESOLUTION

    class Bottom(nn.Module):
        def __init__(self, trunk: Any) -> None:
            super().__init__()
            self.trunk = trunk

        def forward(self, pixels: Any) -> Any:
            x = (pixels * 255.0 - 127.0) / 128.0
            x = x.expand(-1, 3, -1, -1)
            x = functional.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
            x = self.trunk._swish(self.trunk._bn0(self.trunk._conv_stem(x)))
            for block in self.trunk._blocks[:frozen_blocks]:
                x = block(x)
            return x

    class Top(nn.Module):
        def __init__(self, trunk: Any) -> None:
            super().__init__()
            self.trunk = trunk

        def forward(self, activations: Any, pixels: Any) -> Any:
            x = activations
            blocks = self.trunk._blocks
            rate = self.trunk._global_params.drop_connect_rate  # as `extract_features` scales it
            for index in range(frozen_blocks, len(blocks)):
                x = blocks[index](x, drop_connect_rate=rate * index / len(blocks) if rate else None)
            x = self.trunk._swish(self.trunk._bn1(self.trunk._conv_head(x)))
            return torch.cat([x.mean(dim=(2, 3)), pixels.flatten(1)], dim=1)

    class FineTunedEmbedder(nn.Module):
        """pixels -> (embedding, logits): the served embedder's signature, so its ONNX is a drop-in."""

        def __init__(self, bottom: Any, top: Any, head: Any) -> None:
            super().__init__()
            self.bottom, self.top, self.head = bottom, top, head

        def forward(self, pixels: Any) -> tuple[Any, Any]:
            return self.head(self.top(self.bottom(pixels), pixels))

    return {"Bottom": Bottom, "Top": Top, "FineTunedEmbedder": FineTunedEmbedder}


def train(
    pixels: np.ndarray, labels: np.ndarray, epochs: int, frozen_blocks: int, max_steps: int | None = None
) -> tuple[Any, dict[str, float], Any]:
    """(the fine-tuned embedder, its training figures, the frozen bottom's activations of `pixels`)."""
    import torch

    # One thread: on the shared 2-core machine more threads spin-wait (FIELD-NOTES).
    torch.set_num_threads(1)
    torch.manual_seed(embedder.SEED)
    trunk = embedder.load_trunk()
    parts = trunk_parts(frozen_blocks)
    bottom, top, head = (
        parts["Bottom"](trunk),
        parts["Top"](trunk),
        embedder.modules()["Head"](len(CATEGORIES), embedder.TRUNK_FEATURES + embedder.PIXEL_FEATURES),
    )
    model = parts["FineTunedEmbedder"](bottom, top, head)
    frozen = [*trunk._conv_stem.parameters(), *trunk._bn0.parameters()]
    frozen += [p for block in trunk._blocks[:frozen_blocks] for p in block.parameters()]
    for parameter in frozen:
        parameter.requires_grad_(False)
    trained = [p for p in trunk.parameters() if p.requires_grad and not any(p is f for f in frozen)]
    trained = [p for p in trained if all(p is not q for q in trunk._fc.parameters())]  # the ImageNet classifier
    started = time.perf_counter()
    x = torch.from_numpy(pixels)
    # The frozen bottom's activations once, in ONNX Runtime (several times faster than torch here; eval mode:
    # its batch norms keep their ImageNet statistics): each epoch then runs only the trained top.
    bottom.eval()
    with tempfile.TemporaryDirectory(prefix="visual-bottom-") as tmp:
        embedder.export(bottom, Path(tmp) / "bottom.onnx", ["activations"])
        cached = torch.from_numpy(embedder.run_batches(Path(tmp) / "bottom.onnx", pixels, "activations"))
    cache_seconds = time.perf_counter() - started
    y = torch.from_numpy(labels.astype(np.int64))
    per_epoch = (len(x) + BATCH - 1) // BATCH
    steps_per_epoch = min(per_epoch, max_steps) if max_steps else per_epoch
    optimiser = torch.optim.AdamW(
        [{"params": trained, "lr": TRUNK_LR}, {"params": head.parameters(), "lr": HEAD_LR}], weight_decay=1e-4
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=[TRUNK_LR, HEAD_LR], total_steps=max(1, epochs * steps_per_epoch)
    )
    generator = torch.Generator().manual_seed(embedder.SEED)
    top.train()
    head.train()
    started = time.perf_counter()
    steps, correct, seen = 0, 0, 0
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        correct, seen = 0, 0
        for step in range(steps_per_epoch):
            chosen = order[step * BATCH : (step + 1) * BATCH]
            _, logits = head(top(cached[chosen], x[chosen]))
            loss = torch.nn.functional.cross_entropy(logits, y[chosen], label_smoothing=0.05)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            steps += 1
            correct += int((logits.argmax(1) == y[chosen]).sum())
            seen += len(chosen)
            if step % 100 == 0:
                elapsed = time.perf_counter() - started
                print(
                    f"  epoch {epoch + 1}/{epochs} step {step}/{steps_per_epoch} loss {float(loss.detach()):.3f}"
                    f" {elapsed:.0f} s",
                    flush=True,
                )
    seconds = time.perf_counter() - started
    model.eval()
    return (
        model,
        {
            "steps": steps,
            "cache_seconds": cache_seconds,
            "train_seconds": seconds,
            "seconds_per_epoch": seconds / max(steps, 1) * per_epoch,
            "train_accuracy": correct / max(seen, 1),
            "trained_share": sum(p.numel() for p in trained) / sum(p.numel() for p in [*trained, *frozen]),
        },
        cached,
    )


def study(data: FashionMnist, epochs: int, frozen_blocks: int, max_steps: int | None = None) -> FineTuned:
    catalogue_pixels = catalogue_batch(data.train.images)
    query_pixels = catalogue_batch(data.test.images)
    with stage(f"fine-tune Lite0's top blocks with the head ({epochs} epoch(s), {embedder.RESOLUTION} px)"):
        model, trained, _ = train(catalogue_pixels, data.train.labels, epochs, frozen_blocks, max_steps)
    import torch

    with tempfile.TemporaryDirectory(prefix="visual-finetune-") as tmp, stage("export to ONNX, embed 70,000 images"):
        path = Path(tmp) / "finetuned.onnx"
        embedder.export(model, path, [EMBEDDING, LOGITS])
        onnx_bytes = path.stat().st_size
        started = time.perf_counter()
        catalogue = embedder.run_batches(path, catalogue_pixels, EMBEDDING)
        queries = embedder.run_batches(path, query_pixels, EMBEDDING)
        embed_seconds = time.perf_counter() - started
    with torch.no_grad():
        reference, _ = model(torch.from_numpy(catalogue_pixels[:256]))
        directions = torch.nn.functional.normalize(model.head.classes, dim=1).numpy()
    difference = float(np.max(np.abs(reference.numpy() - catalogue[:256])))
    logits = embedder.SCALE * queries @ directions.T  # the cosine classifier, as the graph computes it
    labels = data.test.labels
    precision, per_query = precision_at_k(queries, labels, catalogue, data.train.labels)
    return FineTuned(
        epochs=epochs,
        frozen_blocks=frozen_blocks,
        trained_share=round(float(trained["trained_share"]), 4),
        steps=int(trained["steps"]),
        batch=BATCH,
        cache_seconds=round(float(trained["cache_seconds"]), 1),
        train_seconds=round(float(trained["train_seconds"]), 1),
        seconds_per_epoch=round(float(trained["seconds_per_epoch"]), 1),
        train_accuracy=round(float(trained["train_accuracy"]), 4),
        test_accuracy=round(float((logits.argmax(1) == labels).mean()), 4),
        precision_at_10=round(precision, 6),
        per_category=[round(float(per_query[labels == c].mean()), 4) for c in range(len(CATEGORIES))],
        onnx_bytes=onnx_bytes,
        onnx_max_difference=difference,
        embed_seconds=round(embed_seconds, 1),
        per_query=[round(float(p), 1) for p in per_query],
    )


def run(report_dir: Path, data: FashionMnist | None = None) -> FineTuned:
    """The study's figures: measured now, or (VISUAL_FINETUNE_REUSE=1) the last ones kept in the report's folder."""
    saved = report_dir / "visual" / RESULTS_FILE
    if os.environ.get("VISUAL_FINETUNE_REUSE") == "1" and saved.is_file():
        return FineTuned(**json.loads(saved.read_text()))
    epochs, frozen_blocks, max_steps = settings_from_env()
    result = study(data or read_fashion_mnist(), epochs, frozen_blocks, max_steps)
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(asdict(result)))
    return result


SECTION = "## Fine-tuning the trunk"
TRAIN_IMAGES = 60_000  # Fashion-MNIST's train split, the images an epoch goes through


def _length(tuned: FineTuned) -> str:
    """How long the study trained: its epochs, or the share of one when VISUAL_FINETUNE_STEPS cut it short."""
    steps_per_epoch = -(-TRAIN_IMAGES // tuned.batch)
    if tuned.steps >= tuned.epochs * steps_per_epoch:
        return f"{tuned.epochs} epoch(s) ({tuned.steps} steps)"
    return (
        f"{tuned.steps} steps (capped with `VISUAL_FINETUNE_STEPS`: {tuned.steps / steps_per_epoch:.0%} of one epoch)"
    )


def section(tuned: FineTuned, served: float, served_by_category: list[float], queries: int) -> list[str]:
    """The report's section on the study: P@10 of the fine-tuned embedder against the served one, by category."""
    from model_build.visual.report import wilson

    fine = float(np.mean(tuned.per_query))
    figures = {
        "served: head on the frozen trunk (64)": (served, served_by_category),
        "fine-tuned: top blocks and head (64)": (fine, tuned.per_category),
    }
    lines = [
        SECTION,
        "",
        f"Lite0's stem and first {tuned.frozen_blocks} of its 16 blocks stay as pretrained "
        f"(at {embedder.RESOLUTION} px they end at 2x2); the blocks above them, the 1280-d head convolution and",
        "a head of the served architecture",
        f"(trunk features and pixels -> 64-d, cosine classifier) are trained together on the 60,000 train images: "
        f"{tuned.trained_share:.0%} of the trunk's weights. Normalised-softmax objective (scale {embedder.SCALE:g}, "
        f"label smoothing 0.05), AdamW (trunk {TRUNK_LR:g}, head {HEAD_LR:g}), one-cycle schedule, "
        f"batch {tuned.batch}, {_length(tuned)}. The frozen part's activations are computed once "
        f"({tuned.cache_seconds:.0f} s), then training took {tuned.train_seconds:.0f} s "
        f"({tuned.seconds_per_epoch:.0f} s an epoch) on the shared 2-core machine, one thread.",
        "`VISUAL_FINETUNE_EPOCHS` and `VISUAL_FINETUNE_FROZEN_BLOCKS` (0: every block) run it longer or deeper.",
        "",
        "| embedder | P@10 | 95% interval |",
        "|---|---|---|",
    ]
    for name, (mean, _) in figures.items():
        low, high = wilson(mean, queries * 10)
        lines.append(f"| {name} | **{mean:.4f}** | {low:.4f}-{high:.4f} |")
    goal = " and meets the goal of 0.88." if fine >= 0.88 else ", short of the goal of 0.88."
    verdict = (
        f"It beats the served embedding ({fine:.4f} against {served:.4f}){goal}"
        if fine > served
        else f"It does not beat the served embedding ({fine:.4f} against {served:.4f})."
    )
    lines += [
        "",
        f"The fine-tuned classifier labels {tuned.test_accuracy:.2%} of the test images correctly. Its ONNX export "
        f"({tuned.onnx_bytes / 1e6:.1f} MB, the served embedder's inputs and outputs) differs from torch by at most "
        f"{tuned.onnx_max_difference:.1e} and embedded the 70,000 images in {tuned.embed_seconds:.0f} s. {verdict}",
        "",
        "Served: the head on the frozen trunk, which the default build trains in its 60 s. The fine-tuned graph would "
        "be served as the `visual-index` artifact's `embedder.onnx`, the index rebuilt from its embeddings: the same "
        "inputs and outputs, so serving, the validator and uploads would not change; its training does not fit the "
        "default build's 60 s on this machine, so it would be an opt-in build.",
        "",
        "| category | " + " | ".join(figures) + " |",
        "|---|" + "---|" * len(figures),
    ]
    for c, name in enumerate(CATEGORIES):
        lines.append(f"| {name} | " + " | ".join(f"{by[c]:.3f}" for _, by in figures.values()) + " |")
    return [*lines, ""]


SERVED_ROW = "| served: head on trunk features and pixels (64) |"


def update_report(report_dir: Path) -> Path:
    """Put the study's section (from its kept figures) into an existing `reports/visual.md`, in place of the last
    one: for a re-run of the study alone, without the rest of `make eval`. The served figures are read from the
    report's own tables."""
    tuned = FineTuned(**json.loads((report_dir / "visual" / RESULTS_FILE).read_text()))
    path = report_dir / "visual.md"
    body = path.read_text().split("\n")
    served = float(next(line for line in body if line.startswith(SERVED_ROW)).split("**")[1])
    header = next(i for i, line in enumerate(body) if line.startswith("| category | raw pixels"))
    column = [c.strip() for c in body[header].strip("|").split("|")].index(SERVED_ROW.strip("| "))
    by_category = [float(body[header + 2 + c].strip("|").split("|")[column]) for c in range(len(CATEGORIES))]
    lines = section(tuned, served, by_category, len(tuned.per_query))
    if SECTION in body:
        start = body.index(SECTION)
        end = next((i for i in range(start + 1, len(body)) if body[i].startswith("## ")), len(body))
        body[start:end] = lines
    else:
        at = body.index("## Index trade-off at 100,000 items")
        body[at:at] = lines
    path.write_text("\n".join(body))
    return path


if __name__ == "__main__":
    from model_build.visual.data import ROOT

    if sys.argv[1:] == ["--into-report"]:  # the kept figures into reports/visual.md, nothing trained
        print(update_report(ROOT / "reports"))
    else:
        outcome = run(ROOT / "reports")
        print(json.dumps({k: v for k, v in asdict(outcome).items() if k != "per_query"}, indent=1))
