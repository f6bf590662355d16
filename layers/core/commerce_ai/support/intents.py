"""The intent classifier as served: the shared sentence encoder (`encoder.embed`), then a multinomial
linear head (softmax), then a confidence threshold under which the answer is `out_of_scope`.

The artifact (`support-intents`, framework `json`) holds the classes, the head's coefficients and the
threshold chosen on validation data (`model_build.support.train`); numpy computes the rest, so the
serving function carries no scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from commerce_ai.support import encoder

if TYPE_CHECKING:  # numpy is in MlLayer: imported where used, so the tickets function (no MlLayer) loads
    import numpy as np

INTENTS: tuple[str, ...] = (
    "order_status",
    "return_request",
    "refund_status",
    "shipping_time",
    "change_address",
    "cancel_order",
    "payment_problem",
    "product_question",
    "size_guide",
    "coupon_promo",
    "complaint",
    "human_agent",
    "greeting",
    "goodbye",
    "out_of_scope",
)
OUT_OF_SCOPE = "out_of_scope"
MODEL_NAME = "support-intents"
MODEL_FILE = "intents.json"


@dataclass(frozen=True)
class IntentPrediction:
    intent: str
    confidence: float
    best_guess: str  # the top class before the threshold: what a clarifying reply can suggest


class IntentModel:
    def __init__(self, classes: list[str], coef: np.ndarray, intercept: np.ndarray, threshold: float) -> None:
        if sorted(classes) != sorted(INTENTS):
            raise ValueError(f"the model's classes {classes} are not the bot's intents")
        if coef.shape != (len(classes), encoder.DIMENSIONS) or intercept.shape != (len(classes),):
            raise ValueError(f"the model's coefficients are {coef.shape}, not ({len(classes)}, {encoder.DIMENSIONS})")
        if not 0.0 <= threshold < 1.0:
            raise ValueError(f"threshold {threshold} is not in [0, 1)")
        self.classes = classes
        self.coef = coef
        self.intercept = intercept
        self.threshold = threshold

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> IntentModel:
        import numpy as np

        return cls(
            classes=[str(c) for c in document["classes"]],
            coef=np.asarray(document["coef"], dtype=np.float64),
            intercept=np.asarray(document["intercept"], dtype=np.float64),
            threshold=float(document["threshold"]),
        )

    def document(self) -> dict[str, Any]:
        return {
            "encoder": encoder.encoder_name(),
            "classes": self.classes,
            "coef": [[round(float(v), 7) for v in row] for row in self.coef],
            "intercept": [round(float(v), 7) for v in self.intercept],
            "threshold": self.threshold,
        }

    def probabilities_of(self, vectors: np.ndarray) -> np.ndarray:
        import numpy as np

        logits = vectors.astype(np.float64) @ self.coef.T + self.intercept
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def decide(self, probabilities: np.ndarray) -> IntentPrediction:
        best = int(probabilities.argmax())
        confidence = float(probabilities[best])
        intent = self.classes[best] if confidence >= self.threshold else OUT_OF_SCOPE
        return IntentPrediction(intent=intent, confidence=confidence, best_guess=self.classes[best])

    def predict_vector(self, vector: np.ndarray) -> IntentPrediction:
        return self.decide(self.probabilities_of(vector.reshape(1, -1))[0])

    def predict(self, text: str) -> IntentPrediction:
        return self.predict_vector(encoder.embed([text])[0])


def open_intents(manifest: Any, directory: Any) -> IntentModel:
    """The intent model as the dialogue serves it (the registry's validator opens it the same way)."""
    import json

    with (directory / manifest.entrypoint).open(encoding="utf-8") as handle:
        return IntentModel.from_document(json.load(handle))
