"""The recommendation pipeline, free of AWS: history (long-term + session) -> candidates -> ranker ->
feedback (fatigue, not interested) -> filters -> diversity and exploration -> reasons.

`ItemSource` is how the engine learns an item's stock, price and category: the shared catalogue in
production (`service`), a dict in tests. An item the catalogue does not hold is described from the model
(title and categories from training, in stock).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commerce_ai.errors import InvalidInput
from commerce_ai.recommendations import rerank
from commerce_ai.recommendations.content import nearest_to, vector_for
from commerce_ai.recommendations.features import (
    History,
    best_items,
    candidate_scores,
    category_profile,
    cold_start_segment,
    generate_candidates,
    generation_score,
    neighbour_scores,
    ranker_inputs,
    segment_scores,
)
from commerce_ai.recommendations.filters import ItemFacts, Predicate
from commerce_ai.recommendations.model import ServedModel
from commerce_ai.recommendations.session import NEIGHBOUR_PENALTY, SessionState, fatigue, session_weights
from commerce_ai.recommendations.state import RecommenderState

if TYPE_CHECKING:
    import numpy as np

CANDIDATES = 100  # what the ranker scores per request (as in training)
FILTERED_CANDIDATES = 400  # with an expression filter, a deeper pool so that enough items pass it
NEW_ITEM_DAYS = 30
# The session items' weight relative to the position and time decay alone (`user_history`): the best of 0-16
# on a replay of each user's last session before their validation item (HR@10 0.223 against 0.170 at 1;
# reports/recommendations.md, which also replays the test items' sessions). 0 is the model alone.
SESSION_WEIGHT = 8.0
# item ids -> their facts for those the catalogue holds (one BatchGetItem per 100 ids in production)
ItemSource = Callable[[list[str]], dict[str, ItemFacts]]


@dataclass(frozen=True)
class Recommended:
    item_id: str
    title: str
    category: str | None
    score: float
    reason: str


@dataclass(frozen=True)
class Outcome:
    items: list[Recommended]
    cold_start: bool
    session_items: int
    segment: dict[str, str] | None = None  # cold start: the segment whose popularity was served


def parse_segment(text: str | None, state: RecommenderState) -> dict[str, str]:
    """`attribute:value,attribute:value` (e.g. `age_band:25-34,gender:F`) as a dict; an attribute the
    model does not know is a 400 naming it (an unseen value of a known one just falls back)."""
    if not text:
        return {}
    segment: dict[str, str] = {}
    for part in text.split(","):
        name, _, value = part.strip().partition(":")
        if not name or not value:
            raise InvalidInput(f"segment: {part.strip()!r} is not attribute:value")
        if name not in state.attribute_names:
            known = ", ".join(state.attribute_names) or "none: the model was trained without user attributes"
            raise InvalidInput(f"segment: unknown attribute {name!r} (known: {known})")
        segment[name] = value
    return segment


def segment_reason(segment: dict[str, str]) -> str:
    return "popular with " + ", ".join(f"{name} {value}" for name, value in segment.items())


def model_facts(state: RecommenderState, index: int) -> ItemFacts:
    import numpy as np

    categories = tuple(str(state.category_names[j]) for j in np.flatnonzero(state.item_categories[index]))
    return ItemFacts(str(state.item_ids[index]), str(state.item_titles[index]), categories)


def user_history(
    state: RecommenderState,
    user_id: str,
    session: SessionState,
    now: float,
    context_item: str | None = None,
    session_weight: float = SESSION_WEIGHT,
) -> tuple[History, int]:
    """Long-term history (the model's) then the session's items with their time decay (the blend: see
    `session`), then the page's item if the request names one. Returns the history and the session's
    item count. `session_weight` scales the session items' weights (SESSION_WEIGHT as served; 0 leaves the session out,
    the model alone; `make eval`'s replay sweeps it)."""
    import numpy as np

    user = state.user_index(user_id)
    long_term = list(state.history(user)[0]) if user is not None else []
    blended = session_weights(session, now) if session_weight > 0 else []
    recent = [(state.item_index(item), session_weight * decay) for item, decay in blended]
    if context_item is not None:
        recent.append((state.item_index(context_item), 1.0))
    known = [(i, decay) for i, decay in recent if i is not None]
    items = [*long_term, *(i for i, _ in known)]
    extra = np.array([1.0] * len(long_term) + [decay for _, decay in known])
    return History.of(items, extra), len(known)


def excluded_mask(state: RecommenderState, user_id: str, history: History, session: SessionState) -> np.ndarray:
    """Items never recommended: the model's history of the user (rated or bought in the training data),
    and the session's purchases, ratings, cart and dismissed items."""
    import numpy as np

    excluded = np.zeros(state.n_items, dtype=bool)
    user = state.user_index(user_id)
    if user is not None:
        excluded[state.history(user)[0]] = True
    for item in [*session.excluded, *session.not_interested]:
        index = state.item_index(item)
        if index is not None:
            excluded[index] = True
    return excluded


def feedback_factors(state: RecommenderState, session: SessionState, candidates: np.ndarray, now: float) -> np.ndarray:
    """Per candidate, the share of its score kept after fatigue and the not-interested neighbour penalty."""
    import numpy as np

    factors = np.array([fatigue(session, str(state.item_ids[c]), now) for c in candidates])
    position = {int(c): n for n, c in enumerate(candidates)}
    for item in session.not_interested:
        index = state.item_index(item)
        if index is None:
            continue
        neighbours, weights = state.similar_items[index], state.similar_weights[index]
        top = float(weights.max()) if len(weights) else 0.0
        for neighbour, weight in zip(neighbours, weights, strict=True):
            at = position.get(int(neighbour))
            if neighbour >= 0 and at is not None and top > 0:
                factors[at] *= 1.0 - NEIGHBOUR_PENALTY * float(weight) / top
    return factors


def relevance(scores: np.ndarray) -> np.ndarray:
    """The ranker's logits as a softmax over the list (its training loss), so scores read as shares."""
    import numpy as np

    if len(scores) == 0:
        return scores
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()


def reason_for(state: RecommenderState, history: History, index: int, cold_start: bool) -> str:
    """`because you viewed X` for the history item contributing most to this one's cosine score, else
    `popular in <category>`."""
    import numpy as np

    best, best_value = -1, 0.0
    for h, weight in zip(history.items, history.weights, strict=True):
        where = np.flatnonzero(state.similar_items[h] == index)
        if len(where):
            value = float(weight) * float(state.similar_weights[h][where[0]])
            if value > best_value:
                best, best_value = int(h), value
    if best >= 0 and not cold_start:
        return f"because you viewed {state.item_titles[best]}"
    category = state.primary_category()[index]
    return f"popular in {state.category_names[category]}" if category >= 0 else "popular"


def _facts_in_order(
    state: RecommenderState, ordered: Iterable[int], source: ItemSource, first: int, chunk: int = 100
) -> Iterable[tuple[int, ItemFacts]]:
    """Each item's facts, catalogue first, fetched as the caller walks down the list: `first` items, then
    chunks of `chunk` (BatchGetItem's 100). A first read sized to what the caller needs keeps an unfiltered
    request to about that many item reads (each one read unit, or half of one, on DynamoDB)."""
    pending = list(ordered)
    start = 0
    while start < len(pending):
        size = first if start == 0 else chunk
        part = pending[start : start + size]
        start += size
        found = source([str(state.item_ids[i]) for i in part])
        for i in part:
            yield i, found.get(str(state.item_ids[i])) or model_facts(state, i)


def recommend(
    model: ServedModel,
    user_id: str,
    session: SessionState,
    now: float,
    n: int,
    source: ItemSource,
    predicate: Predicate | None = None,
    context_item: str | None = None,
    mmr_weight: float = rerank.MMR_LAMBDA,
    exploration_share: float = rerank.EXPLORATION_SHARE,
    segment: dict[str, str] | None = None,
    session_weight: float = SESSION_WEIGHT,
) -> Outcome:
    import numpy as np

    state = model.state
    history, session_items = user_history(state, user_id, session, now, context_item, session_weight)
    cold_start = len(history) == 0
    excluded = excluded_mask(state, user_id, history, session)
    scores = candidate_scores(state, history)
    size = FILTERED_CANDIDATES if predicate else CANDIDATES
    user = state.user_index(user_id)
    chosen_segment: dict[str, str] | None = None
    if cold_start:
        # Nothing personal to rank with (the response says cold_start): the popularity of the user's
        # segment (the request's or the user's known attributes), else of the whole shop.
        chosen_segment = cold_start_segment(state, user, segment or {})
        popular = segment_scores(state, chosen_segment)
        pool = best_items(popular, excluded, size)
        shares = popular[pool] / max(1e-12, float(popular[pool].sum()))
    else:
        pool = generate_candidates(state, scores, excluded, size)
        shares = relevance(model.score(ranker_inputs(state, user, history, scores, pool)))
    adjusted = shares * feedback_factors(state, session, pool, now)
    order = pool[np.argsort(-adjusted, kind="stable")]
    score_of = dict(zip(pool.tolist(), adjusted.tolist(), strict=True))

    explore = rerank.exploration_slots(n, exploration_share)
    wanted = (n - explore) * 3  # MMR picks from three times what it needs
    passing: list[tuple[int, ItemFacts]] = []
    # Half again what MMR needs, for the out-of-stock and filtered-out items met on the way.
    for index, facts in _facts_in_order(state, order, source, first=min(100, wanted + wanted // 2)):
        if facts.in_stock and (predicate is None or predicate(facts)):
            passing.append((index, facts))
            if len(passing) >= wanted:
                break
    picked_positions = rerank.mmr(
        np.array([score_of[i] for i, _ in passing]),
        state.item_categories[[i for i, _ in passing]] if passing else np.zeros((0, 1)),
        n - explore,
        mmr_weight,
    )
    chosen = [passing[p] for p in picked_positions]
    items = [
        Recommended(
            facts.item_id,
            facts.title,
            facts.categories[0] if facts.categories else None,
            score_of[index],
            segment_reason(chosen_segment) if chosen_segment else reason_for(state, history, index, cold_start),
        )
        for index, facts in chosen
    ]
    taken = {index for index, _ in chosen} | set(np.flatnonzero(excluded).tolist())
    items += explore_items(state, user_id, history, taken, n - len(items), source, predicate, now)
    return Outcome(items, cold_start, session_items, chosen_segment)


def explore_items(
    state: RecommenderState,
    user_id: str,
    history: History,
    taken: set[int],
    slots: int,
    source: ItemSource,
    predicate: Predicate | None,
    now: float,
) -> list[Recommended]:
    """Fill `slots` with under-exposed items (new ones nobody has touched among them) closest in content to
    the user's history: the recency-weighted content neighbours of the history items plus the match with
    the user's categories, since nobody's behaviour says anything of them yet; ties broken by a hash of
    user and day (a different pick each day)."""
    import numpy as np

    if slots <= 0:
        return []
    eligible = rerank.under_exposed(state.item_popularity)
    eligible[list(taken)] = False
    indices = np.flatnonzero(eligible)
    profile = category_profile(state, history)
    day = int(now // 86_400)
    noise = np.array(
        [int.from_bytes(hashlib.sha256(f"{user_id}:{day}:{i}".encode()).digest()[:4], "big") / 2**32 for i in indices]
    )
    affinity = state.item_categories[indices] @ profile if len(indices) else np.zeros(0)
    if state.content_items is not None and state.content_weights is not None and len(history):
        content = neighbour_scores(state.content_items, state.content_weights, history, state.n_items)[indices]
        affinity = affinity + content / max(1e-9, float(content.max(initial=0.0)))
    order = indices[np.argsort(-(affinity + 0.1 * noise), kind="stable")]
    found: list[Recommended] = []
    for index, facts in _facts_in_order(state, order[: max(4 * slots, 20)], source, first=2 * slots):
        if not facts.in_stock or (predicate is not None and not predicate(facts)):
            continue
        fresh = state.trained_until - state.item_first_seen[index] <= NEW_ITEM_DAYS * 86_400
        category = facts.categories[0] if facts.categories else None
        reason = "new" if fresh else "rarely shown yet"
        found.append(
            Recommended(facts.item_id, facts.title, category, 0.0, f"{reason} in {category}" if category else reason)
        )
        if len(found) >= slots:
            break
    return found


def similar(model: ServedModel, item_id: str, n: int, source: ItemSource) -> list[Recommended] | None:
    """The item's cosine neighbours in stock, then its content neighbours (categories and title words) for
    what the cosine ones leave: all of the list for an item nobody has touched yet, or for a catalogue
    item added after the model was built (described from the catalogue). None: neither knows the item."""
    import numpy as np

    state = model.state
    index = state.item_index(item_id)
    if index is None:
        facts = source([item_id]).get(item_id)
        if facts is None:
            return None
        title = facts.title
        names = [str(c) for c in state.category_names]
        vector = vector_for(facts.categories, title, names, state.title_vocabulary, _idf(state))
        content, content_weights = nearest_to(vector, state.content_matrix(), 3 * n + 10)
        cosine, cosine_weights = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    else:
        title = str(state.item_titles[index])
        valid = state.similar_items[index] >= 0
        cosine, cosine_weights = state.similar_items[index][valid], state.similar_weights[index][valid]
        if state.content_items is not None and state.content_weights is not None:
            has = state.content_items[index] >= 0
            content, content_weights = state.content_items[index][has], state.content_weights[index][has]
        else:
            content, content_weights = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    listed = [(int(i), float(w), f"often liked with {title}") for i, w in zip(cosine, cosine_weights, strict=True)]
    seen = {i for i, _, _ in listed}
    listed += [
        (int(i), float(w), f"similar to {title}")
        for i, w in zip(content, content_weights, strict=True)
        if int(i) not in seen and int(i) != index
    ]
    reasons = {i: (w, why) for i, w, why in listed}
    out: list[Recommended] = []
    for neighbour, facts in _facts_in_order(state, [i for i, _, _ in listed], source, first=n + n // 2 + 1):
        if facts.in_stock:
            weight, why = reasons[neighbour]
            category = facts.categories[0] if facts.categories else None
            out.append(Recommended(facts.item_id, facts.title, category, weight, why))
            if len(out) >= n:
                break
    return out


def _idf(state: RecommenderState) -> np.ndarray:
    import numpy as np

    return state.title_idf if state.title_idf is not None else np.zeros(0, dtype=np.float32)


def rank_items(
    model: ServedModel, user_id: str, session: SessionState, now: float, item_ids: list[str]
) -> tuple[list[Recommended], list[str], bool]:
    """The caller's items in the user's order (known ones by the ranker with feedback applied), the items
    the model does not know (in the order given), and whether the user had no history (cold start)."""
    import numpy as np

    state = model.state
    history, _ = user_history(state, user_id, session, now)
    known = [(item, state.item_index(item)) for item in dict.fromkeys(item_ids)]
    unknown = [item for item, i in known if i is None]
    scores = candidate_scores(state, history)
    indices = np.array([i for _, i in known if i is not None], dtype=np.int64)
    if len(indices) == 0:
        return [], unknown, len(history) == 0
    # In the generator's order, as the ranker saw candidates in training (their rank is a feature).
    indices = indices[np.argsort(-generation_score(state, scores)[indices], kind="stable")]
    user = state.user_index(user_id)
    cold_start = len(history) == 0
    if cold_start:  # as GET /recommendations: the popularity of the user's segment, or the shop's
        popular = segment_scores(state, cold_start_segment(state, user, {}))[indices]
        shares = popular / max(1e-12, float(popular.sum()))
    else:
        shares = relevance(model.score(ranker_inputs(state, user, history, scores, indices)))
    adjusted = shares * feedback_factors(state, session, indices, now)
    ranked = []
    for position in np.argsort(-adjusted, kind="stable"):
        index = int(indices[position])
        facts = model_facts(state, index)
        category = facts.categories[0] if facts.categories else None
        ranked.append(
            Recommended(
                facts.item_id,
                facts.title,
                category,
                float(adjusted[position]),
                reason_for(state, history, index, cold_start),
            )
        )
    return ranked, unknown, cold_start
