"""The scheduled retrain (daily by default, `RecommendationsRetrainFunction`): train `recommendations-ranker`
on the behaviour-event archive's last days and the shop's catalogue, publish it as a candidate version, and
activate it only if it beats the champion on the protocol's validation items.

The comparison, on the new data's validation items (each user's second-to-last interaction; never the
test item):
- the challenger: its validation HR@10 and NDCG@10 from the build itself (models fitted on the training
  part only, `export.train_and_compare`);
- the champion (the active version, as served): its ranker and neighbours rank for each of those users,
  given the same training-part history, excluding the same items. Its neighbours were fitted on whatever
  it was built from, which may include these validation interactions: an edge for the champion, so the
  rule is conservative (a challenger that activates beat a champion that may have seen the answers).

`decide` is the rule: no champion (or one that cannot be read) -> activate; else activate only when the
challenger's HR@10 is higher, or equal with a higher NDCG@10. The candidate is published and registered
(validated as every version is) either way, so an operator can still activate it by hand.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.artifacts.validation import validate_version
from commerce_ai.catalog.store import Catalog
from commerce_ai.erasure import user_hash
from commerce_ai.recommendations.features import History, candidate_scores, generate_candidates, ranker_inputs
from commerce_ai.recommendations.model import EXPECTED_FEATURES, MODEL_NAME, ServedModel, open_recommender
from commerce_ai.recommendations.service import facts_of
from commerce_ai.recommendations.state import RecommenderState
from commerce_ai.stream.archive import read_events
from model_build import publish
from model_build.recommendations import protocol, ranker
from model_build.recommendations.data import DataProblem, Dataset, from_archive, leave_last_out
from model_build.recommendations.export import export, train_and_compare
from model_build.recommendations.images import IndexLoader, image_vectors, visual_index_loader

WINDOW_DAYS = 90
MIN_EVALUABLE_USERS = 20  # users with 3+ interactions (a validation item): fewer and a comparison is noise
CATALOGUE_PAGE = 1000


@dataclass(frozen=True)
class Verdict:
    activate: bool
    reason: str


@dataclass(frozen=True)
class RetrainResult:
    outcome: str  # skipped, candidate (published, not better) or activated
    reason: str
    interactions: int = 0
    users: int = 0
    items: int = 0
    version: str | None = None
    champion_version: str | None = None
    challenger_hr_at_10: float | None = None
    challenger_ndcg_at_10: float | None = None
    champion_hr_at_10: float | None = None
    champion_ndcg_at_10: float | None = None

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def decide(challenger: protocol.Scores, champion: protocol.Scores | None) -> Verdict:
    """Activate the challenger only if it beats the champion on the same validation items."""
    if champion is None:
        return Verdict(True, "no champion to beat")
    pair = (
        f"HR@10 {challenger.hr:.4f} / NDCG@10 {challenger.ndcg:.4f}"
        f" vs the champion's {champion.hr:.4f} / {champion.ndcg:.4f}"
    )
    if challenger.hr > champion.hr or (challenger.hr == champion.hr and challenger.ndcg > champion.ndcg):
        return Verdict(True, f"{pair}: beats it")
    return Verdict(False, f"{pair}: does not beat it")


def catalogue_items(catalog: Catalog) -> pd.DataFrame:
    """Every catalogue item as training's items (`item_id, title, categories`), so that items nobody has
    touched yet enter the model with their content neighbours."""
    rows: list[tuple[str, str, list[str]]] = []
    cursor: str | None = None
    while True:
        page, cursor = catalog.page(CATALOGUE_PAGE, cursor)
        for item in page:
            facts = facts_of(item)
            rows.append((facts.item_id, facts.title, list(facts.categories)))
        if cursor is None:
            break
    return pd.DataFrame(rows, columns=["item_id", "title", "categories"])


def archive_dataset(records: Iterable[dict[str, Any]], items: pd.DataFrame) -> Dataset:
    """Archive records (`commerce_ai.stream.archive.read_events`) and catalogue items as a Dataset. The
    records become the columns `from_archive` reads here rather than through `model_build.behaviour_events`,
    whose local-stack fallback (infra) is not in the retrain image."""
    frame = pd.DataFrame.from_records(
        list(records), columns=["event_id", "user_id", "item_id", "event_type", "timestamp"]
    )
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    frame = frame.sort_values(["timestamp", "event_id"], kind="stable").reset_index(drop=True)
    dataset = from_archive(frame)
    if items.empty:
        return dataset
    return Dataset(dataset.interactions, items, dataset.users, f"{dataset.source} and the shop's catalogue")


def without_erased(records: Iterable[dict[str, Any]], erased: frozenset[str]) -> Iterable[dict[str, Any]]:
    """The records of users not in the erasure log (`erased`: user hashes, as the log keeps them)."""
    return (record for record in records if user_hash(str(record["user_id"])) not in erased)


def champion_ranker(champion: ServedModel) -> protocol.Ranker:
    """The served model ranking for a user of another state (the challenger's validation stage): the
    history and exclusions are mapped by item id, the top 10 mapped back (items the stage does not know
    are dropped: they cannot be a target)."""
    known = champion.state

    def rank(state: RecommenderState, user: int, history: History, seen: np.ndarray) -> np.ndarray:
        mapped = [known.item_index(str(state.item_ids[i])) for i in history.items]
        kept = [(m, w) for m, w in zip(mapped, history.weights, strict=True) if m is not None]
        champion_history = History(
            np.array([m for m, _ in kept], dtype=np.int64), np.array([w for _, w in kept], dtype=np.float32)
        )
        excluded = np.zeros(known.n_items, dtype=bool)
        for i in np.flatnonzero(seen):
            m = known.item_index(str(state.item_ids[i]))
            if m is not None:
                excluded[m] = True
        scores = candidate_scores(known, champion_history)
        pool = generate_candidates(known, scores, excluded, ranker.CANDIDATES)
        if len(pool) == 0:
            return np.zeros(0, dtype=np.int64)
        champion_user = known.user_index(str(state.user_ids[user]))
        predicted = champion.score(ranker_inputs(known, champion_user, champion_history, scores, pool))
        ordered = pool[np.argsort(-predicted, kind="stable")]
        back = [state.item_index(str(known.item_ids[i])) for i in ordered[: 2 * protocol.TOP_K]]
        return np.array([b for b in back if b is not None][: protocol.TOP_K], dtype=np.int64)

    return rank


def read_archive(
    archive_bucket: str,
    items: pd.DataFrame,
    now: datetime,
    erased: frozenset[str],
    days: int = WINDOW_DAYS,
    images: IndexLoader | None = None,
) -> Dataset:
    """The archive's `days` days up to `now` without the erased users' events, with `items` (the catalogue's,
    or a user's items file) as a Dataset: what the daily retrain and `commerce-ai train recommendations`
    (its default data) train on. A DataProblem when the archive holds no interactions for the period.
    `images`: the active visual index's loader, whose embeddings join the items' content vectors."""
    first, last = (now - timedelta(days=days - 1)).date(), now.date()
    try:
        dataset = archive_dataset(without_erased(read_events(archive_bucket, first, last), erased), items)
    except DataProblem as exc:
        raise DataProblem(f"{exc} ({first}..{last}, erased users left out)") from exc
    source = f"{dataset.source} ({first}..{last})"
    vectors = image_vectors(images, list(dataset.items["item_id"].astype(str))) if images is not None else None
    if vectors is not None:
        source += f", visual-index {vectors.version} image embeddings of {len(vectors.item_ids)} items"
    return replace(dataset, source=source, images=vectors)


def too_little(dataset: Dataset) -> str | None:
    """Why `dataset` is too small to train and compare on (None: it is not): fewer than
    MIN_EVALUABLE_USERS users with a validation item, and a comparison on them would be noise."""
    _, validation, _ = leave_last_out(dataset.interactions)
    if len(validation) >= MIN_EVALUABLE_USERS:
        return None
    users = dataset.interactions["user_id"].nunique()
    return (
        f"{len(validation)} of {users} users have a validation item (3 or more interactions) in "
        f"{dataset.source}; {MIN_EVALUABLE_USERS} are needed"
    )


def run_retrain(
    archive_bucket: str,
    catalog: Catalog | None,
    artifacts: ArtifactStore,
    registry: ModelRegistry,
    now: datetime,
    erased: frozenset[str] = frozenset(),
    days: int = WINDOW_DAYS,
    scratch: Path | None = None,
) -> RetrainResult:
    """`erased`: the erasure log's user hashes (`ErasureLog.erased_hashes`); every archived event of those
    users is left out, whenever it was stamped."""
    items = (
        catalogue_items(catalog) if catalog is not None else pd.DataFrame(columns=["item_id", "title", "categories"])
    )
    try:
        with tempfile.TemporaryDirectory(prefix="recommendations-images-", dir=scratch) as images_cache:
            index = visual_index_loader(registry, artifacts, Path(images_cache))
            dataset = read_archive(archive_bucket, items, now, erased, days, images=index)
    except DataProblem as exc:
        return RetrainResult("skipped", str(exc))
    counts = (len(dataset.interactions), dataset.interactions["user_id"].nunique(), len(dataset.items))
    why_not = too_little(dataset)
    if why_not is not None:
        return RetrainResult("skipped", why_not, *counts)
    try:
        trained = train_and_compare(dataset)
    except DataProblem as exc:
        return RetrainResult("skipped", str(exc), *counts)
    challenger = trained.validation["wide_and_deep"]

    with tempfile.TemporaryDirectory(prefix="recommendations-retrain-", dir=scratch) as work:
        workdir = Path(work)
        champion_version = registry.active_version(MODEL_NAME)
        champion_scores: protocol.Scores | None = None
        if champion_version is not None:
            try:
                champion = ModelLoader(
                    MODEL_NAME,
                    expected_features=EXPECTED_FEATURES,
                    registry=registry,
                    store=artifacts,
                    opener=open_recommender,
                    refresh_seconds=0,
                    cache_dir=workdir / "champion",
                ).get()
                champion_scores = protocol.evaluate_ranker(trained.stage, champion_ranker(champion.model))
            except Exception as exc:  # a champion that cannot be read or run is no champion
                champion_version = f"{champion_version} (unreadable: {type(exc).__name__})"
        built = export(dataset, trained, workdir / "build")
        manifest = publish(artifacts, built)
        checked = validate_version(artifacts, registry, MODEL_NAME, manifest.version, scratch=workdir)
    if checked.outcome not in ("registered", "unchanged"):
        why = f"the candidate was refused: {checked.reason}"
        return RetrainResult("skipped", why, *counts, version=manifest.version)
    verdict = decide(challenger, champion_scores)
    if verdict.activate:
        registry.activate(MODEL_NAME, manifest.version)
    return RetrainResult(
        "activated" if verdict.activate else "candidate",
        verdict.reason,
        *counts,
        version=manifest.version,
        champion_version=champion_version,
        challenger_hr_at_10=round(challenger.hr, 4),
        challenger_ndcg_at_10=round(challenger.ndcg, 4),
        champion_hr_at_10=None if champion_scores is None else round(champion_scores.hr, 4),
        champion_ndcg_at_10=None if champion_scores is None else round(champion_scores.ndcg, 4),
    )
