"""Text features shared by training (`model_build.support`) and serving: one code path for both.

Messages are short, bilingual and often misspelt, so the intent model reads character n-grams rather than
words: they need no Chinese word segmentation and survive typos ("cancle", "订弹").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Language = Literal["en", "zh"]
NGRAM_SIZES = (1, 2, 3, 4)
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z]+")


def normalize(text: str) -> str:
    """NFKC (full-width letters and punctuation to their plain forms), lower case, one space between words."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def language_of(text: str) -> Language:
    """`zh` when Chinese characters are at least as many as Latin words (so "我的 package 在哪" is Chinese and
    "status of my 订单 please" English); everything else is answered in English."""
    normal = normalize(text)
    chinese = len(_CJK.findall(normal))
    return "zh" if chinese and chinese >= len(_LATIN_WORD.findall(normal)) else "en"


def char_ngrams(text: str) -> list[str]:
    """Character n-grams (sizes `NGRAM_SIZES`) of the normalized text padded with one space at each end."""
    padded = f" {normalize(text)} "
    return [padded[i : i + n] for n in NGRAM_SIZES for i in range(len(padded) - n + 1) if padded[i : i + n] != " "]
