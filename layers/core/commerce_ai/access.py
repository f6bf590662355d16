"""Who may call which HTTP route: caller kinds, the scopes each holds, and the scope each route needs.

The rules are declared once, in template.yaml, as the environment of `CallerAuthorizerFunction`:

- `ROUTE_SCOPES`: one line per route, `METHOD /resource/{path} scope` (`public` for a shopper-facing
  route anyone may call);
- `CALLER_SCOPES`: one line per caller kind, `kind scope scope ...` (`*` is every scope);
- `CALLER_KEYS`: one line per caller kind, `kind /ssm/parameter/name` (a SecureString holding its key);
- `CALLER_RATE_LIMITS`: one line per caller kind, `kind requests-per-second burst` (`anonymous` for
  callers without a key). On AWS each line is a usage plan of its own (`python -m infra.usage_plans`
  writes them into the template from these lines), keyed by one API key per kind;
- `CALLER_USAGE_KEYS`: one line per rate-limited kind, `kind api-key-id`: the API key of its usage plan,
  whose value the authorizer returns as `usageIdentifierKey` (the API's key source is AUTHORIZER, so a
  client cannot present it: it identifies a plan, it grants nothing).

On AWS the same function is API Gateway's REQUEST authorizer (`functions/registry/authorizer/app.py`); locally the
runner's gateway (`infra/runner/http_gateway.py`) calls `decide` with the same rules before it invokes a
route's function, so tests see what AWS would do: no or an unknown key is a 401, a known key without the
route's scope a 403, both as JSON that names the problem.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

PUBLIC = "public"
ANONYMOUS = "anonymous"
EVERY_SCOPE = "*"
KEY_HEADER = "x-api-key"


class RulesError(ValueError):
    """The template's access rules cannot be read (a bad line, a route declared twice)."""


def _lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@dataclass(frozen=True)
class RateLimit:
    """API Gateway's throttle shape: a steady rate and a bucket of `burst` requests."""

    per_second: float
    burst: int


@dataclass(frozen=True)
class AccessRules:
    routes: dict[tuple[str, str], str]  # (METHOD, resource path as declared) -> the scope it needs
    callers: dict[str, frozenset[str]]  # caller kind -> its scopes
    key_parameters: dict[str, str] = field(default_factory=dict)  # caller kind -> SSM parameter of its key
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)  # caller kind (or anonymous) -> limit
    usage_keys: dict[str, str] = field(default_factory=dict)  # caller kind (or anonymous) -> API key id

    @classmethod
    def parse(cls, environment: Mapping[str, str]) -> AccessRules:
        routes: dict[tuple[str, str], str] = {}
        for parts in _lines(environment.get("ROUTE_SCOPES", "")):
            if len(parts) != 3:
                raise RulesError(f"ROUTE_SCOPES: {' '.join(parts)!r} is not 'METHOD /path scope'")
            method, path, scope = parts
            if (method.upper(), path) in routes:
                raise RulesError(f"ROUTE_SCOPES: {method} {path} is declared twice")
            routes[(method.upper(), path)] = scope
        callers = {parts[0]: frozenset(parts[1:]) for parts in _lines(environment.get("CALLER_SCOPES", ""))}
        keys: dict[str, str] = {}
        for parts in _lines(environment.get("CALLER_KEYS", "")):
            if len(parts) != 2 or parts[0] not in callers:
                raise RulesError(f"CALLER_KEYS: {' '.join(parts)!r} is not 'kind /parameter' of a known kind")
            keys[parts[0]] = parts[1]
        limits: dict[str, RateLimit] = {}
        for parts in _lines(environment.get("CALLER_RATE_LIMITS", "")):
            if len(parts) != 3 or (parts[0] not in callers and parts[0] != ANONYMOUS):
                raise RulesError(f"CALLER_RATE_LIMITS: {' '.join(parts)!r} is not 'kind rate burst'")
            try:
                limits[parts[0]] = RateLimit(float(parts[1]), int(parts[2]))
            except ValueError:
                raise RulesError(f"CALLER_RATE_LIMITS: {' '.join(parts)!r} is not 'kind rate burst'") from None
        usage_keys: dict[str, str] = {}
        for parts in _lines(environment.get("CALLER_USAGE_KEYS", "")):
            if len(parts) != 2 or parts[0] not in limits:
                line = " ".join(parts)
                raise RulesError(f"CALLER_USAGE_KEYS: {line!r} is not 'kind api-key-id' of a rate-limited kind")
            usage_keys[parts[0]] = parts[1]
        return cls(routes=routes, callers=callers, key_parameters=keys, rate_limits=limits, usage_keys=usage_keys)

    def scope_of(self, method: str, resource: str) -> str | None:
        return self.routes.get((method.upper(), resource))

    def holds(self, caller: str, scope: str) -> bool:
        scopes = self.callers.get(caller, frozenset())
        return scope in scopes or EVERY_SCOPE in scopes

    def scopes_of(self, caller: str) -> frozenset[str]:
        if EVERY_SCOPE in self.callers.get(caller, frozenset()):
            return frozenset(s for s in self.routes.values() if s != PUBLIC)
        return self.callers.get(caller, frozenset())

    def kinds_with(self, scope: str) -> list[str]:
        return sorted(kind for kind in self.callers if self.holds(kind, scope))


@dataclass(frozen=True)
class Decision:
    """The answer to one request: 200 (go on), 401 (no or an unknown key) or 403 (a scope the caller lacks)."""

    status: int
    caller: str  # the caller kind, or `anonymous`
    scope: str
    problem: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 200

    def context(self, rules: AccessRules) -> dict[str, str]:
        """What the functions see as `requestContext.authorizer` (API Gateway passes strings only)."""
        return {"caller": self.caller, "scopes": " ".join(sorted(rules.scopes_of(self.caller)))}


def key_from_headers(headers: Mapping[str, str] | None) -> str | None:
    for name, value in (headers or {}).items():
        if name.lower() == KEY_HEADER:
            return value or None
    return None


def identify(supplied: str, keys: Mapping[str, str]) -> str | None:
    """The caller kind whose key `supplied` is; every key is compared (as digests, in constant time)."""
    digest = hashlib.sha256(supplied.encode()).digest()
    found = None
    for kind, key in keys.items():
        if key and hmac.compare_digest(digest, hashlib.sha256(key.encode()).digest()) and found is None:
            found = kind
    return found


def decide(rules: AccessRules, method: str, resource: str, supplied: str | None, keys: Mapping[str, str]) -> Decision:
    """Whether a request for `method resource` with the key `supplied` may go on.

    A route the rules do not name is refused (fail closed). An unknown key is a 401 even on a public route:
    a caller that sends a key expects it to count."""
    scope = rules.scope_of(method, resource)
    if scope is None:
        return Decision(403, ANONYMOUS, "", f"{method} {resource} declares no scope")
    caller = identify(supplied, keys) if supplied else None
    if supplied and caller is None:
        return Decision(401, ANONYMOUS, scope, f"the {KEY_HEADER} header is not a known caller key")
    if scope == PUBLIC:
        return Decision(200, caller or ANONYMOUS, scope)
    if caller is None:
        kinds = ", ".join(rules.kinds_with(scope))
        return Decision(401, ANONYMOUS, scope, f"{method} {resource} needs a caller key ({kinds}) in {KEY_HEADER}")
    if not rules.holds(caller, scope):
        return Decision(403, caller, scope, f"the {caller} key lacks the {scope} scope that {method} {resource} needs")
    return Decision(200, caller, scope)


class KeyRing:
    """Each caller kind's key, read from SSM Parameter Store (SecureString) and kept `max_age` seconds.

    A kind whose parameter does not exist has no key: nobody can call as it."""

    def __init__(self, parameters: Mapping[str, str], read: Callable[[list[str]], dict[str, str]], max_age: float = 60):
        self._parameters = dict(parameters)
        self._read = read
        self._max_age = max_age
        self._keys: dict[str, str] = {}
        self._read_at = -math.inf
        self._lock = threading.Lock()

    def keys(self) -> dict[str, str]:
        with self._lock:
            if time.monotonic() - self._read_at >= self._max_age:
                values = self._read(sorted(set(self._parameters.values())))
                self._keys = {kind: values[name] for kind, name in self._parameters.items() if name in values}
                self._read_at = time.monotonic()
            return self._keys


def ssm_reader(client: object) -> Callable[[list[str]], dict[str, str]]:
    """Reads SecureStrings one `GetParameter` each (the grant names each parameter); a name that does not
    exist is left out."""

    def read(names: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in names:
            try:
                answer = client.get_parameter(Name=name, WithDecryption=True)  # type: ignore[attr-defined]
            except client.exceptions.ParameterNotFound:  # type: ignore[attr-defined]
                continue
            found[name] = answer["Parameter"]["Value"]
        return found

    return read


class TokenBuckets:
    """Per caller kind throttling as API Gateway's usage plans do it: a bucket of `burst` tokens refilled at
    `per_second`; an empty bucket is a 429 whose `Retry-After` says when the next token comes."""

    def __init__(self, limits: Mapping[str, RateLimit], clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # kind -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, caller: str) -> float:
        """0 if `caller` may go on now, else the seconds until it may."""
        limit = self._limits.get(caller)
        if limit is None:
            return 0.0
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(caller, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - at) * limit.per_second)
            if tokens >= 1.0:
                self._buckets[caller] = (tokens - 1.0, now)
                return 0.0
            self._buckets[caller] = (tokens, now)
            return (1.0 - tokens) / limit.per_second if limit.per_second > 0 else math.inf
