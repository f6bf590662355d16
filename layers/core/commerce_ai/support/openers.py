"""Customer service's artifact openers, found by `commerce_ai.artifacts.frameworks.discover_openers`: an
intent head and a sentence encoder validate only if they open as the dialogue serves them."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_model_opener
from commerce_ai.support import encoder
from commerce_ai.support.intents import MODEL_NAME, open_intents

register_model_opener(MODEL_NAME, open_intents)
register_model_opener(encoder.MODEL_NAME, encoder.open_encoder)
