"""The FAQ: the shop's policies as data (`FaqEntry`, seeded into SupportFaqTable, edited by admins), matched
semantically (the shared sentence encoder, cosine against each entry's questions) with a keyword
fallback (BM25 via `rank-bm25` over words, and character bigrams for Chinese).

A semantic match counts at cosine >= `SEMANTIC_MIN`. Below it, BM25 answers only when its best entry is
also the encoder's best and it scores >= `BM25_MIN`: the keyword evidence confirms a weak semantic match,
it never overrules one. (BM25 alone picks the wrong entry for about half the paraphrases, and Chinese
bigrams score chit-chat such as 人生的意义是什么 above 5: letting it answer on its own below the semantic
threshold lowered held-out accuracy, reports/support.md.) Both thresholds are chosen on the training side
by `model_build.support.faq_tuning`: each entry question matched against the others, and the intent
training split's out-of-scope lines, which must get no answer. The held-out test queries play no part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.api_fields import identifier_pattern
from commerce_ai.support import encoder
from commerce_ai.support.text import normalize

if TYPE_CHECKING:  # numpy is in MlLayer: imported where used, so the tickets function (no MlLayer) loads
    import numpy as np

SEMANTIC_MIN = 0.46
BM25_MIN = 4.0
FAQ_ID = identifier_pattern("-", 64, lowercase=True)  # a slug, and a path segment (api_fields)
Topic = Literal["returns", "refunds", "shipping", "payment", "coupons", "sizes", "warranty", "other"]


class Localized(BaseModel):
    model_config = ConfigDict(extra="forbid")

    en: str = Field(min_length=1, max_length=2000)
    zh: str = Field(min_length=1, max_length=2000)


class LocalizedQuestions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    en: list[str] = Field(min_length=1, max_length=20)
    zh: list[str] = Field(min_length=1, max_length=20)


class FaqEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faq_id: str = Field(pattern=FAQ_ID)
    topic: Topic
    questions: LocalizedQuestions
    answer: Localized


@dataclass(frozen=True)
class FaqMatch:
    entry: FaqEntry
    score: float
    method: Literal["semantic", "bm25"]


_WORD = re.compile(r"[a-z0-9]+")
# Function words carry no topic: without them "is there a time limit" no longer matches "is there a discount".
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "do",
        "does",
        "did",
        "i",
        "my",
        "me",
        "you",
        "your",
        "we",
        "our",
        "it",
        "its",
        "this",
        "that",
        "there",
        "to",
        "of",
        "for",
        "on",
        "in",
        "at",
        "by",
        "with",
        "and",
        "or",
        "can",
        "could",
        "will",
        "would",
        "how",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "if",
        "so",
        "not",
        "no",
        "any",
        "have",
        "has",
        "had",
    ]
)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def keyword_tokens(text: str) -> list[str]:
    """English words plus Chinese character bigrams (and single characters of one-character runs)."""
    normal = normalize(text)
    tokens = [word for word in _WORD.findall(normal) if word not in _STOPWORDS]
    for run in _CJK_RUN.findall(normal):
        tokens.extend([run[i : i + 2] for i in range(len(run) - 1)] or [run])
    return tokens


class FaqIndex:
    def __init__(self, entries: list[FaqEntry]) -> None:
        from rank_bm25 import BM25Okapi

        self.entries = entries
        self._owner: list[int] = []
        questions: list[str] = []
        for index, entry in enumerate(entries):
            for question in [*entry.questions.en, *entry.questions.zh]:
                questions.append(question)
                self._owner.append(index)
        self._vectors = encoder.embed(questions)
        self._bm25 = BM25Okapi([keyword_tokens(q) or ["_"] for q in questions]) if questions else None

    def match(self, text: str, vector: np.ndarray | None = None) -> FaqMatch | None:
        return self.match_with(text, vector, SEMANTIC_MIN, BM25_MIN)

    def match_with(
        self, text: str, vector: np.ndarray | None, semantic_min: float, bm25_min: float | None
    ) -> FaqMatch | None:
        """`match` at given thresholds (`bm25_min` None: no keyword fallback), for the tuning and the report."""
        if not self.entries:
            return None
        import numpy as np

        query = encoder.embed([text])[0] if vector is None else vector
        similarity = self._vectors @ query
        best = int(np.argmax(similarity))
        keyword_entry, keyword_score = None, 0.0
        if bm25_min is not None and similarity[best] < semantic_min:  # BM25 only where it may answer
            assert self._bm25 is not None
            scores = self._bm25.get_scores(keyword_tokens(text))
            keyword_best = int(np.argmax(scores))
            keyword_entry, keyword_score = self._owner[keyword_best], float(scores[keyword_best])
        decided = decide(
            self._owner[best], float(similarity[best]), keyword_entry, keyword_score, semantic_min, bm25_min
        )
        if decided is None:
            return None
        entry, method = decided
        return FaqMatch(self.entries[entry], float(similarity[best]) if method == "semantic" else keyword_score, method)


def decide(
    semantic_entry: int,
    cosine: float,
    keyword_entry: int | None,
    keyword_score: float,
    semantic_min: float,
    bm25_min: float | None,
) -> tuple[int, Literal["semantic", "bm25"]] | None:
    """The matcher's rule on the best entry of each side (shared with `model_build.support.faq_tuning`)."""
    if cosine >= semantic_min:
        return semantic_entry, "semantic"
    if bm25_min is not None and keyword_entry == semantic_entry and keyword_score >= bm25_min:
        return semantic_entry, "bm25"
    return None
