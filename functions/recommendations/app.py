"""Recommendations HTTP API (API Gateway -> Chalice): a user's recommendations, similar items, and the
personalised ranking of a caller's list.

Who may call: a user's recommendations and rankings reveal what they bought, rated and viewed, so those two
routes take the ingest key (the shop's backend, which knows who is logged in; see POST /events) or the
admin key. Similar items are about items only and are open, like the catalogue's reads.
"""

from __future__ import annotations

from commerce_ai.errors import NotFound
from commerce_ai.http import json_api
from commerce_ai.recommendations import engine, service
from commerce_ai.recommendations.contract import (
    ItemPath,
    RankedItems,
    RankRequest,
    Recommendations,
    RecommendationsQuery,
    SimilarItems,
    SimilarQuery,
    UserPath,
)
from commerce_ai.recommendations.filters import parse_filter
from commerce_ai.recommendations.store import sessions
from commerce_ai.stream.callers import shop_backend

app = json_api("recommendations")


@app.route(
    "/recommendations/{user_id}",
    methods=["GET"],
    path_params=UserPath,
    query=RecommendationsQuery,
    response=Recommendations,
    caller=shop_backend,
    errors=(503,),
)
def get_recommendations(user_id: str, query: RecommendationsQuery) -> Recommendations:
    """Items for a user, each with a score and a reason, blending their live session into the model.

    A user without history gets the popular items of their segment (`segment`, or what the model knows of
    them), else of the whole shop (`cold_start: true`)."""
    predicate = parse_filter(query.filter)
    arm = service.arm_for(user_id)
    loaded = service.served(arm)
    segment = engine.parse_segment(query.segment, loaded.model.state)
    session = sessions().get(user_id)
    context_item = query.context.removeprefix("item:") if query.context else None
    outcome = engine.recommend(
        loaded.model,
        user_id,
        session,
        service.now(),
        query.n,
        service.item_source,
        predicate,
        context_item,
        segment=segment,
    )
    return Recommendations(
        user_id=user_id,
        recommendations=[service.view(item) for item in outcome.items],
        cold_start=outcome.cold_start,
        segment=outcome.segment,
        session_items=outcome.session_items,
        model_version=loaded.version,
        experiment=service.arm_field(arm),
    )


@app.route(
    "/recommendations/similar/{item_id}",
    methods=["GET"],
    path_params=ItemPath,
    query=SimilarQuery,
    response=SimilarItems,
    errors=(404, 503),
)
def get_similar(item_id: str, query: SimilarQuery) -> SimilarItems:
    """Items often liked by the same users as this one (item-item cosine), then items like it in categories
    and title (content neighbours: all of them for a new item nobody has touched yet), in stock."""
    loaded = service.model_loader().get()
    found = engine.similar(loaded.model, item_id, query.n, service.item_source)
    if found is None:
        raise NotFound(f"item {item_id!r} is neither known to the recommender nor in the catalogue")
    return SimilarItems(item_id=item_id, similar=[service.view(item) for item in found], model_version=loaded.version)


@app.route(
    "/recommendations/rank",
    methods=["POST"],
    request=RankRequest,
    response=RankedItems,
    caller=shop_backend,
    errors=(503,),
)
def post_rank(body: RankRequest) -> RankedItems:
    """The caller's items in this user's order (personalised ranking); items the model does not know are
    listed apart."""
    arm = service.arm_for(body.user_id)
    loaded = service.served(arm)
    session = sessions().get(body.user_id)
    ranked, unknown, cold_start = engine.rank_items(loaded.model, body.user_id, session, service.now(), body.item_ids)
    return RankedItems(
        user_id=body.user_id,
        ranked=[service.view(item) for item in ranked],
        unknown_item_ids=unknown,
        cold_start=cold_start,
        model_version=loaded.version,
        experiment=service.arm_field(arm),
    )
