"""Each fraud scenario leaves the signature its story promises, and legit traffic shares the weaker signals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from model_build.risk.simulator import Simulation
from tests.unit.risk.conftest import SMALL

WARMUP_END = pd.Timestamp(SMALL.start) + pd.Timedelta(days=SMALL.warmup_days)


def haversine_km(lat1: object, lon1: object, lat2: object, lon2: object) -> np.ndarray:
    p1, l1, p2, l2 = (np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return np.asarray(2 * 6371.0 * np.arcsin(np.sqrt(h)))


def with_previous_event(world: Simulation) -> pd.DataFrame:
    """Every event, by user and time, with the distance and implied speed from the user's previous event."""
    stream = world.events().sort_values(["user_id", "timestamp"], kind="mergesort").reset_index(drop=True)
    previous = stream.groupby("user_id")[["lat", "lon", "timestamp"]].shift()
    stream["km"] = haversine_km(previous["lat"], previous["lon"], stream["lat"], stream["lon"])
    hours = (stream["timestamp"] - previous["timestamp"]).dt.total_seconds() / 3600
    stream["kmh"] = stream["km"] / hours.clip(lower=1 / 60)
    stream["new_device"] = ~stream.duplicated(["user_id", "device_id"])
    stream["first_event"] = previous["timestamp"].isna()
    return stream


def legit_median(world: Simulation) -> pd.Series:
    payments = world.payments
    return payments[~payments["is_fraud"]].groupby("user_id")["amount"].median()


def test_card_testing_is_bursts_of_tiny_payments_on_one_card(world: Simulation) -> None:
    low = SMALL.card_test_burst_size[0]
    tiny = SMALL.card_test_amount[1]

    def largest_burst(times: pd.Series) -> int:
        ns = times.astype("int64").to_numpy()
        return int((np.searchsorted(ns, ns + 10 * 60 * 10**9) - np.arange(ns.size)).max())

    testing = world.payments[world.payments["scenario"] == "card_testing"]
    assert (testing["amount"] <= tiny).all()
    assert (testing["payment_method"] == "card").all()
    bursts = testing.groupby("card_id")["timestamp"].apply(largest_burst)
    assert len(bursts) >= SMALL.n_card_testing_bursts - 1  # two bursts may hit the same stolen card
    assert (bursts >= low).all()
    stolen = set(testing["card_id"])
    owned = {card for cards in world.customers.loc[world.customers["role"] == "customer", "cards"] for card in cards}
    assert stolen <= owned  # real customers' cards, tried from tester accounts
    testers = set(world.customers.loc[world.customers["role"] == "card_tester", "user_id"])
    assert set(testing["user_id"]) <= testers

    small_legit = world.payments[~world.payments["is_fraud"] & (world.payments["amount"] <= tiny)]
    assert len(small_legit) > 0  # tiny amounts alone do not give card testing away
    assert (small_legit.groupby("card_id")["timestamp"].apply(largest_burst) >= low).sum() <= 1


def test_account_takeover_is_impossible_travel_on_a_new_device_then_bigger_payments(world: Simulation) -> None:
    stream = with_previous_event(world)
    medians = legit_median(world)
    victims = world.payments.loc[world.payments["scenario"] == "account_takeover", "user_id"].unique()
    for victim in victims:
        events = stream[stream["user_id"] == victim]
        attack = events[events["scenario"] == "account_takeover"]
        first = attack.iloc[0]
        assert first["event_type"] == "login" and first["kmh"] > 900, victim
        takeover = attack[(attack["event_type"] == "login") & attack["success"].fillna(False).astype(bool)].iloc[0]
        before = events[events["timestamp"] < attack["timestamp"].min()]
        assert takeover["device_id"] not in set(before["device_id"])
        paid = attack[attack["event_type"] == "payment"]
        assert len(paid) >= SMALL.ato_payments[0]
        assert (paid["device_id"] == takeover["device_id"]).all()
        assert (paid["timestamp"] - takeover["timestamp"]).between(pd.Timedelta(0), pd.Timedelta(hours=1)).all()
        assert (paid["amount"] > medians[victim]).all()


def test_compromised_merchants_concentrate_fraud_in_their_window(world: Simulation) -> None:
    payments, merchants = world.payments, world.merchants.set_index("merchant_id")
    breached = payments[payments["scenario"] == "compromised_merchant"]
    assert set(breached["merchant_id"]) == set(merchants.index[merchants["is_compromised"]])
    for merchant, frauds in breached.groupby("merchant_id"):
        start, end = merchants.loc[merchant, ["compromised_from", "compromised_to"]]
        assert frauds["timestamp"].between(start, end).all()
        at_merchant = payments[payments["merchant_id"] == merchant]
        during = at_merchant[at_merchant["timestamp"].between(start, end)]
        share = (during["scenario"] == "compromised_merchant").mean()
        assert share > 0.15 and share > 10 * payments["is_fraud"].mean()
        outside = at_merchant[~at_merchant["timestamp"].between(start, end)]
        assert (outside["scenario"] != "compromised_merchant").all()
        earlier = at_merchant[~at_merchant["is_fraud"] & (at_merchant["timestamp"] < start)]
        assert set(zip(frauds["user_id"], frauds["card_id"], strict=True)) <= set(
            zip(earlier["user_id"], earlier["card_id"], strict=True)
        )  # the merchant's earlier customers, on the card they used there
        assert frauds["device_id"].nunique() <= 6  # a small pool of attacker devices


def test_fraud_rings_share_devices_ips_and_addresses(world: Simulation) -> None:
    customers = world.customers
    members = customers[customers["role"] == "ring_member"]
    ring_events = world.events()
    ring_events = ring_events[ring_events["scenario"] == "fraud_ring"]
    legit_household = customers[customers["role"] == "customer"].groupby("address_id").size().max()
    colluding = world.merchants[world.merchants["is_colluding"]]
    for ring, accounts in members.groupby("ring_id"):
        assert len(accounts) >= SMALL.ring_size[0]
        events = ring_events[ring_events["user_id"].isin(accounts["user_id"])]
        assert events["device_id"].nunique() <= 5 and events["ip"].nunique() <= 4
        assert accounts["address_id"].nunique() <= 2
        assert accounts.groupby("address_id").size().max() > legit_household
        assert events.groupby("device_id")["user_id"].nunique().max() >= 3
        # one connected group: accounts linked through shared devices, IPs or addresses
        links = pd.concat(
            [
                events[["user_id", "device_id"]].set_axis(["user_id", "node"], axis=1),
                events[["user_id", "ip"]].set_axis(["user_id", "node"], axis=1),
                accounts[["user_id", "address_id"]].set_axis(["user_id", "node"], axis=1),
            ]
        )
        reached, frontier = set(), {accounts["user_id"].iloc[0]}
        while frontier:
            reached |= frontier
            nodes = set(links.loc[links["user_id"].isin(frontier), "node"])
            frontier = set(links.loc[links["node"].isin(nodes), "user_id"]) - reached
        assert reached == set(accounts["user_id"])
        paid = events[events["event_type"] == "payment"]
        own = set(colluding.loc[colluding["ring_id"] == ring, "merchant_id"])
        assert paid["merchant_id"].isin(own).mean() > 0.5


def test_fraud_amounts_overlap_legit_ones_except_outliers(world: Simulation) -> None:
    payments = world.payments
    legit = payments.loc[~payments["is_fraud"], "amount"]
    low, high = legit.quantile(0.01), legit.quantile(0.99)
    for scenario in ("account_takeover", "compromised_merchant", "fraud_ring"):
        amounts = payments.loc[payments["scenario"] == scenario, "amount"]
        assert amounts.between(low, high).mean() > 0.8, scenario
    medians = legit_median(world)
    outliers = payments[payments["scenario"] == "amount_outlier"]
    assert (outliers["amount"] >= 15 * outliers["user_id"].map(medians)).all()
    ratio = payments.loc[~payments["is_fraud"], "amount"] / payments.loc[~payments["is_fraud"], "user_id"].map(medians)
    assert 0 < (ratio >= 15).mean() < 0.02  # legit users rarely, but sometimes, spend that much


def test_every_payment_follows_a_login_from_the_same_account_and_device(world: Simulation) -> None:
    logins = world.logins[world.logins["success"]]
    joined = pd.merge_asof(
        world.payments,
        logins[["timestamp", "user_id", "device_id"]].assign(login_at=logins["timestamp"]),
        on="timestamp",
        by=["user_id", "device_id"],
        direction="backward",
    )
    waited = joined["timestamp"] - joined["login_at"]
    assert waited.notna().all()
    assert (waited <= pd.Timedelta(hours=1)).all()


def test_legit_traffic_also_has_new_devices_travel_and_failed_logins(world: Simulation) -> None:
    stream = with_previous_event(world)
    legit = stream[(stream["scenario"] == "legit") & ~stream["first_event"] & (stream["timestamp"] > WARMUP_END)]
    logins = world.logins[world.logins["scenario"] == "legit"]
    assert 0.01 < (~logins["success"]).mean() < 0.1
    assert legit["new_device"].sum() > 50
    assert (legit["km"] > 500).sum() > 50
    impossible = (legit["kmh"] > 900).mean()
    assert 0 < impossible < 0.01  # VPN exits: impossible travel happens to legit users too, but rarely
    devices = world.customers.loc[world.customers["role"] == "customer", "devices"].explode()
    assert devices.duplicated().any()  # household devices
    assert world.logins.groupby("ip")["user_id"].nunique().max() > 20  # carrier NAT addresses
