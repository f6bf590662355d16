"""The product knowledge graph: relations between catalogue items (compatible with, accessory of,
substitute for, same series, size chart), kept in SupportGraphTable as an adjacency list (partition
`item_id`, sort key `<relation>#<target>`; each edge stored from both ends, the reverse one named
`~<relation>`) over the shop's one catalogue. Customers' names for items (`aliases`, an item attribute:
`|`-separated) are indexed under the partition `#alias`.

`product_question` asks whether two items go together: the answer is the path of relations between them
(at most `MAX_HOPS`). `size_guide` follows an item's `size_chart` edge to a chart item whose attributes
give each size's weight range in kg. Every answer names the path that gave it.
"""

# ruff: noqa: RUF001  (Chinese replies)

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

RelationName = Literal["compatible_with", "accessory_of", "substitute_for", "same_series", "size_chart"]
RELATIONS: tuple[str, ...] = get_args(RelationName)
MAX_HOPS = 2
ALIAS_PARTITION = "#alias"
_WEIGHT = re.compile(r"(\d{2,3})\s*(?:kg|公斤|千克)|体重\s*(\d{2,3})", re.IGNORECASE)
_RANGE = re.compile(r"^(\d+)-(\d+)$")


@dataclass(frozen=True)
class Edge:
    source: str
    relation: str  # one of RELATIONS, or `~relation` for the reverse direction
    target: str


class ProductGraph(Protocol):
    def edges(self, item_id: str) -> list[Edge]: ...

    def aliases(self) -> dict[str, str]: ...  # alias (lower case) -> item id

    def titles(self, item_ids: list[str]) -> dict[str, str]: ...

    def attributes(self, item_id: str) -> dict[str, str | float | bool]: ...


def _latin_or_digit(character: str) -> bool:
    """A neighbour that would make an alias part of a longer word ("x2000"); Chinese characters do not."""
    return character.isascii() and character.isalnum()


def mentioned(text: str, aliases: dict[str, str]) -> list[str]:
    """Items the text names, longest alias first (so "phone case" wins over "case"), each once, in order."""
    lowered = text.lower()
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for alias in sorted(aliases, key=len, reverse=True):
        start = lowered.find(alias)
        while start != -1:
            end = start + len(alias)
            bounded = not alias.isascii() or (
                (start == 0 or not _latin_or_digit(lowered[start - 1]))
                and (end == len(lowered) or not _latin_or_digit(lowered[end]))
            )
            if bounded and not any(s < end and start < e for s, e in taken):
                taken.append((start, end))
                found.append((start, aliases[alias]))
                break
            start = lowered.find(alias, start + 1)
    ordered: list[str] = []
    for _, item in sorted(found):
        if item not in ordered:
            ordered.append(item)
    return ordered


def path_between(graph: ProductGraph, start: str, goal: str) -> list[Edge] | None:
    """The shortest chain of relations from `start` to `goal` (at most MAX_HOPS), or None."""
    queue: deque[tuple[str, list[Edge]]] = deque([(start, [])])
    seen = {start}
    while queue:
        node, path = queue.popleft()
        if len(path) == MAX_HOPS:
            continue
        for edge in graph.edges(node):
            if edge.target == goal:
                return [*path, edge]
            if edge.target not in seen:
                seen.add(edge.target)
                queue.append((edge.target, [*path, edge]))
    return None


_RELATION_WORDS = {
    "compatible_with": ("is compatible with", "兼容"),
    "accessory_of": ("is an accessory of", "是其配件："),
    "substitute_for": ("can replace", "可替代"),
    "same_series": ("is in the same series as", "同系列："),
    "size_chart": ("uses the size chart", "尺码表："),
}
_FITS = {"compatible_with", "accessory_of", "~compatible_with", "~accessory_of"}


def describe(path: list[Edge]) -> str:
    return " ".join([path[0].source, *(f"-{e.relation}-> {e.target}" for e in path)])


def answer_product(graph: ProductGraph, text: str, language: str) -> str | None:
    items = mentioned(text, graph.aliases())
    if len(items) < 2:
        return None
    first, second = items[0], items[1]
    names = graph.titles([first, second])
    a, b = names.get(first, first), names.get(second, second)
    path = path_between(graph, first, second)
    if path is None:
        if language == "zh":
            return f"没有找到{a}和{b}之间的关系，它们可能不配套。"
        return f"I found no relation between {a} and {b}, so they probably don't go together."
    direct = len(path) == 1 and path[0].relation in _FITS
    if language == "zh":
        verdict = "可以，配套使用" if direct else "它们有关联"
        return f"{verdict}：{a} 与 {b}（关系路径：{describe(path)}）。"
    verdict = "Yes, they go together" if direct else "They are related"
    return f"{verdict}: {a} and {b} (relation path: {describe(path)})."


def size_from_chart(graph: ProductGraph, text: str, language: str) -> str | None:
    weight = _WEIGHT.search(text)
    items = mentioned(text, graph.aliases())
    if weight is None or not items:
        return None
    kg = int(weight.group(1) or weight.group(2))
    chart_edge = next((e for e in graph.edges(items[0]) if e.relation == "size_chart"), None)
    if chart_edge is None:
        return None
    for size, value in graph.attributes(chart_edge.target).items():
        bounds = _RANGE.match(str(value))
        if bounds and int(bounds.group(1)) <= kg < int(bounds.group(2)):
            path = describe([chart_edge])
            if language == "zh":
                return f"体重{kg}kg建议选 {size} 码（关系路径：{path}）。"
            return f"For {kg} kg, size {size} (relation path: {path})."
    return None
