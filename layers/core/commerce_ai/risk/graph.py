"""Graph features over the user-device-IP-merchant graph, recomputed weekly and served as a snapshot.

Built from scored payments (who paid with which device, from which IP, at which merchant) and the
confirmed fraud labels known at build time:

- `component_size`: users linked through shared devices or IPs (union-find). Devices and IPs used by
  more than `hub_users` accounts (carrier NAT, VPN exits, offices, kiosks) are left out of the linking,
  otherwise nearly every user falls into one component.
- `device_accounts` / `ip_accounts`: distinct users per device or IP.
- `neighbour_fraud_density`: among the users sharing a device or non-hub IP with this user, the share with
  a confirmed fraud payment.
- `device_fraud_rate`, `ip_fraud_rate`, `merchant_fraud_rate`: confirmed fraud payments over all payments,
  smoothed towards zero (`(fraud) / (payments + SMOOTHING)`), so one labelled payment at a small
  merchant is not a 100% rate.

The snapshot is plain data (`GraphSnapshot`), published as the versioned `risk-graph` JSON artifact;
an entity it has not seen gets the neutral values (a lone user, one account, no fraud). A published
snapshot holds no raw user, device or IP id: `pseudonymised(key)` keys its maps by keyed hashes
(`commerce_ai.risk.pseudonyms`), and serving looks raw ids up through the same hash (`with_key`).
Merchant ids are the shop's business partners, not persons, and stay as they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, PrivateAttr

from commerce_ai.artifacts.manifest import TensorSpec
from commerce_ai.risk.pseudonyms import key_id, pseudonym

SMOOTHING = 5.0
HUB_USERS = 50
GRAPH_KEYS = ("user_id", "device_id", "ip", "merchant_id")  # what a snapshot is looked up by
GRAPH_FILE = "graph.json"
GRAPH_FEATURES = (
    "user_component_size_log",
    "user_neighbour_fraud_density",
    "device_accounts",
    "device_fraud_rate",
    "ip_accounts",
    "ip_fraud_rate",
    "merchant_fraud_rate",
)


# How a snapshot is described in its manifest: a lookup table, not a graph of ops, with entity ids in and
# GRAPH_FEATURES out (GraphSnapshot.features).
GRAPH_INPUTS = [TensorSpec(name="entity_ids", dtype="string", shape=[len(GRAPH_KEYS)])]
GRAPH_OUTPUTS = [TensorSpec(name="graph_features", dtype="float32", shape=[len(GRAPH_FEATURES)])]


@dataclass(frozen=True)
class Edge:
    """One payment as the graph sees it."""

    user_id: str
    device_id: str
    ip: str
    merchant_id: str
    is_fraud: bool  # confirmed by a label known when the graph is built; unlabelled counts as genuine


class KeyMismatch(ValueError):
    """A pseudonymised snapshot looked up with a key other than the one that made it."""


class GraphSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    built_at: str
    payments: int
    hub_users: int = HUB_USERS
    # The key (its `key_id`) that made the user, device and IP keys below; None: raw ids, as in the
    # training replay's snapshots, which never leave memory.
    pseudonym_key_id: str | None = None
    users: dict[str, tuple[float, float]] = {}  # component size, neighbour fraud density
    devices: dict[str, tuple[float, float]] = {}  # accounts, fraud rate
    ips: dict[str, tuple[float, float]] = {}
    merchants: dict[str, float] = {}  # fraud rate
    _key: bytes | None = PrivateAttr(default=None)

    def pseudonymised(self, key: bytes) -> GraphSnapshot:
        """The snapshot to publish: user, device and IP ids replaced by their pseudonyms under `key`."""
        if self.pseudonym_key_id is not None:
            raise ValueError("the snapshot is pseudonymised already")

        def rekey(kind: str, table: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
            return {pseudonym(key, kind, identifier): values for identifier, values in table.items()}

        published = self.model_copy(
            update={
                "pseudonym_key_id": key_id(key),
                "users": rekey("user", self.users),
                "devices": rekey("device", self.devices),
                "ips": rekey("ip", self.ips),
            }
        )
        return published.with_key(key)

    def with_key(self, key: bytes) -> GraphSnapshot:
        """This snapshot, able to look raw ids up (serving); KeyMismatch if another key made it."""
        if self.pseudonym_key_id is not None and key_id(key) != self.pseudonym_key_id:
            raise KeyMismatch("the risk-graph snapshot was made with another pseudonym key")
        self._key = key
        return self

    def _lookup(self, kind: str, identifier: str) -> str:
        if self.pseudonym_key_id is None:
            return identifier
        if self._key is None:
            raise KeyMismatch("a pseudonymised risk-graph snapshot needs its key (with_key) to look ids up")
        return pseudonym(self._key, kind, identifier)

    def features(self, user_id: str, device_id: str, ip: str, merchant_id: str) -> list[float]:
        import math

        size, density = self.users.get(self._lookup("user", user_id), (1.0, 0.0))
        device_accounts, device_rate = self.devices.get(self._lookup("device", device_id), (1.0, 0.0))
        ip_accounts, ip_rate = self.ips.get(self._lookup("ip", ip), (1.0, 0.0))
        return [
            math.log(size),
            density,
            device_accounts,
            device_rate,
            ip_accounts,
            ip_rate,
            self.merchants.get(merchant_id, 0.0),
        ]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, node: str) -> str:
        root = self.parent.setdefault(node, node)
        while root != self.parent[root]:
            root = self.parent[root]
        while node != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def build_snapshot(edges: Iterable[Edge], built_at: str, hub_users: int = HUB_USERS) -> GraphSnapshot:
    device_users: dict[str, set[str]] = defaultdict(set)
    ip_users: dict[str, set[str]] = defaultdict(set)
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # node -> [payments, fraud]
    fraud_users: set[str] = set()
    payments = 0
    for edge in edges:
        payments += 1
        device_users[edge.device_id].add(edge.user_id)
        ip_users[edge.ip].add(edge.user_id)
        for node in ("d:" + edge.device_id, "i:" + edge.ip, "m:" + edge.merchant_id):
            totals[node][0] += 1
            totals[node][1] += edge.is_fraud
        if edge.is_fraud:
            fraud_users.add(edge.user_id)

    links = _UnionFind()
    neighbours: dict[str, set[str]] = defaultdict(set)
    groups = [u for u in [*device_users.values(), *ip_users.values()] if len(u) <= hub_users]
    for group in groups:
        members = sorted(group)
        for member in members:
            links.find(member)
            links.union(members[0], member)
        if len(members) > 1:
            for member in members:
                neighbours[member].update(members)
    sizes: dict[str, int] = defaultdict(int)
    for user in links.parent:
        sizes[links.find(user)] += 1

    users = {}
    for user in links.parent:
        others = neighbours.get(user, set()) - {user}
        density = len(others & fraud_users) / len(others) if others else 0.0
        users[user] = (float(sizes[links.find(user)]), round(density, 4))

    def rate(node: str) -> float:
        count, fraud = totals[node]
        return round(fraud / (count + SMOOTHING), 4)

    return GraphSnapshot(
        built_at=built_at,
        payments=payments,
        hub_users=hub_users,
        users=users,
        devices={d: (float(len(u)), rate("d:" + d)) for d, u in device_users.items()},
        ips={i: (float(len(u)), rate("i:" + i)) for i, u in ip_users.items()},
        merchants={m[2:]: rate(m) for m in totals if m.startswith("m:")},
    )
