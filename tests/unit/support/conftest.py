"""One small real intent model and the FAQ index, shared by the support unit tests (a few seconds, once)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commerce_ai.support.faq import FaqIndex
from commerce_ai.support.intents import IntentModel
from model_build.support.seeding import faq_entries
from tests.support.support import built_support


@pytest.fixture(scope="session")
def intent_model(tmp_path_factory: pytest.TempPathFactory) -> IntentModel:
    built = built_support(Path(tmp_path_factory.mktemp("support")))[-1]
    return IntentModel.from_document(json.loads((built.directory / built.entrypoint).read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def faq_index(intent_model: IntentModel) -> FaqIndex:  # after the intent model: it installs the encoder
    return FaqIndex(faq_entries())
