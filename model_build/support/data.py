"""The authored intent data (data/intents/*.txt) and the seeded augmentation of the training split.

`<lang>.train.txt` trains and, by grouped cross-validation, tunes; `<lang>.test.txt` was written apart
from it and is read only by `evaluate()` (held out: never used to train or to choose anything).
"""

# ruff: noqa: RUF001  (Chinese replies and patterns use Chinese full-width punctuation on purpose)

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from commerce_ai.support.intents import INTENTS
from commerce_ai.support.text import Language

DATA = Path(__file__).resolve().parent / "data"
INTENT_DATA = DATA / "intents"
LANGUAGES: tuple[Language, ...] = ("en", "zh")


@dataclass(frozen=True)
class Utterance:
    text: str
    intent: str
    language: Language
    group: int  # the authored line it comes from: augmented copies share it, so folds never split them


def read_split(split: str, language: Language) -> list[tuple[str, str]]:
    """(text, intent) pairs of one file: `[intent]` headers, one utterance per line, `#` comments."""
    pairs: list[tuple[str, str]] = []
    intent: str | None = None
    path = INTENT_DATA / f"{language}.{split}.txt"
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            intent = line[1:-1]
            if intent not in INTENTS:
                raise ValueError(f"{path.name}:{number}: unknown intent {intent!r}")
            continue
        if intent is None:
            raise ValueError(f"{path.name}:{number}: an utterance before any [intent]")
        pairs.append((line, intent))
    return pairs


def authored(split: str) -> list[Utterance]:
    out: list[Utterance] = []
    for language in LANGUAGES:
        for text, intent in read_split(split, language):
            out.append(Utterance(text, intent, language, len(out)))
    return out


_EN_PREFIXES = ("hi, ", "hello ", "please ", "excuse me, ", "hey ", "quick question: ")
_EN_SUFFIXES = (" thanks", " please", "?", "!!", " asap", " thank you")
_ZH_PREFIXES = ("你好，", "请问", "亲，", "麻烦问下，", "您好，", "客服，")
_ZH_SUFFIXES = ("，谢谢", "？", "啊", "呢", "！！", "，麻烦了")


def _typo(text: str, rng: random.Random) -> str:
    """One slip of the keyboard: a letter dropped, doubled or swapped with its neighbour (Chinese: a
    character dropped or doubled, as a fast pinyin typist does)."""
    positions = [i for i, ch in enumerate(text) if ch.isalnum() or "\u4e00" <= ch <= "\u9fff"]
    if len(positions) < 3:
        return text
    i = rng.choice(positions[1:])
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "drop":
        return text[:i] + text[i + 1 :]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def augmented(utterances: list[Utterance], copies: int = 3, seed: int = 15) -> list[Utterance]:
    """Each authored line plus `copies` variants: a politeness prefix or suffix, a typo, or both."""
    rng = random.Random(seed)
    out = list(utterances)
    for u in utterances:
        prefixes, suffixes = (_ZH_PREFIXES, _ZH_SUFFIXES) if u.language == "zh" else (_EN_PREFIXES, _EN_SUFFIXES)
        for _ in range(copies):
            text = u.text
            roll = rng.random()
            if roll < 0.4:
                text = rng.choice(prefixes) + text
            elif roll < 0.7:
                text = text + rng.choice(suffixes)
            if rng.random() < 0.6:
                text = _typo(text, rng)
            out.append(Utterance(text, u.intent, u.language, u.group))
    return out
