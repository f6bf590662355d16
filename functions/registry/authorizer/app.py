"""API Gateway's REQUEST authorizer for the whole HTTP API: which caller kind a request comes from, and
whether that kind holds the scope its route needs (`commerce_ai.access`, rules in this function's
environment in template.yaml).

No key or an unknown one raises `Unauthorized` (API Gateway's 401); a known key without the scope gets a
Deny (403) whose `problem` the ACCESS_DENIED gateway response shows. An allowed request carries the caller
kind and its scopes to the function (`requestContext.authorizer`), and `usageIdentifierKey` is the value
of the caller kind's API key (`CALLER_USAGE_KEYS` names each kind's key id), so that its usage plan
(template.yaml, `CallerUsagePlan<Kind>`, generated from `CALLER_RATE_LIMITS`) throttles it. The values are
API Gateway's own (generated, in no template or environment), read once per container by id
(`apigateway:GET` on those keys only). Caching is off (`ReauthorizeEvery: 0`): each decision is for one
method ARN.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from commerce_ai import aws
from commerce_ai.access import AccessRules, KeyRing, decide, key_from_headers
from commerce_ai.http import secure_parameter


@cache
def _rules() -> AccessRules:
    return AccessRules.parse(os.environ)


def _read_keys(names: list[str]) -> dict[str, str]:
    """Each parameter's SecureString (Powertools' SSM provider, as the functions read the admin key); a kind
    whose parameter does not exist has no key, so nobody can call as it."""
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = secure_parameter(name)
        except GetParameterError:
            continue
    return found


@cache
def _keys() -> KeyRing:
    return KeyRing(_rules().key_parameters, _read_keys)


@cache
def _usage_keys() -> dict[str, str]:
    """Caller kind -> the value of its usage plan's API key."""
    gateway = aws.client("apigateway")
    return {
        kind: str(gateway.get_api_key(apiKey=key_id, includeValue=True)["value"])
        for kind, key_id in _rules().usage_keys.items()
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rules = _rules()
    decision = decide(
        rules, event["httpMethod"], event["resource"], key_from_headers(event.get("headers")), _keys().keys()
    )
    if decision.status == 401:
        raise Exception("Unauthorized")
    effect = "Allow" if decision.allowed else "Deny"
    answer: dict[str, Any] = {
        "principalId": decision.caller,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {**decision.context(rules), "problem": decision.problem},
    }
    if decision.allowed and decision.caller in _rules().usage_keys:
        answer["usageIdentifierKey"] = _usage_keys()[decision.caller]
    return answer
