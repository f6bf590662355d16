"""Forecasting's view of the sales data: one regular weekly grid per SKU.

The data is pricing's: Dominick's orange juice read by `model_build.pricing.data.read_orange_juice` (one
loader, one verified file in data/cache/pricing), 913 store x brand SKUs, weeks 40-160, with no calendar
gaps but many SKU gaps. A SKU's grid runs from its first week to the last week of the data: weeks without
a record have NaN units (they are neither trained on nor scored) and carry the last known price, deal and
feature flag forward. `deal` is the promotion (price reduction) flag and `feat` the feature advertisement
share; both count as planned, so their future values are known to the forecast, as are future prices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from commerce_ai.forecasting.features import Series


@dataclass(frozen=True)
class SkuSeries:
    sku: str
    brand: str
    first_week: int
    series: Series


def oj_frame() -> pd.DataFrame:
    """Pricing's canonical OJ frame (the loader and its cache are pricing's: nothing is fetched twice)."""
    from model_build.pricing.data import read_orange_juice

    return read_orange_juice()


def weekly_series(frame: pd.DataFrame, last_week: int | None = None) -> list[SkuSeries]:
    """Each SKU of a canonical frame (week, date, sku, units, price, deal, feat[, brand]) on its weekly grid
    up to `last_week` (default: the frame's last week), in SKU order."""
    end = int(frame["week"].max()) if last_week is None else last_week
    week_one = pd.Timestamp(frame["date"].iloc[0]) - pd.Timedelta(days=7 * (int(frame["week"].iloc[0]) - 1))
    # One (SKU x week) table per column instead of a merge per SKU (3.9 s of the build's CPU for OJ's 913):
    # a SKU has no rows before its first week, so a row-wise forward fill uses its own earlier weeks only.
    weeks = np.arange(int(frame["week"].min()), end + 1)
    wide = frame.set_index(["sku", "week"])[["units", "price", "deal", "feat"]].unstack("week")
    units = wide["units"].reindex(columns=weeks)
    filled = {c: wide[c].reindex(columns=weeks).ffill(axis=1).bfill(axis=1) for c in ("price", "deal", "feat")}
    first = frame.groupby("sku")["week"].min()
    brands = frame.groupby("sku")["brand"].first() if "brand" in frame else None
    all_dates = (week_one + pd.to_timedelta((weeks - 1) * 7, unit="D")).to_numpy().astype("datetime64[D]")
    out: list[SkuSeries] = []
    for sku in sorted(units.index):
        start = int(first[sku])
        at = start - int(weeks[0])
        brand = brands[sku] if brands is not None and pd.notna(brands[sku]) else ""
        out.append(
            SkuSeries(
                sku=str(sku),
                brand=str(brand),
                first_week=start,
                series=Series(
                    dates=all_dates[at:],
                    units=units.loc[sku].to_numpy(dtype=float)[at:],
                    price=filled["price"].loc[sku].to_numpy(dtype=float)[at:],
                    promo=filled["deal"].loc[sku].to_numpy(dtype=float)[at:],
                    feature=filled["feat"].loc[sku].to_numpy(dtype=float)[at:],
                ),
            )
        )
    return out


def cut(sku_series: SkuSeries, origin_week: int, covariate_weeks: int) -> SkuSeries | None:
    """The SKU as seen at the end of `origin_week`: units up to it, covariates `covariate_weeks` beyond.
    None when the SKU had not started by then."""
    observed = origin_week - sku_series.first_week + 1
    if observed <= 0:
        return None
    s = sku_series.series
    total = min(len(s.dates), observed + covariate_weeks)
    return SkuSeries(
        sku=sku_series.sku,
        brand=sku_series.brand,
        first_week=sku_series.first_week,
        series=Series(
            dates=s.dates[:total],
            units=s.units[:observed],
            price=s.price[:total],
            promo=s.promo[:total],
            feature=s.feature[:total],
        ),
    )
