"""Customer service over HTTP, the admin's content edits (`support:content`): FAQ entries and the product
knowledge graph's relations and aliases. A function of its own (SupportAdminFunction): only its role may
write the FAQ and graph tables; it reads no conversation, order or ticket.

Glue only: `commerce_ai.support.service` checks and stores.
"""

from __future__ import annotations

from commerce_ai.errors import NotFound
from commerce_ai.http import json_api
from commerce_ai.support import service
from commerce_ai.support.contract import (
    FaqFields,
    FaqPath,
    GraphItemFields,
    GraphItemPath,
    GraphItemView,
    RelationEdited,
    RelationPath,
)
from commerce_ai.support.faq import FaqEntry
from commerce_ai.support.store import FaqStore

app = json_api("support-admin")


@app.route(
    "/support/faq/{faq_id}", path_params=FaqPath, methods=["PUT"], request=FaqFields, response=FaqEntry, admin=True
)
def put_faq(faq_id: str, body: FaqFields) -> FaqEntry:
    """Create or replace an FAQ entry (admin); the bot answers from it within a minute."""
    return service.put_faq(FaqEntry(faq_id=faq_id, **body.model_dump()))


@app.route(
    "/support/faq/{faq_id}", path_params=FaqPath, methods=["DELETE"], response=FaqEntry, admin=True, errors=(404,)
)
def delete_faq(faq_id: str) -> FaqEntry:
    """Remove an FAQ entry (admin); returns what was removed."""
    store = FaqStore.from_settings()
    entry = store.get(faq_id)
    if entry is None or not store.delete(faq_id):
        raise NotFound(f"no FAQ entry {faq_id}")
    return entry


@app.route(
    "/support/graph/items/{item_id}",
    path_params=GraphItemPath,
    methods=["PUT"],
    request=GraphItemFields,
    response=GraphItemView,
    admin=True,
    errors=(404, 409),
)
def put_graph_item(item_id: str, body: GraphItemFields) -> GraphItemView:
    """Replace an item's relations (those not listed are removed) and, if given, its aliases (admin)."""
    return service.put_graph_item(item_id, body)


@app.route(
    "/support/graph/items/{item_id}/relations/{relation}/{target}",
    path_params=RelationPath,
    methods=["PUT"],
    response=RelationEdited,
    admin=True,
    errors=(404,),
)
def put_relation(item_id: str, relation: str, target: str) -> RelationEdited:
    """Add one relation between two catalogue items (admin); a new size chart replaces the old one."""
    path = RelationPath.model_validate({"item_id": item_id, "relation": relation, "target": target})
    return service.put_relation(path.item_id, path.relation, path.target)


@app.route(
    "/support/graph/items/{item_id}/relations/{relation}/{target}",
    path_params=RelationPath,
    methods=["DELETE"],
    response=RelationEdited,
    admin=True,
    errors=(404,),
)
def delete_relation(item_id: str, relation: str, target: str) -> RelationEdited:
    """Remove one relation, from both its ends (admin)."""
    path = RelationPath.model_validate({"item_id": item_id, "relation": relation, "target": target})
    return service.delete_relation(path.item_id, path.relation, path.target)
