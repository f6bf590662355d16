"""What an admin may change in the product knowledge graph, checked before anything is written.

An item's outgoing relations and its aliases (customers' names for it) are edited over HTTP
(`/support/graph/items/{item_id}...`, README "Customer service"). The rules, each refused with the
problem named:
- both ends are items of the shop's catalogue (the graph holds no item of its own), and not the same item;
- a relation is one of `graph.RELATIONS`, listed once per target;
- an item has at most one `size_chart`, and its target is an item of category `size_chart` (the bot reads
  each size's weight range from its attributes);
- at most `MAX_RELATIONS` outgoing relations and `MAX_ALIASES` aliases per item;
- an alias names one item only (the bot could not tell two apart).
Incoming relations belong to the item at their other end and are edited there.
"""

from __future__ import annotations

from dataclasses import dataclass

from commerce_ai.errors import Conflict, InvalidInput
from commerce_ai.support.graph import Edge

MAX_RELATIONS = 50
MAX_ALIASES = 20
SIZE_CHART = "size_chart"
SIZE_CHART_CATEGORY = "size_chart"


@dataclass(frozen=True)
class EdgeChanges:
    add: list[Edge]
    remove: list[Edge]


def outgoing(edges: list[Edge]) -> list[Edge]:
    return [e for e in edges if not e.relation.startswith("~")]


def check_relations(item_id: str, wanted: list[Edge], categories: dict[str, str]) -> None:
    """Refuse a set of outgoing relations that breaks a rule; `categories` maps each catalogue item among
    the item and its targets to its category (an id missing from it is not in the catalogue)."""
    problems: list[str] = []
    missing = sorted({e.target for e in wanted if e.target not in categories})
    if missing:
        problems.append(f"not in the catalogue: {', '.join(missing)}")
    if any(e.target == item_id for e in wanted):
        problems.append(f"an item cannot be related to itself ({item_id})")
    pairs = [(e.relation, e.target) for e in wanted]
    repeated = sorted({f"{r} {t}" for r, t in pairs if pairs.count((r, t)) > 1})
    if repeated:
        problems.append(f"listed more than once: {', '.join(repeated)}")
    charts = [e.target for e in wanted if e.relation == SIZE_CHART]
    if len(charts) > 1:
        problems.append(f"an item has one size chart, not {len(charts)}")
    not_charts = sorted({t for t in charts if t in categories and categories[t] != SIZE_CHART_CATEGORY})
    if not_charts:
        problems.append(f"size_chart must point at an item of category {SIZE_CHART_CATEGORY}: {', '.join(not_charts)}")
    if len(wanted) > MAX_RELATIONS:
        problems.append(f"at most {MAX_RELATIONS} relations per item, not {len(wanted)}")
    if problems:
        raise InvalidInput("; ".join(problems))


def changes(current: list[Edge], wanted: list[Edge]) -> EdgeChanges:
    """The writes that turn the item's current outgoing relations into `wanted` (the rest stay as they are)."""
    have, want = set(outgoing(current)), set(wanted)
    return EdgeChanges(
        add=[e for e in wanted if e not in have], remove=sorted(have - want, key=lambda e: (e.relation, e.target))
    )


def with_relation(current: list[Edge], edge: Edge) -> list[Edge]:
    """The item's outgoing relations with `edge` added; a new size chart replaces the old one."""
    kept = [e for e in outgoing(current) if e != edge and not (edge.relation == SIZE_CHART == e.relation)]
    return [*kept, edge]


def normalise_aliases(aliases: list[str]) -> list[str]:
    """Aliases as the bot matches them (lower case, trimmed), each once, in the order given."""
    cleaned = list(dict.fromkeys(a.strip().lower() for a in aliases))
    if "" in cleaned:
        raise InvalidInput("an alias is empty")
    if len(cleaned) > MAX_ALIASES:
        raise InvalidInput(f"at most {MAX_ALIASES} aliases per item, not {len(cleaned)}")
    return cleaned


def check_aliases(item_id: str, aliases: list[str], owners: dict[str, str]) -> None:
    """Refuse an alias that already names another item (`owners`: alias -> item id, the graph's index)."""
    taken = sorted(f"{a!r} ({owners[a]})" for a in aliases if owners.get(a, item_id) != item_id)
    if taken:
        raise Conflict(f"aliases already name another item: {', '.join(taken)}")
