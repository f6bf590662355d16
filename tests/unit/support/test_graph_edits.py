"""The knowledge graph's edit rules (commerce_ai.support.graph_edits) and the contract of its routes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from commerce_ai.errors import Conflict, InvalidInput
from commerce_ai.support.contract import GraphItemFields, RelationPath
from commerce_ai.support.graph import Edge
from commerce_ai.support.graph_edits import (
    MAX_RELATIONS,
    changes,
    check_aliases,
    check_relations,
    normalise_aliases,
    with_relation,
)

CATEGORIES = {"case": "phone_cases", "x200": "phones", "x300": "phones", "chart": "size_chart", "jacket": "jackets"}


def test_a_valid_set_of_relations_passes() -> None:
    check_relations("case", [Edge("case", "accessory_of", "x200"), Edge("case", "accessory_of", "x300")], CATEGORIES)
    check_relations("jacket", [Edge("jacket", "size_chart", "chart")], CATEGORIES)


@pytest.mark.parametrize(
    ("wanted", "problem"),
    [
        ([Edge("case", "accessory_of", "x999")], "not in the catalogue: x999"),
        ([Edge("case", "same_series", "case")], "cannot be related to itself (case)"),
        ([Edge("case", "accessory_of", "x200")] * 2, "listed more than once: accessory_of x200"),
        ([Edge("case", "size_chart", "x200")], "size_chart must point at an item of category size_chart: x200"),
        ([Edge("case", "size_chart", "chart"), Edge("case", "size_chart", "jacket")], "one size chart, not 2"),
        ([Edge("case", "accessory_of", f"i{n}") for n in range(MAX_RELATIONS + 1)], "at most 50 relations"),
    ],
)
def test_each_broken_rule_is_a_400_naming_it(wanted: list[Edge], problem: str) -> None:
    categories = {**CATEGORIES, **{f"i{n}": "phones" for n in range(MAX_RELATIONS + 1)}}
    with pytest.raises(InvalidInput, match=problem.replace("(", r"\(").replace(")", r"\)")):
        check_relations("case", wanted, categories)


def test_changes_add_the_new_and_remove_the_unlisted_leaving_incoming_relations_alone() -> None:
    current = [Edge("x200", "same_series", "x300"), Edge("x200", "~accessory_of", "case"), Edge("x200", "b", "y")]
    plan = changes(current, [Edge("x200", "same_series", "x300"), Edge("x200", "substitute_for", "x100")])
    assert plan.add == [Edge("x200", "substitute_for", "x100")]
    assert plan.remove == [Edge("x200", "b", "y")]  # the incoming ~accessory_of is the case's to edit


def test_a_new_size_chart_replaces_the_old_one_and_other_relations_stay() -> None:
    current = [Edge("jacket", "size_chart", "chart"), Edge("jacket", "same_series", "coat")]
    wanted = with_relation(current, Edge("jacket", "size_chart", "chart-2"))
    assert wanted == [Edge("jacket", "same_series", "coat"), Edge("jacket", "size_chart", "chart-2")]
    assert changes(current, wanted).remove == [Edge("jacket", "size_chart", "chart")]
    assert with_relation(wanted, Edge("jacket", "same_series", "coat")) == [  # repeating changes nothing
        Edge("jacket", "size_chart", "chart-2"),
        Edge("jacket", "same_series", "coat"),
    ]


def test_aliases_are_matched_lower_case_once_each_and_name_one_item() -> None:
    assert normalise_aliases([" X200 ", "x200", "手机"]) == ["x200", "手机"]
    with pytest.raises(InvalidInput, match="empty"):
        normalise_aliases(["  "])
    check_aliases("x200", ["x200"], {"x200": "x200", "case": "case"})
    with pytest.raises(Conflict, match=r"'case' \(kg-case\)"):
        check_aliases("x200", ["x200", "case"], {"case": "kg-case"})


def test_the_routes_contract_refuses_unknown_relations_and_unusable_aliases() -> None:
    with pytest.raises(ValidationError, match="relation"):
        RelationPath.model_validate({"item_id": "a", "relation": "~same_series", "target": "b"})
    with pytest.raises(ValidationError, match="aliases"):
        GraphItemFields.model_validate({"relations": [], "aliases": ["x#1"]})
    with pytest.raises(ValidationError, match="relations"):
        GraphItemFields.model_validate({"aliases": ["x1"]})
    assert GraphItemFields.model_validate({"relations": []}).aliases is None  # omitted: kept as they are
