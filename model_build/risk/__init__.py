"""Risk control (fraud scoring) models.

Today this holds the data layer: `simulator` generates customers, merchants, logins and payments with
labelled fraud scenarios (there is no real labelled fraud data offline), and `data` reads the public
Kaggle creditcard.csv for users who have it. The velocity and graph features, the XGBoost scorer and
its thresholds come next.
"""

from __future__ import annotations

MODELS: list[str] = []
