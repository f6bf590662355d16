"""The FAQ: the shop's policies as data (`FaqEntry`, seeded into SupportFaqTable, edited by admins), matched
semantically (the shared sentence encoder, cosine against each entry's questions) with a keyword
fallback (BM25 via `rank-bm25` over words, and character bigrams for Chinese).

A semantic match counts at cosine >= `SEMANTIC_MIN`; below it BM25 answers if its best score reaches
`BM25_MIN`; else there is no answer. Both thresholds were set on the entries' own question paraphrases,
not on the held-out test queries that `make eval` scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.support import encoder
from commerce_ai.support.text import normalize

if TYPE_CHECKING:  # numpy is in MlLayer: imported where used, so the tickets function (no MlLayer) loads
    import numpy as np

SEMANTIC_MIN = 0.55
BM25_MIN = 2.0
FAQ_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
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
        if not self.entries:
            return None
        import numpy as np

        query = encoder.embed([text])[0] if vector is None else vector
        similarity = self._vectors @ query
        best = int(np.argmax(similarity))
        if similarity[best] >= SEMANTIC_MIN:
            return FaqMatch(self.entries[self._owner[best]], float(similarity[best]), "semantic")
        assert self._bm25 is not None
        scores = self._bm25.get_scores(keyword_tokens(text))
        best = int(np.argmax(scores))
        if scores[best] >= BM25_MIN:
            return FaqMatch(self.entries[self._owner[best]], float(scores[best]), "bm25")
        return None
