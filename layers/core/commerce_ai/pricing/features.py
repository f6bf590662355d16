"""Demand-model features: the one code path shared by training (model_build) and serving (repricing).

Both sides call `demand_features` on columns of equal length, so a feature cannot be computed one way
when the model learns and another way when it prices. The model's manifest records FEATURE_NAMES and the
serving loader refuses a model whose names differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy comes with the ml layer; core-only functions must still import this package
    import numpy as np

CROSS_PRICES = 11  # category price slots: Dominick's 11 OJ brands, or a user's competitor columns
FEATURE_NAMES: list[str] = [
    "log_price",
    "log_relative_price",
    *[f"log_cross_price_{i}" for i in range(1, CROSS_PRICES + 1)],
    "deal",
    "feat",
    "week_sin",
    "week_cos",
    "sku_level",
    "brand",
]


def demand_features(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """float32 matrix [n, len(FEATURE_NAMES)] from columns:

    price, cross_price_1..11 (missing slots may be NaN: they fall back to the own price), deal, feat,
    week_of_year (1..52), sku_level (the SKU's mean log units in training) and brand (an integer id).
    """
    import numpy as np

    price = np.asarray(columns["price"], dtype=np.float64)
    if np.any(~np.isfinite(price)) or np.any(price <= 0):
        raise ValueError("prices must be positive numbers")
    log_price = np.log(price)
    cross = []
    for i in range(1, CROSS_PRICES + 1):
        values = np.asarray(columns.get(f"cross_price_{i}", np.full_like(price, np.nan)), dtype=np.float64)
        values = np.where(np.isfinite(values) & (values > 0), values, price)
        cross.append(np.log(values))
    cross_matrix = np.column_stack(cross)
    week = np.asarray(columns["week_of_year"], dtype=np.float64)
    angle = 2 * np.pi * week / 52.0
    matrix = np.column_stack(
        [
            log_price,
            log_price - cross_matrix.mean(axis=1),
            cross_matrix,
            np.asarray(columns["deal"], dtype=np.float64),
            np.asarray(columns["feat"], dtype=np.float64),
            np.sin(angle),
            np.cos(angle),
            np.asarray(columns["sku_level"], dtype=np.float64),
            np.asarray(columns["brand"], dtype=np.float64),
        ]
    )
    return matrix.astype(np.float32)
