"""The fine-tuning study's section goes into an existing `reports/visual.md` from its kept figures alone."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from commerce_ai.visual.categories import CATEGORIES
from model_build.visual.finetune import RESULTS_FILE, SECTION, FineTuned, update_report

REPORT = """# Visual search: evaluation

## Precision@10 by method

| method | P@10 | 95% interval |
|---|---|---|
| raw pixels (784, cosine) | **0.8132** | 0.8108-0.8156 |
| served: head on trunk features and pixels (64) | **0.8785** | 0.8765-0.8806 |

| category | raw pixels (784, cosine) | served: head on trunk features and pixels (64) |
|---|---|---|
{rows}

## Index trade-off at 100,000 items

sweep
"""


def _tuned(precision: float) -> FineTuned:
    return FineTuned(
        epochs=1,
        frozen_blocks=11,
        trained_share=0.79,
        steps=60,
        batch=128,
        cache_seconds=100.0,
        train_seconds=600.0,
        seconds_per_epoch=4690.0,
        train_accuracy=0.8,
        test_accuracy=0.85,
        precision_at_10=precision,
        per_category=[precision] * len(CATEGORIES),
        onnx_bytes=14_000_000,
        onnx_max_difference=1e-6,
        embed_seconds=60.0,
        per_query=[precision] * 20,
    )


def test_the_section_is_added_then_replaced(tmp_path: Path) -> None:
    rows = "\n".join(f"| {name} | 0.500 | 0.{700 + c} |" for c, name in enumerate(CATEGORIES))
    (tmp_path / "visual.md").write_text(REPORT.format(rows=rows))
    (tmp_path / "visual").mkdir()
    (tmp_path / "visual" / RESULTS_FILE).write_text(json.dumps(asdict(_tuned(0.9))))
    text = update_report(tmp_path).read_text()
    assert text.count(SECTION) == 1
    assert text.index(SECTION) < text.index("## Index trade-off")
    assert "It beats the served embedding (0.9000 against 0.8785) and meets the goal of 0.88." in text
    assert f"| {CATEGORIES[1]} | 0.701 | 0.900 |" in text  # the served column read from the report's own table

    (tmp_path / "visual" / RESULTS_FILE).write_text(json.dumps(asdict(_tuned(0.8))))
    text = update_report(tmp_path).read_text()
    assert text.count(SECTION) == 1
    assert "It does not beat the served embedding (0.8000 against 0.8785)." in text
    assert text.rstrip().endswith("sweep")
