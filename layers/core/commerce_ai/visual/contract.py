"""HTTP bodies of visual search (`functions/visual/app.py`); the image itself is the raw request body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.catalog.items import ITEM_ID
from commerce_ai.visual.descriptors import COLOURS, SHAPES, TEXTURES

Colour = Literal["red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "grey", "black"]
Shape = Literal["tall", "square", "wide"]
Texture = Literal["plain", "patterned"]
assert set(Colour.__args__) == set(COLOURS) and set(Shape.__args__) == set(SHAPES)  # type: ignore[attr-defined]
assert set(Texture.__args__) == set(TEXTURES)  # type: ignore[attr-defined]
MAX_RESULTS = 50


class SearchQuery(BaseModel):
    """What to return for an image: how many items and which filters they must match."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(default=10, ge=1, le=MAX_RESULTS, description="How many items to answer with.")
    category: str | None = Field(default=None, min_length=1, max_length=100, description="Only this category.")
    colour: Colour | None = Field(default=None, description="Only items of this named colour (HSV).")
    shape: Shape | None = Field(default=None, description="Only items of this shape (aspect ratio).")
    texture: Texture | None = Field(default=None, description="Only plain or patterned items (LBP).")


class SimilarQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(default=10, ge=1, le=MAX_RESULTS, description="How many similar items.")


class ItemPath(BaseModel):
    item_id: str = Field(pattern=ITEM_ID)


class VisualItem(BaseModel):
    """A catalogue item found by its image, with the descriptor values the filters match on."""

    model_config = ConfigDict(extra="forbid")

    item_id: str
    category: str
    score: float = Field(description="Cosine similarity of the embeddings, -1 to 1.")
    colour: Colour
    shape: Shape
    texture: Texture
    title: str | None = Field(default=None, description="From the shop's catalogue, when it holds the item.")
    in_stock: bool | None = None


class CategoryGuess(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str
    probability: float


class QueryImage(BaseModel):
    """What was read from the uploaded image."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["JPEG", "PNG", "WEBP"]
    width: int
    height: int
    frames: int = Field(description="More than 1 for an animated image: its first frame was searched.")
    colour: Colour
    shape: Shape
    texture: Texture
    categories: list[CategoryGuess] = Field(max_length=3, description="The embedder's three likeliest categories.")


class SearchResults(BaseModel):
    """Catalogue items that look like the image, best first."""

    model_config = ConfigDict(extra="forbid")

    results: list[VisualItem] = Field(max_length=MAX_RESULTS)
    query: QueryImage
    filters: dict[str, str] = Field(description="The filters applied.")
    index_version: str


class SimilarItems(BaseModel):
    """Catalogue items that look like this one, best first."""

    model_config = ConfigDict(extra="forbid")

    item_id: str
    similar: list[VisualItem] = Field(max_length=MAX_RESULTS)
    index_version: str


class SceneLabelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    probability: float


class SuggestedCategory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str
    score: float = Field(description="The summed probability of the scene labels that suggest it.")
    because: list[str] = Field(max_length=10, description="The scene labels that suggest it, with why.")
    items: list[VisualItem] = Field(max_length=3)


class SceneResult(BaseModel):
    """What the photo shows (ImageNet labels) and the catalogue categories and items it suggests."""

    model_config = ConfigDict(extra="forbid")

    labels: list[SceneLabelBody] = Field(max_length=5)
    suggestions: list[SuggestedCategory] = Field(max_length=10, description="At most one per category.")
    scene_model_version: str
    index_version: str
