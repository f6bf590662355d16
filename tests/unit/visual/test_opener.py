"""The `faiss` opener queries the index before a version is registered (the validator has faiss on Lambda)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from commerce_ai.artifacts.frameworks import SchemaMismatch
from commerce_ai.visual.index import MODEL_NAME, VECTORS_FILE, open_faiss
from model_build import Built, manifest_for


def _copy(visual_artifacts: list[Built], tmp_path: Path) -> tuple[Built, Path]:
    built = next(b for b in visual_artifacts if b.name == MODEL_NAME)
    copy = tmp_path / MODEL_NAME
    shutil.copytree(built.directory, copy)
    return built, copy


def test_a_built_index_opens_and_finds_its_own_items(visual_artifacts: list[Built], tmp_path: Path) -> None:
    built, copy = _copy(visual_artifacts, tmp_path)
    opened = open_faiss(manifest_for(built), copy)
    positions, scores = opened.search(np.asarray(opened.vectors[5]), 3)
    assert 5 in positions and scores[0] == pytest.approx(1.0, abs=1e-4)


def test_vectors_that_are_not_the_index_rows_are_refused(visual_artifacts: list[Built], tmp_path: Path) -> None:
    built, copy = _copy(visual_artifacts, tmp_path)
    manifest = manifest_for(built)  # of the good files: the opener itself must notice
    np.save(copy / VECTORS_FILE, np.roll(np.load(copy / VECTORS_FILE), 1, axis=0))
    with pytest.raises(SchemaMismatch, match="does not find item"):
        open_faiss(manifest, copy)
