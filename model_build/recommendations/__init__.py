"""Recommendations: MovieLens-100k (or a user's own files, or the behaviour-event archive) to
`recommendations-ranker`: item-item cosine and EASE neighbours, a Wide&Deep ranker over their candidates
(torch, exported to ONNX), compared on the fixed leave-last-out protocol (`protocol`).

`build` trains and exports; `evaluate` writes `reports/recommendations.md` (every method, coverage and
diversity against accuracy); `seed` puts the MovieLens items into the shared catalogue.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.template import Stack
    from model_build import Built

MODELS: list[str] = ["recommendations-ranker"]
ARCHIVE = "archive"  # `--data archive`: train on the behaviour-event archive's last 90 days
# `commerce-ai train recommendations` without `--data` trains on the shop's own behaviour (the archive), as
# the issue asks; `up` calls `build(workdir)` and keeps training on MovieLens, which `--data movielens` names.
TRAIN_DEFAULT_DATA = ARCHIVE
UP_DATA = "movielens"


def build(workdir: Path, data: Path | None = None, items: Path | None = None) -> list[Built]:
    """Train on MovieLens-100k (`data` None: what `up` builds), or on `data`: a user's interactions CSV (with
    `items`, their items CSV), or the event archive when `data` is `archive` (with `items`, else the shop's
    catalogue, as the daily retrain reads it; erased users left out)."""
    from model_build.progress import stage
    from model_build.recommendations.data import DataProblem, read_movielens, read_user_files
    from model_build.recommendations.export import export, train_and_compare

    with stage("read interactions"):
        if data is None:
            dataset = read_movielens()
        elif str(data) == ARCHIVE and not data.exists():
            from model_build.recommendations.archive import archive_training_data
            from model_build.recommendations.retrain import too_little

            dataset = archive_training_data(items)
            why_not = too_little(dataset)
            if why_not is not None:
                raise DataProblem(f"too little to train on: {why_not}")
        else:
            dataset = read_user_files(data, items)
    trained = train_and_compare(dataset)
    return [export(dataset, trained, workdir)]


def build_inputs() -> dict[str, str]:
    """What determines `build` besides its code (the build cache's key): the MovieLens files' checksums."""
    from model_build.recommendations.data import MOVIELENS_FILES

    return {f"data:{name} sha256": digest for name, digest in sorted(MOVIELENS_FILES.items())}


def seed(stack: Stack, cache_dir: Path) -> str:
    """Add the MovieLens items to the shop's catalogue (items already there are left as they are)."""
    from commerce_ai.catalog.store import Catalog
    from model_build.recommendations.seeding import seed_catalogue

    added = seed_catalogue(Catalog(stack.physical_name("CatalogTable")))
    return f"catalogue: {added} MovieLens item(s) added"


def evaluate(report_dir: Path) -> Path:
    from model_build.recommendations.report import write_report

    return write_report(report_dir)
