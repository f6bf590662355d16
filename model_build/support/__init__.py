"""Customer service (issue 15): the intent model, and the seeding of the bot's demo data.

`build` exports the sentence encoder to ONNX from the package's weights (`encoder_export`, served as
`support-encoder`), embeds the authored, augmented training split (`data`) with it and trains the linear
head (`train`), exported as `support-intents` (framework `json`). `evaluate` writes
`reports/support.md` (held-out accuracy per language and intent, the character n-gram TF-IDF baseline,
the FAQ matcher, the emotion scorer). `seed` fills the demo orders and the FAQ once the stack is up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model_build import Built

MODELS: list[str] = ["support-encoder", "support-intents"]


def build(workdir: Path) -> list[Built]:
    from model_build.support.export import export_support

    return export_support(workdir)


def build_inputs() -> dict[str, str]:
    """The authored training files (the test files are not read by `build`) and the encoder's variant."""
    import hashlib

    from commerce_ai.support import encoder
    from model_build.support.data import INTENT_DATA, LANGUAGES

    return {
        "encoder": encoder.encoder_name(),
        **{
            f"data:{path.name} sha256": hashlib.sha256(path.read_bytes()).hexdigest()
            for path in (INTENT_DATA / f"{language}.train.txt" for language in LANGUAGES)
        },
    }


def seed(stack: Any, cache_dir: Path) -> str:
    from model_build.support.seeding import seed_stack

    return seed_stack(stack)


def evaluate(report_dir: Path) -> Path:
    from model_build.support.report import write_report

    return write_report(report_dir)
