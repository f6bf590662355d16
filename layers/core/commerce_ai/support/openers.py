"""Customer service's artifact opener, found by `commerce_ai.artifacts.frameworks.discover_openers`: an
intent model validates only if it reads as the dialogue serves it."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_model_opener
from commerce_ai.support.intents import MODEL_NAME, open_intents

register_model_opener(MODEL_NAME, open_intents)
