"""Visual search's artifact openers, found by `commerce_ai.artifacts.frameworks.discover_openers` (so the
registry's validator opens a `faiss` version without importing visual search by name)."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_opener
from commerce_ai.visual.index import open_faiss

register_opener("faiss", open_faiss)
