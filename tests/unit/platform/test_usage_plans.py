"""Per-caller rate limits on AWS are usage plans generated from the one declaration the local gateway
enforces (CallerAuthorizerFunction's CALLER_RATE_LIMITS; infra/usage_plans.py), and the README says the
same numbers (issue 18, part 1)."""

from __future__ import annotations

import re

from commerce_ai.access import ANONYMOUS, AccessRules
from infra import usage_plans
from infra.template import TEMPLATE_PATH, Stack

STACK = Stack()
AUTHORIZER = STACK.resources[usage_plans.AUTHORIZER]
LIMITS = usage_plans.rate_limits(STACK)
README = (TEMPLATE_PATH.parent / "README.md").read_text()


def test_the_usage_plans_are_generated_from_the_declared_rate_limits() -> None:
    # Fails after CALLER_RATE_LIMITS changes until `python -m infra.usage_plans` is run.
    assert usage_plans.declared_block(TEMPLATE_PATH.read_text()) == usage_plans.render(LIMITS)
    for kind, limit in LIMITS.items():
        plan = STACK.resources[usage_plans.plan_id(kind)]["Properties"]
        assert plan["Throttle"] == {"RateLimit": limit.per_second, "BurstLimit": limit.burst}
        assert plan["ApiStages"] == [{"ApiId": {"Ref": "ShopApi"}, "Stage": "Prod"}]
        link = STACK.resources[usage_plans.plan_id(kind) + "Key"]["Properties"]
        assert link["KeyId"] == {"Ref": usage_plans.key_id(kind)}
        assert STACK.resources[usage_plans.key_id(kind)]["Properties"]["Enabled"] is True


def test_every_caller_kind_and_the_anonymous_callers_have_a_plan() -> None:
    # Every method requires a usage plan key, so a kind without a plan would be refused by API Gateway.
    rules = AccessRules.parse(STACK.function(usage_plans.AUTHORIZER).environment)
    assert set(LIMITS) == set(rules.callers) | {ANONYMOUS}
    assert set(rules.usage_keys) == set(LIMITS)


def test_the_authorizer_names_the_generated_keys_and_may_read_only_them() -> None:
    variables = AUTHORIZER["Properties"]["Environment"]["Variables"]
    assert variables["CALLER_USAGE_KEYS"] == {"Fn::Sub": usage_plans.usage_keys_variable(LIMITS)}
    (grant,) = [
        statement
        for policy in AUTHORIZER["Properties"]["Policies"]
        for statement in policy.get("Statement", [])
        if statement["Action"] == "apigateway:GET"
    ]
    expected = {STACK.arn(usage_plans.key_id(kind)) for kind in LIMITS}
    assert {STACK.resolve(r) for r in grant["Resource"]} == expected


def test_the_api_takes_its_keys_from_the_authorizer_on_every_route() -> None:
    api = STACK.resources["ShopApi"]["Properties"]
    assert api["ApiKeySourceType"] == "AUTHORIZER" and api["StageName"] == usage_plans.STAGE
    assert STACK.raw["Globals"]["Api"]["Auth"]["ApiKeyRequired"] is True
    # An Api event without RestApiId would land on SAM's implicit API, which has neither keys nor plans.
    loose = [
        f"{fn.logical_id}.{event.name}"
        for fn in STACK.functions()
        for event in fn.events
        if event.type == "Api" and event.properties.get("RestApiId") != {"Ref": "ShopApi"}
    ]
    assert loose == []


def _readme_limits() -> dict[str, tuple[float, int]]:
    section = README[README.index("## Callers and scopes") :]
    start = section.index("| Caller kind")
    table = section[start : section.index("\n\n", start)]
    found = {}
    for row in table.splitlines()[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        kind = re.match(r"(?:anonymous \(`public`\)|`(\w+)`)", cells[0])
        assert kind, row
        rate, burst = re.match(r"(\d+(?:\.\d+)?), (\d+)", cells[-1]).groups()  # type: ignore[union-attr]
        found[kind.group(1) or ANONYMOUS] = (float(rate), int(burst))
    return found


def test_the_readme_states_the_declared_limits() -> None:
    assert _readme_limits() == {kind: (limit.per_second, limit.burst) for kind, limit in LIMITS.items()}
