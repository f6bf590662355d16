"""Choose the FAQ matcher's thresholds (`commerce_ai.support.faq.SEMANTIC_MIN`, `BM25_MIN`) on the training
side only, never on the held-out test queries:

- positives: each question of each entry, matched against an index of all the *other* questions (left out
  of both the vectors and the BM25 statistics), must find its own entry;
- negatives: the intent training split's `out_of_scope` lines (English and Chinese chit-chat), which must
  get no answer.

The semantic threshold is the middle of the grid values with the best training accuracy without the
fallback (a plateau: any value on it separates the two sides equally well). The BM25 threshold is then the
lowest grid value with the best training accuracy with the fallback at that semantic threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commerce_ai.support import encoder
from commerce_ai.support.faq import FaqEntry, decide, keyword_tokens
from commerce_ai.support.intents import OUT_OF_SCOPE
from model_build.support.data import authored

SEMANTIC_GRID = tuple(float(v) for v in np.round(np.arange(0.30, 0.71, 0.01), 2))
BM25_GRID = (2.0, 3.0, 4.0, 5.0, 6.0, 8.0)


@dataclass(frozen=True)
class Sides:
    """One query's best entry on each side and the entry it should get (None: no answer)."""

    target: int | None
    semantic_entry: int
    cosine: float
    keyword_entry: int
    keyword_score: float


@dataclass(frozen=True)
class Tuning:
    semantic_min: float
    bm25_min: float
    accuracy_semantic_only: float  # training accuracy at semantic_min without the fallback
    accuracy: float  # with the fallback at bm25_min
    positives: int
    negatives: int


def _sides(
    query: str, vector: np.ndarray, vectors: np.ndarray, tokens: list[list[str]], owner: list[int]
) -> tuple[int, float, int, float]:
    from rank_bm25 import BM25Okapi

    similarity = vectors @ vector
    best = int(np.argmax(similarity))
    scores = BM25Okapi(tokens).get_scores(keyword_tokens(query))
    keyword_best = int(np.argmax(scores))
    return owner[best], float(similarity[best]), owner[keyword_best], float(scores[keyword_best])


def training_queries(entries: list[FaqEntry]) -> list[Sides]:
    questions: list[str] = []
    owner: list[int] = []
    for index, entry in enumerate(entries):
        for question in [*entry.questions.en, *entry.questions.zh]:
            questions.append(question)
            owner.append(index)
    vectors = encoder.embed(questions)
    tokens = [keyword_tokens(q) or ["_"] for q in questions]
    rows: list[Sides] = []
    for left_out, question in enumerate(questions):
        keep = [i for i in range(len(questions)) if i != left_out]
        found = _sides(question, vectors[left_out], vectors[keep], [tokens[i] for i in keep], [owner[i] for i in keep])
        rows.append(Sides(owner[left_out], *found))
    chit_chat = [u.text for u in authored("train") if u.intent == OUT_OF_SCOPE]
    for text, vector in zip(chit_chat, encoder.embed(chit_chat), strict=True):
        rows.append(Sides(None, *_sides(text, vector, vectors, tokens, owner)))
    return rows


def accuracy(rows: list[Sides], semantic_min: float, bm25_min: float | None) -> float:
    hits = 0
    for row in rows:
        decided = decide(row.semantic_entry, row.cosine, row.keyword_entry, row.keyword_score, semantic_min, bm25_min)
        hits += (decided[0] if decided is not None else None) == row.target
    return hits / len(rows)


def choose(entries: list[FaqEntry]) -> Tuning:
    rows = training_queries(entries)
    plain = [accuracy(rows, threshold, None) for threshold in SEMANTIC_GRID]
    plateau = [t for t, a in zip(SEMANTIC_GRID, plain, strict=True) if a == max(plain)]
    semantic_min = plateau[(len(plateau) - 1) // 2]
    with_fallback = [accuracy(rows, semantic_min, b) for b in BM25_GRID]
    bm25_min = BM25_GRID[with_fallback.index(max(with_fallback))]
    return Tuning(
        semantic_min=semantic_min,
        bm25_min=bm25_min,
        accuracy_semantic_only=max(plain),
        accuracy=max(with_fallback),
        positives=sum(r.target is not None for r in rows),
        negatives=sum(r.target is None for r in rows),
    )
