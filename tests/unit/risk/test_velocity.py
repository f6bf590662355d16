"""Velocity state: bucketed counters and their windows, the updates payments and logins make, pruning of
stale buckets, the bounded first-seen / last-seen maps, and the travel between a user's events."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_ai.risk import velocity
from commerce_ai.risk.velocity import (
    KEPT,
    MAX_KNOWN,
    MAX_SPEED_KMH,
    MAX_USERS,
    USER_MEMORY,
    WIDTH,
    WINDOWS,
    Item,
    apply,
    entity_key,
    haversine_km,
    login_updates,
    payment_updates,
    travel_from_last,
    users_seen,
    window_total,
)
from tests.unit.risk.builders import DAY, HOUR, LONDON, MADRID, MINUTE, PARIS, T0, MemoryWorld

USER, DEVICE, IP, MERCHANT = "user#u1", "device#d1", "ip#10.0.0.1", "merchant#m1"


def paid_at(*times: float, amount: float = 10.0) -> Item:
    """u1's item after a payment at each of `times` (in order)."""
    world = MemoryWorld()
    for t in times:
        world.pay(t, amount=amount)
    return world.user()


def buckets(item: Item, prefix: str) -> list[str]:
    return sorted(name for name in item if name.startswith(prefix) and name[len(prefix) :].isdigit())


# ------------------------------------------------------------------------------------------ windows

WINDOW_CASES = [(name, WIDTH[resolution], span) for name, (resolution, span) in WINDOWS.items()]


@pytest.mark.parametrize(("window", "width", "span"), WINDOW_CASES)
def test_an_event_counts_until_its_bucket_start_is_a_window_old(window: str, width: int, span: int) -> None:
    # Given a payment at the very start of a bucket (T0 starts a 5-minute, an hourly and a daily bucket)
    item = paid_at(T0)
    # then it counts from the moment it happens until one second before it is a whole window old
    assert window_total(item, "n", window, T0) == 1
    assert window_total(item, "n", window, T0 + span - 1) == 1
    # and not once it is exactly a window old, nor well outside the window
    assert window_total(item, "n", window, T0 + span) == 0
    assert window_total(item, "n", window, T0 + 2 * span) == 0


@pytest.mark.parametrize(("window", "width", "span"), WINDOW_CASES)
def test_granularity_an_event_late_in_its_bucket_leaves_the_window_up_to_one_bucket_early(
    window: str, width: int, span: int
) -> None:
    # Given a payment in the last second of a bucket
    item = paid_at(T0 + width - 1)
    # then it still counts when it is a window less one bucket old...
    assert window_total(item, "n", window, T0 + width - 1 + span - width) == 1
    # ...but is left out once its bucket's start is a window old, although the event itself is younger
    # than the window (the documented granularity: up to one bucket width)
    age = span - width + 1
    assert age < span
    assert window_total(item, "n", window, T0 + width - 1 + age) == 0


@pytest.mark.parametrize(("window", "width", "span"), WINDOW_CASES)
def test_a_window_does_not_count_a_later_bucket(window: str, width: int, span: int) -> None:
    # Given a payment one bucket after `now` (an out-of-order read)
    item = paid_at(T0 + width)
    # then a window ending at T0 does not see it
    assert window_total(item, "n", window, T0) == 0


def test_window_total_of_no_item_is_zero() -> None:
    assert window_total(None, "n", "1h", T0) == 0
    assert window_total({}, "v", "7d", T0) == 0


def test_window_total_sums_values_and_ignores_other_series_and_attributes() -> None:
    # Given payments of 10 and 15 in the same hour, and attributes that only look like buckets
    item = paid_at(T0, T0 + 10 * MINUTE, amount=10.0)
    item = {**item, "n_mfoo": 99.0, "nn_m" + str(int(T0 // 300)): 99.0}
    item = apply(item, payment_updates("u1", "d1", "10.0.0.1", "m1", 15.0, T0 + 11 * MINUTE, *MADRID, {USER: item})[0])
    # then the value series sums amounts and the count series counts payments
    assert window_total(item, "v", "1h", T0 + 20 * MINUTE) == 35.0
    assert window_total(item, "n", "1h", T0 + 20 * MINUTE) == 3
    assert window_total(item, "f", "1h", T0 + 20 * MINUTE) == 0


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=10 * 86400), min_size=1, max_size=25),
    window=st.sampled_from(sorted(WINDOWS)),
)
def test_pruning_never_drops_a_bucket_a_window_still_needs(offsets: list[int], window: str) -> None:
    # Given payments at arbitrary increasing times (each update prunes the buckets no window reaches)
    times = [T0 + o for o in sorted(offsets)]
    item = paid_at(*times)
    now = times[-1]
    resolution, span = WINDOWS[window]
    width = WIDTH[resolution]
    # then the window at the last payment counts what a brute-force count of unpruned buckets counts
    first = math.floor((now - span) / width) + 1
    expected = sum(1 for t in times if first <= math.floor(t / width) <= math.floor(now / width))
    assert window_total(item, "n", window, now) == expected
    # it never counts an event a window or more old, and always one younger than a window less a bucket
    assert expected <= sum(1 for t in times if now - t < span)
    assert expected >= sum(1 for t in times if now - t < span - width)
    # and no resolution keeps more buckets than one window's worth
    for series in ("n", "v"):
        for res in velocity.SERIES["user"][series]:
            assert len(buckets(item, f"{series}_{res}")) <= KEPT[res]


@given(event=st.integers(min_value=0, max_value=20 * 86400), age=st.integers(min_value=-86400, max_value=20 * 86400))
def test_window_total_never_counts_an_event_older_than_the_window(event: int, age: int) -> None:
    item = paid_at(T0 + event)
    now = T0 + event + age
    for window, (resolution, span) in WINDOWS.items():
        counted = window_total(item, "n", window, now)
        if age >= span:
            assert counted == 0, window
        elif 0 <= age < span - WIDTH[resolution]:
            assert counted == 1, window


# --------------------------------------------------------------------------------------- payments


def test_a_payment_updates_its_four_entities_with_their_series() -> None:
    # Given nothing is known yet
    updates = payment_updates("u1", "d1", "10.0.0.1", "m1", 25.0, T0 + 1, *MADRID, {})
    by_key = {u.key: u for u in updates}
    assert set(by_key) == {USER, DEVICE, IP, MERCHANT}
    m, h, d = int(T0 // 300), int(T0 // 3600), int(T0 // 86400)
    # then each entity counts in the series and resolutions it keeps
    assert by_key[USER].add == {f"n_m{m}": 1, f"n_h{h}": 1, f"n_d{d}": 1, f"v_m{m}": 25, f"v_h{h}": 25, f"v_d{d}": 25}
    every_window = {f"n_m{m}": 1, f"n_h{h}": 1, f"n_d{d}": 1, f"v_m{m}": 25, f"v_h{h}": 25, f"v_d{d}": 25}
    assert by_key[DEVICE].add == by_key[IP].add == by_key[MERCHANT].add == every_window
    # the user is first seen now, here, on this device and IP; the device and IP remember the user
    assert by_key[USER].assign == {"first": T0 + 1, "lt": T0 + 1, "la": MADRID[0], "lo": MADRID[1]}
    assert by_key[USER].put_in == {"dev": {"d1": T0 + 1}, "ipm": {"10.0.0.1": T0 + 1}}
    assert by_key[DEVICE].put_in == {"usr": {"u1": T0 + 1}}
    assert by_key[IP].put_in == {"usr": {"u1": T0 + 1}}
    assert not by_key[MERCHANT].put_in
    assert not any(u.remove or u.remove_in for u in updates)


def test_a_later_payment_keeps_first_seen_and_moves_last_seen() -> None:
    world = MemoryWorld()
    world.pay(T0)
    world.pay(T0 + DAY, place=PARIS)
    user = world.user()
    assert user["first"] == T0
    assert (user["lt"], user["la"], user["lo"]) == (T0 + DAY, *PARIS)
    assert user["dev"] == {"d1": T0}  # first seen is kept
    assert world.items[DEVICE]["usr"] == {"u1": T0 + DAY}  # last seen moves


def test_stale_buckets_are_removed_by_the_next_update_once_no_window_reaches_them() -> None:
    # Given a payment at T0
    item = paid_at(T0)
    m = int(T0 // 300)
    # when the next payment comes 55 minutes later, the 5-minute bucket is still inside the hour: kept
    later = apply(item, payment_updates("u1", "d1", "10.0.0.1", "m1", 1.0, T0 + 55 * MINUTE, *MADRID, {USER: item})[0])
    assert f"n_m{m}" in later
    # when it comes an hour later, the bucket is a window old: removed by that same update
    update = payment_updates("u1", "d1", "10.0.0.1", "m1", 1.0, T0 + HOUR, *MADRID, {USER: item})[0]
    assert {f"n_m{m}", f"v_m{m}"} <= update.remove
    assert f"n_h{int(T0 // 3600)}" not in update.remove
    # and eight days later every bucket of T0 goes, at every resolution
    update = payment_updates("u1", "d1", "10.0.0.1", "m1", 1.0, T0 + 8 * DAY, *MADRID, {USER: item})[0]
    assert update.remove == {name for name in item if name[:2] in ("n_", "v_")}


# ----------------------------------------------------------------------------------------- logins


def test_failed_logins_count_against_the_user_only() -> None:
    # Given three failed logins, the last two within the hour
    world = MemoryWorld()
    for t in (T0, T0 + 2 * HOUR, T0 + 2 * HOUR + 5 * MINUTE):
        world.login(t, success=False)
    updates = login_updates("u1", "d1", "10.0.0.1", False, T0, *MADRID, {})
    # then only the user's `f` series changes; nothing about place, session or devices
    assert [u.key for u in updates] == [USER]
    assert not (updates[0].assign or updates[0].put_in)
    user = world.user()
    assert window_total(user, "f", "1h", T0 + 2 * HOUR + 10 * MINUTE) == 2
    assert window_total(user, "f", "24h", T0 + 2 * HOUR + 10 * MINUTE) == 3
    assert not {"lt", "st", "dev", "first"} & set(user)
    assert set(world.items) == {USER}


def test_a_successful_login_opens_a_session_and_makes_the_device_and_ip_known() -> None:
    # Given a payment in Paris on d1
    world = MemoryWorld()
    world.pay(T0, place=PARIS)
    # when the user logs in from London on a new device two hours later
    world.login(T0 + 2 * HOUR, device="d2", ip="10.0.0.2", place=LONDON)
    user = world.user()
    distance = haversine_km(*PARIS, *LONDON)
    # then the session records the time, device, implied speed and that the device was new
    assert (user["st"], user["sd"], user["sn"]) == (T0 + 2 * HOUR, "d2", 1.0)
    assert user["ss"] == round(distance / 2, 1)
    assert (user["lt"], user["la"], user["lo"]) == (T0 + 2 * HOUR, *LONDON)
    assert user["dev"] == {"d1": T0, "d2": T0 + 2 * HOUR}
    assert user["ipm"] == {"10.0.0.1": T0, "10.0.0.2": T0 + 2 * HOUR}
    assert world.items[entity_key("device", "d2")] == {"usr": {"u1": T0 + 2 * HOUR}}
    assert world.items[entity_key("ip", "10.0.0.2")] == {"usr": {"u1": T0 + 2 * HOUR}}
    # and a login on a known device is not new
    world.login(T0 + 3 * HOUR, device="d1", place=LONDON)
    assert world.user()["sn"] == 0.0


# ------------------------------------------------------------------------------------ bounded maps


def test_a_user_remembers_at_most_max_known_devices_dropping_the_first_seen() -> None:
    # Given payments on MAX_KNOWN + 8 devices, one a minute
    world = MemoryWorld()
    for i in range(MAX_KNOWN + 8):
        world.pay(T0 + i * MINUTE, device=f"d{i:02}")
    devices = world.user()["dev"]
    # then the newest MAX_KNOWN are remembered, the 8 seen first are forgotten
    assert len(devices) == MAX_KNOWN
    assert set(devices) == {f"d{i:02}" for i in range(8, MAX_KNOWN + 8)}
    # and paying again on a remembered device does not move its first-seen time or evict anything
    world.pay(T0 + DAY, device="d08")
    assert world.user()["dev"] == devices


def test_a_device_remembers_at_most_max_users_dropping_the_least_recently_seen() -> None:
    # Given MAX_USERS + 6 users on one device, and the first user coming back just before the last one
    world = MemoryWorld()
    for i in range(MAX_USERS + 5):
        world.pay(T0 + i * MINUTE, user=f"u{i:02}")
    world.pay(T0 + HOUR * 3, user="u00")
    world.pay(T0 + HOUR * 4, user="newest")
    seen = world.items[DEVICE]["usr"]
    # then the device knows MAX_USERS users: the returning user stays, the least recently seen go
    assert len(seen) == MAX_USERS
    assert {"u00", "newest"} <= set(seen)
    assert not {f"u{i:02}" for i in range(1, 7)} & set(seen)
    assert users_seen(world.items[DEVICE], T0 + HOUR * 4) == MAX_USERS


def test_devices_and_ips_forget_users_not_seen_for_seven_days() -> None:
    # Given u1 on the device at T0
    world = MemoryWorld()
    world.pay(T0, user="u1")
    device = world.items[DEVICE]
    # then u1 counts for exactly seven days
    assert users_seen(device, T0 + USER_MEMORY) == 1
    assert users_seen(device, T0 + USER_MEMORY + 1) == 0
    # and the next update after that removes u1 from the map
    world.pay(T0 + USER_MEMORY + 1, user="u2")
    assert world.items[DEVICE]["usr"] == {"u2": T0 + USER_MEMORY + 1}
    assert world.items[IP]["usr"] == {"u2": T0 + USER_MEMORY + 1}
    assert users_seen(None, T0) == 0


EVENT = st.tuples(
    st.sampled_from(["payment", "login", "failed"]),
    st.integers(0, 5),  # user
    st.integers(0, 6),  # device
    st.integers(0, 6),  # ip
    st.integers(0, 2 * 86400),  # seconds after the previous event
)


@given(events=st.lists(EVENT, min_size=1, max_size=40))
def test_bounded_maps_never_exceed_their_caps(events: list[tuple[str, int, int, int, int]]) -> None:
    with pytest.MonkeyPatch.context() as patch:  # small caps, so random traffic overflows them
        patch.setattr(velocity, "MAX_KNOWN", 3)
        patch.setattr(velocity, "MAX_USERS", 2)
        world, t = MemoryWorld(), T0
        for kind, user, device, ip, gap in events:
            t += gap
            ids = {"user": f"u{user}", "device": f"d{device}", "ip": f"10.0.0.{ip}"}
            if kind == "payment":
                world.pay(t, ids["user"], ids["device"], ids["ip"])
            else:
                world.login(t, ids["user"], ids["device"], ids["ip"], success=kind == "login")
            for key, item in world.items.items():
                assert len(item.get("dev", {})) <= 3, key
                assert len(item.get("ipm", {})) <= 3, key
                assert len(item.get("usr", {})) <= 2, key
            if kind != "failed":  # and the entry just made is always among those remembered
                assert f"u{user}" in world.items[entity_key("device", f"d{device}")]["usr"]
                assert f"d{device}" in world.user(f"u{user}")["dev"]


# ------------------------------------------------------------------------------------------- travel


def test_haversine_distances() -> None:
    assert haversine_km(*PARIS, *LONDON) == pytest.approx(343.6, abs=1.0)
    assert haversine_km(*MADRID, *MADRID) == 0.0
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * velocity.EARTH_RADIUS_KM)


def test_travel_from_last_without_a_previous_event_is_zero() -> None:
    assert travel_from_last(None, T0, *PARIS) == (0.0, 0.0, 0.0)
    assert travel_from_last({"first": T0, "n_m1": 1.0}, T0, *PARIS) == (0.0, 0.0, 0.0)


def test_travel_from_last_is_distance_over_time_since_the_last_event() -> None:
    user = {"lt": T0, "la": PARIS[0], "lo": PARIS[1]}
    distance, speed, seconds = travel_from_last(user, T0 + 2 * HOUR, *LONDON)
    assert distance == pytest.approx(haversine_km(*PARIS, *LONDON))
    assert speed == pytest.approx(distance / 2)
    assert seconds == 2 * HOUR


def test_events_closer_than_min_travel_seconds_are_timed_as_that_far_apart() -> None:
    # Given the last event 10 s ago, about 10 km away
    user = {"lt": T0, "la": 40.0, "lo": -3.7}
    there = (40.0 + 10 / 111.2, -3.7)
    distance, speed, seconds = travel_from_last(user, T0 + 10, *there)
    # then the speed is over a minute (600 km/h for 10 km), not over 10 s (3,600 km/h)
    assert seconds == 10
    assert speed == pytest.approx(distance / (velocity.MIN_TRAVEL_SECONDS / 3600))
    assert speed < 1000


def test_speed_is_capped_and_an_event_older_than_the_last_one_has_no_travel() -> None:
    user = {"lt": T0, "la": PARIS[0], "lo": PARIS[1]}
    # half the world away in a minute: capped
    assert travel_from_last(user, T0 + 60, -PARIS[0], PARIS[1] - 180)[1] == MAX_SPEED_KMH
    # an event timestamped before the last one (a late delivery) is not timed against a later event:
    # 22 km "in no time" would otherwise read as impossible travel
    near = (PARIS[0] + 0.2, PARIS[1])
    assert travel_from_last(user, T0 - 600, *near) == (0.0, 0.0, 0.0)


def test_a_late_event_counts_but_never_moves_last_seen_or_the_session_back() -> None:
    world = MemoryWorld()
    world.pay(T0 + HOUR, place=PARIS)
    before = dict(world.user())
    # a payment delivered late, timestamped an hour earlier, somewhere else
    world.pay(T0, place=MADRID)
    user = world.user()
    assert (user["lt"], user["la"], user["lo"]) == (before["lt"], before["la"], before["lo"])
    assert window_total(user, "n", "24h", T0 + HOUR) == 2


def test_a_payment_the_rules_decline_counts_but_does_not_make_its_device_known() -> None:
    item = paid_at(T0)
    updates = payment_updates(
        "u1", "d-attacker", "10.9.9.9", "m1", 900.0, T0 + HOUR, *PARIS, {USER: item}, trusted=False
    )
    user_update = next(u for u in updates if u.key == USER)
    assert user_update.add  # counted
    assert not user_update.put_in and "lt" not in user_update.assign  # not familiar, place not moved
