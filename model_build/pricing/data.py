"""Sales data for pricing, in one canonical weekly frame, from Dominick's OJ or a user's CSV.

Dominick's orange juice (`orangeJuice` in the R package bayesm, Debian package `r-cran-bayesm`): store
x brand x week unit sales (`logmove`), all 11 brands' prices, deal and feature flags and gross margin.
Source: James M. Kilts Center, University of Chicago Booth School of Business, Dominick's Finer Foods
data, as redistributed in bayesm (GPL >= 2). The Kilts Center permits academic research use; see
https://www.chicagobooth.edu/research/kilts/datasets/dominicks.

Canonical frame, one row per SKU and week:
    week (int), date (week start), sku, store, brand, price, units, cost, deal, feat,
    and cross_price_1..cross_price_11 for OJ (every brand's price that week in that store).
Derivations for OJ, documented because they shape every model downstream:
- a SKU is store x brand: `oj-<store>-<brand>`;
- prices are per ounce in the source; we quote them per 64 oz carton (x 64), the common pack size;
- `logmove` is the log of *ounces* moved (every value is a multiple of 64), so cartons = exp(logmove) / 64;
- `profit` is the gross margin in percent of price, so unit cost = price x (1 - profit / 100);
- Dominick's week 1 began on 1989-09-14, so week w starts 1989-09-14 + 7 (w - 1) days.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from commerce_ai.pricing.observations import SKU_ID
from model_build.debian import PackageDataError, fetch_package_files, sha256

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "data" / "cache" / "pricing"
OJ_PACKAGE = "r-cran-bayesm"
OJ_MEMBER = "usr/lib/R/site-library/bayesm/data/orangeJuice.rda"
OJ_SHA256 = "4418b33f320a1e91124e934d4c7e3e978812e9c60b6924037447ffc44cf71855"
OUNCES_PER_CARTON = 64
WEEK_ONE = pd.Timestamp("1989-09-14")
OJ_BRANDS = 11
REQUIRED_CSV_COLUMNS = ("date", "sku", "price", "units")


class DataError(RuntimeError):
    pass


def fetch_orange_juice(cache: Path = CACHE) -> Path:
    """The verified `orangeJuice.rda`, fetched once from the Debian package (no R needed)."""
    member_dir, name = OJ_MEMBER.rsplit("/", 1)
    try:
        return fetch_package_files(OJ_PACKAGE, member_dir, {name: OJ_SHA256}, cache) / name
    except PackageDataError as error:
        raise DataError(str(error)) from error


def read_orange_juice(path: Path | None = None) -> pd.DataFrame:
    import rdata  # training-only dependency

    source = path or fetch_orange_juice()
    if sha256(source) != OJ_SHA256:
        raise DataError(f"{source} does not match the verified orangeJuice.rda checksum")
    raw = rdata.read_rda(str(source))["orangeJuice"]["yx"]
    return canonical_from_oj(pd.DataFrame(raw))


def canonical_from_oj(yx: pd.DataFrame) -> pd.DataFrame:
    """The canonical frame from bayesm's `orangeJuice$yx` columns (see the module docstring)."""
    frame = pd.DataFrame(
        {
            "week": yx["week"].astype(int),
            "store": yx["store"].astype(int),
            "brand": yx["brand"].astype(int),
            "units": np.exp(yx["logmove"].astype(float)) / OUNCES_PER_CARTON,
            "deal": yx["deal"].astype(int),
            "feat": yx["feat"].astype(float),
            "margin": yx["profit"].astype(float) / 100.0,
        }
    )
    for brand in range(1, OJ_BRANDS + 1):
        frame[f"cross_price_{brand}"] = yx[f"price{brand}"].astype(float) * OUNCES_PER_CARTON
    own = [frame.loc[i, f"cross_price_{b}"] for i, b in zip(frame.index, frame["brand"], strict=True)]
    frame["price"] = np.asarray(own, dtype=float)
    frame["cost"] = frame["price"] * (1.0 - frame["margin"])
    frame["sku"] = "oj-" + frame["store"].astype(str) + "-" + frame["brand"].astype(str)
    frame["date"] = WEEK_ONE + pd.to_timedelta((frame["week"] - 1) * 7, unit="D")
    ordered = ["week", "date", "sku", "store", "brand", "price", "units", "cost", "margin", "deal", "feat"]
    cross = [f"cross_price_{b}" for b in range(1, OJ_BRANDS + 1)]
    return frame[ordered + cross].sort_values(["sku", "week"]).reset_index(drop=True)


def read_sales_csv(path: Path) -> pd.DataFrame:
    """A user's own sales file in the canonical frame: `date, sku, price, units` at least, optionally
    `cost`, `promo` (deal), `feature`, and competitor prices in `competitor_price*` columns.

    Rows may be daily or weekly; they are summed into weeks (Monday to Sunday, week 1 holding the first
    date): units summed, price and cost weighted by units (plain means in a week without sales), promo
    and feature the share of the week's rows that had them, competitor prices averaged. Each week's
    competitor index is the median of its competitor prices, as serving computes it from the competitor
    queue, and fills every cross-price slot: these SKUs have no market of rival brands, so serving fills
    their slots with the competitor index too, and a slot the index cannot fill takes the own price on
    both sides. Weeks with no units sold are left out: the demand models are fitted on log units.
    """
    table = pd.read_csv(path)
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(f"{path.name}: missing required column(s) {', '.join(missing)}")
    table["date"] = pd.to_datetime(table["date"], errors="coerce")
    for column in ("price", "units"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    sku_ok = table["sku"].astype(str).str.fullmatch(SKU_ID.strip("^$")) & table["sku"].notna()
    bad = table[table["date"].isna() | ~(table["price"] > 0) | ~(table["units"] >= 0) | ~sku_ok]
    if not bad.empty:
        raise DataError(
            f"{path.name}: {len(bad)} row(s) with an unreadable date, price <= 0, units < 0 or a SKU that is "
            f"not an identifier the API accepts ({SKU_ID}) (first at line {int(bad.index[0]) + 2})"
        )
    competitors = sorted(c for c in table.columns if c.startswith("competitor_price"))
    start = table["date"].min().to_period("W").start_time
    rows = pd.DataFrame(
        {
            "week": ((table["date"] - start).dt.days // 7 + 1).astype(int),
            "sku": table["sku"].astype(str),
            "price": table["price"].astype(float),
            "units": table["units"].astype(float),
            "cost": pd.to_numeric(table["cost"], errors="coerce") if "cost" in table else np.nan,
            "deal": pd.to_numeric(table["promo"], errors="coerce").fillna(0) if "promo" in table else 0.0,
            "feat": pd.to_numeric(table["feature"], errors="coerce").fillna(0) if "feature" in table else 0.0,
            **{c: pd.to_numeric(table[c], errors="coerce") for c in competitors},
        }
    )
    rows["cost"] = rows["cost"].where(rows["cost"] > 0)
    weekly = _weekly(rows, competitors)
    weekly["date"] = start + pd.to_timedelta((weekly["week"] - 1) * 7, unit="D")
    weekly["store"], weekly["brand"] = pd.NA, pd.NA
    weekly["margin"] = 1.0 - weekly["cost"] / weekly["price"]
    index = weekly[competitors].median(axis=1, skipna=True) if competitors else pd.Series(np.nan, weekly.index)
    for slot in range(1, OJ_BRANDS + 1):
        weekly[f"cross_price_{slot}"] = index.where(index > 0)
    weekly = weekly[weekly["units"] > 0]
    if weekly.empty:
        raise DataError(f"{path.name}: no week with units sold")
    ordered = ["week", "date", "sku", "store", "brand", "price", "units", "cost", "margin", "deal", "feat"]
    cross = [f"cross_price_{slot}" for slot in range(1, OJ_BRANDS + 1)]
    return weekly[ordered + competitors + cross].sort_values(["sku", "week"]).reset_index(drop=True)


def _weekly(rows: pd.DataFrame, competitors: list[str]) -> pd.DataFrame:
    """One row per SKU and week (see `read_sales_csv`), in one vectorised pass: files can be large."""
    sold_at_cost = rows["units"].where(rows["cost"].notna(), 0.0)
    helpers = rows.assign(
        price_x_units=rows["price"] * rows["units"],
        cost_x_units=rows["cost"].fillna(0.0) * sold_at_cost,
        sold_at_cost=sold_at_cost,
    )
    weekly = (
        helpers.groupby(["sku", "week"], sort=True)
        .agg(
            units=("units", "sum"),
            price_x_units=("price_x_units", "sum"),
            mean_price=("price", "mean"),
            cost_x_units=("cost_x_units", "sum"),
            sold_at_cost=("sold_at_cost", "sum"),
            mean_cost=("cost", "mean"),
            deal=("deal", "mean"),
            feat=("feat", "mean"),
            **{c: (c, "mean") for c in competitors},
        )
        .reset_index()
    )
    sold = weekly["units"] > 0
    weekly["price"] = (weekly["price_x_units"] / weekly["units"]).where(sold, weekly["mean_price"])
    by_units = weekly["cost_x_units"] / weekly["sold_at_cost"]
    weekly["cost"] = by_units.where(weekly["sold_at_cost"] > 0, weekly["mean_cost"])
    return weekly.drop(columns=["price_x_units", "mean_price", "cost_x_units", "sold_at_cost", "mean_cost"])


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the frame's contents, for the manifest's training-data fingerprint."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()
