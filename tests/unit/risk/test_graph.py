"""The weekly graph snapshot: components of users linked through shared devices and IPs (hubs left out),
neighbour fraud density, smoothed fraud rates, neutral values for what the snapshot has not seen, and
keyed pseudonyms instead of raw ids in what is published."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_ai.risk.graph import GRAPH_FEATURES, SMOOTHING, Edge, GraphSnapshot, KeyMismatch, build_snapshot
from commerce_ai.risk.pseudonyms import key_id, pseudonym

NEUTRAL = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0]


def edge(user: str, device: str, ip: str, merchant: str = "m1", fraud: bool = False) -> Edge:
    return Edge(user, device, ip, merchant, fraud)


def test_users_sharing_devices_or_ips_form_one_component() -> None:
    # Given a shares a device with b, b shares an IP with c, and d shares nothing
    graph = build_snapshot(
        [edge("a", "d1", "ip-a"), edge("b", "d1", "ip-b"), edge("c", "d3", "ip-b"), edge("d", "d4", "ip-d")], "w1"
    )
    # then a, b and c are one component of three (linked transitively), d is alone
    assert {u: graph.users[u][0] for u in "abcd"} == {"a": 3.0, "b": 3.0, "c": 3.0, "d": 1.0}
    assert graph.features("a", "d1", "ip-a", "m1")[0] == pytest.approx(math.log(3))
    assert graph.payments == 4
    assert graph.devices["d1"][0] == 2.0
    assert graph.ips["ip-b"][0] == 2.0


def test_hub_devices_and_ips_do_not_link_their_users() -> None:
    # Given a kiosk device used by hub_users + 1 accounts, each with its own IP
    hub = 3
    edges = [edge(f"u{i}", "kiosk", f"ip-{i}") for i in range(hub + 1)]
    # and a shared office IP used by exactly hub_users accounts, each with its own device
    edges += [edge(f"w{i}", f"dev-w{i}", "office") for i in range(hub)]
    graph = build_snapshot(edges, "w1", hub_users=hub)
    # then the kiosk's users stay apart, while the office (not above the limit) links its users
    assert {graph.users[f"u{i}"][0] for i in range(hub + 1)} == {1.0}
    assert {graph.users[f"w{i}"][0] for i in range(hub)} == {3.0}
    # and the hub still reports its accounts
    assert graph.devices["kiosk"][0] == hub + 1
    assert graph.hub_users == hub


def test_users_seen_only_through_hubs_get_the_neutral_user_values() -> None:
    hub = 2
    graph = build_snapshot([edge(f"u{i}", "kiosk", "nat") for i in range(hub + 1)], "w1", hub_users=hub)
    assert graph.users == {}
    assert graph.features("u0", "kiosk", "nat", "m1")[:2] == [0.0, 0.0]
    assert graph.features("u0", "kiosk", "nat", "m1")[2] == hub + 1


def test_neighbour_fraud_density_is_the_share_of_neighbours_with_fraud() -> None:
    # Given a, b and c share d1; d shares a's IP; b and d have a fraud payment
    graph = build_snapshot(
        [
            edge("a", "d1", "ip-a"),
            edge("b", "d1", "ip-b", fraud=True),
            edge("c", "d1", "ip-c"),
            edge("d", "d4", "ip-a", fraud=True),
            edge("b", "d1", "ip-b"),  # b's genuine payments do not undo the fraud
        ],
        "w1",
    )
    # then a's neighbours are b, c and d, two of whom have fraud; the user's own fraud does not count
    assert graph.users["a"][1] == round(2 / 3, 4)
    assert graph.users["b"][1] == 0.0  # a and c: clean
    assert graph.users["c"][1] == 0.5  # a and b
    assert graph.users["d"][1] == 0.0  # a


def test_hub_neighbours_do_not_count_towards_density() -> None:
    hub = 2
    edges = [edge("a", "kiosk", "ip-a"), edge("b", "kiosk", "ip-b", fraud=True), edge("c", "kiosk", "ip-c")]
    graph = build_snapshot(edges, "w1", hub_users=hub)
    assert graph.users["a"] == (1.0, 0.0)


def test_fraud_rates_are_smoothed_towards_zero() -> None:
    # Given one labelled fraud at a small merchant, and 5 of 10 at a big one, on one device and IP
    edges = [edge("a", "d1", "ip-1", "small", fraud=True)]
    edges += [edge(f"u{i}", "d1", "ip-1", "big", fraud=i < 5) for i in range(10)]
    graph = build_snapshot(edges, "w1", hub_users=50)
    # then one fraud in one payment is not a 100% rate
    assert graph.merchants["small"] == round(1 / (1 + SMOOTHING), 4)
    assert graph.merchants["big"] == round(5 / (10 + SMOOTHING), 4)
    assert graph.devices["d1"] == (11.0, round(6 / (11 + SMOOTHING), 4))
    assert graph.ips["ip-1"] == (11.0, round(6 / (11 + SMOOTHING), 4))


def test_an_unseen_entity_gets_neutral_features() -> None:
    graph = build_snapshot([edge("a", "d1", "ip-1", fraud=True), edge("b", "d1", "ip-2")], "w1")
    assert graph.features("stranger", "new-device", "new-ip", "new-merchant") == NEUTRAL
    assert GraphSnapshot(built_at="none", payments=0).features("a", "b", "c", "d") == NEUTRAL
    assert len(NEUTRAL) == len(GRAPH_FEATURES)


def test_the_snapshot_survives_its_json_artifact() -> None:
    graph = build_snapshot([edge("a", "d1", "ip-1", fraud=True), edge("b", "d1", "ip-2"), edge("c", "d3", "ip-2")], "w")
    again = GraphSnapshot.model_validate_json(graph.model_dump_json())
    assert again == graph
    for user, device, ip in (("a", "d1", "ip-1"), ("c", "d3", "ip-2"), ("x", "y", "z")):
        assert again.features(user, device, ip, "m1") == graph.features(user, device, ip, "m1")


EDGES = st.lists(
    st.builds(
        Edge,
        user_id=st.sampled_from([f"u{i}" for i in range(8)]),
        device_id=st.sampled_from([f"d{i}" for i in range(5)]),
        ip=st.sampled_from([f"i{i}" for i in range(4)]),
        merchant_id=st.sampled_from(["m0", "m1"]),
        is_fraud=st.booleans(),
    ),
    max_size=30,
)


@given(edges=EDGES, hub=st.integers(min_value=1, max_value=6))
def test_components_and_densities_match_a_brute_force_count(edges: list[Edge], hub: int) -> None:
    graph = build_snapshot(edges, "w", hub_users=hub)
    # Brute force: users linked through every device or IP with at most `hub` users, walked breadth first
    groups: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        groups["d:" + e.device_id].add(e.user_id)
        groups["i:" + e.ip].add(e.user_id)
    linking = [g for g in groups.values() if len(g) <= hub]
    neighbours: dict[str, set[str]] = defaultdict(set)
    for group in linking:
        for user in group:
            neighbours[user] |= group
    fraud = {e.user_id for e in edges if e.is_fraud}
    for user in {e.user_id for e in edges}:
        seen, frontier = {user}, [user]
        while frontier:
            for other in neighbours[frontier.pop()] - seen:
                seen.add(other)
                frontier.append(other)
        size, density = graph.users.get(user, (1.0, 0.0))
        assert size == len(seen)
        others = neighbours[user] - {user}
        assert density == (round(len(others & fraud) / len(others), 4) if others else 0.0)
    # every rate is a smoothed share, below 1
    rates = [r for _, r in graph.devices.values()] + [r for _, r in graph.ips.values()] + list(graph.merchants.values())
    assert all(0.0 <= r < 1.0 for r in rates)
    assert graph.payments == len(edges)


def test_a_published_snapshot_holds_pseudonyms_and_looks_raw_ids_up_through_the_same_hash() -> None:
    # Given a snapshot with a fraudulent user on a shared device, published under a key
    raw = build_snapshot([edge("alice", "phone-7", "10.0.0.1", fraud=True), edge("bob", "phone-7", "10.0.0.2")], "w1")
    key = b"a secret from SSM"
    published = raw.pseudonymised(key)
    text = published.model_dump_json()
    # then no user, device or IP id is in what is written (merchants are businesses and stay)
    assert not any(secret in text for secret in ("alice", "bob", "phone-7", "10.0.0.1", "10.0.0.2"))
    assert "m1" in text and published.pseudonym_key_id == key_id(key)
    # and served, read back from its JSON with the same key, it answers exactly as the raw snapshot
    served = GraphSnapshot.model_validate_json(text).with_key(key)
    for ids in (
        ("bob", "phone-7", "10.0.0.2", "m1"),
        ("alice", "phone-7", "10.0.0.1", "m1"),
        ("zoe", "d7", "10.9.9.9", "m2"),
    ):
        assert served.features(*ids) == raw.features(*ids)
    assert served.users[pseudonym(key, "user", "bob")] == raw.users["bob"]


def test_a_snapshot_is_not_served_under_another_key_or_without_one() -> None:
    published = build_snapshot([edge("alice", "d1", "10.0.0.1")], "w1").pseudonymised(b"key one")
    stored = GraphSnapshot.model_validate_json(published.model_dump_json())
    with pytest.raises(KeyMismatch):
        stored.with_key(b"key two")
    with pytest.raises(KeyMismatch):
        stored.features("alice", "d1", "10.0.0.1", "m1")  # no key bound: never a silent neutral answer
    assert pseudonym(b"key one", "user", "alice") != pseudonym(b"key two", "user", "alice")
    assert pseudonym(b"key one", "user", "alice") != pseudonym(b"key one", "device", "alice")
