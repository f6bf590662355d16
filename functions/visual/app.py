"""Visual search HTTP API (API Gateway -> Chalice): search by photo, similar items, scene suggestions.

The image is the request body itself (JPEG, PNG or WebP; `application/octet-stream` is read by its magic
bytes) or the `image` field of a multipart form, at most MAX_BODY_BYTES (4 MiB here: base64 adds a third, and
a Lambda request is at most 6 MB). The routes read only the catalogue's public facts, so they are open like
the catalogue's reads.
"""

from __future__ import annotations

from commerce_ai.errors import NotFound
from commerce_ai.http import json_api
from commerce_ai.visual import service
from commerce_ai.visual.contract import (
    ItemPath,
    QueryImage,
    SceneLabelBody,
    SceneResult,
    SearchQuery,
    SearchResults,
    SimilarItems,
    SimilarQuery,
    SuggestedCategory,
)
from commerce_ai.visual.scene import LABELS_FILE, SCENE_IMAGE, SCENE_PROBABILITIES, read_scene, scene_input
from commerce_ai.visual.search import Filters, search, vector_of

app = json_api("visual")
SCENE_ITEMS = 3


def _request_image() -> bytes:
    request = app.request()
    body = request.raw_body
    data = body if isinstance(body, bytes) else str(body).encode()
    return service.image_bytes(data, request.headers.get("content-type"))


@app.route(
    "/visual/search",
    methods=["POST"],
    consumes=service.IMAGE_TYPES,
    query=SearchQuery,
    response=SearchResults,
    errors=(503,),
)
def post_search(query: SearchQuery) -> SearchResults:
    """Catalogue items that look like the uploaded image, optionally of one category, colour, shape or texture.

    The body is the image (JPEG, PNG or WebP, up to 4 MiB), or a multipart form with it in `image`."""
    decoded = service.decode(_request_image())
    loaded, deltas = service.served()
    embedded = service.embed(loaded.model, decoded)
    filters = Filters(query.category, query.colour, query.shape, query.texture)
    hits = search(loaded.model, deltas, embedded.embedding, query.n, filters)
    names = service.descriptor_names(embedded.descriptors)
    return SearchResults(
        results=service.view(hits),
        query=QueryImage(
            format=decoded.format,  # type: ignore[arg-type]
            width=decoded.width,
            height=decoded.height,
            frames=decoded.frames,
            categories=service.guesses(embedded),
            **names,  # type: ignore[arg-type]
        ),
        filters=filters.applied(),
        index_version=loaded.version,
    )


@app.route(
    "/visual/similar/{item_id}",
    methods=["GET"],
    path_params=ItemPath,
    query=SimilarQuery,
    response=SimilarItems,
    errors=(404, 503),
)
def get_similar(item_id: str, query: SimilarQuery) -> SimilarItems:
    """Catalogue items that look like this one (its image in the index, or its newest uploaded image)."""
    loaded, deltas = service.served()
    vector = vector_of(loaded.model, deltas, item_id)
    if vector is None:
        raise NotFound(f"item {item_id!r} has no image in the visual index")
    hits = search(loaded.model, deltas, vector, query.n, Filters(), exclude=item_id)
    return SimilarItems(item_id=item_id, similar=service.view(hits), index_version=loaded.version)


@app.route(
    "/visual/scene",
    methods=["POST"],
    consumes=service.IMAGE_TYPES,
    response=SceneResult,
    errors=(503,),
)
def post_scene() -> SceneResult:
    """What a photo of a scene shows (ImageNet labels) and the catalogue categories and items it suggests.

    The body is the photo, as for `POST /visual/search`."""
    decoded = service.decode(_request_image())
    scene = service.scene_loader().get()
    labels = service.scene_labels(str(scene.directory / LABELS_FILE))
    probabilities = scene.model.run([SCENE_PROBABILITIES], {SCENE_IMAGE: scene_input(service.scene_pixels(decoded))})[
        0
    ][0]
    top, suggestions = read_scene(probabilities, labels)
    loaded, deltas = service.served()
    embedded = service.embed(loaded.model, decoded)
    return SceneResult(
        labels=[SceneLabelBody(label=label.label, probability=label.probability) for label in top],
        suggestions=[
            SuggestedCategory(
                category=s.category,
                score=s.score,
                because=s.because,
                items=service.view(
                    search(loaded.model, deltas, embedded.embedding, SCENE_ITEMS, Filters(category=s.category))
                ),
            )
            for s in suggestions
        ],
        scene_model_version=scene.version,
        index_version=loaded.version,
    )
