"""Queue campaigns: N messages (a share of them poison) through a queue and its consumers while the fault
layer throttles, fails, times out and (for the crash campaign) kills the function processes, then three
counts from the stores and the DLQs:

- **lost**: a good record whose effect is missing (and that is not parked in a DLQ either);
- **applied twice**: a good record whose effect landed more than once (a counter at 2, two outcomes sent);
- **poison not in the DLQ**: a poison record that is not in its queue's DLQ once the queues are drained.

Good records parked in a DLQ are counted apart ("good in DLQ"): not lost (a redrive replays them), but
not applied either. Each case is a `QueueCase`: what a good and a poison body look like, which functions
get the faults, which queues must drain, and how to count each good record's effect. A new consumer is one
more case in CASES.
"""

from __future__ import annotations

import concurrent.futures
import gzip
import json
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.campaigns._up import Up

# The template's visibility timeouts are 6x each function's timeout (180-3600 s), so a poison record needs
# 9+ minutes to reach its DLQ after three receives. The campaign shortens them on the queues it drives
# (and says so in the report); receive counts and redrive stay the emulator's, as SQS's.
CAMPAIGN_VISIBILITY_SECONDS = 30
# A case's drain budget: the poison's three receives, then its records at no less than this rate (a
# tenth of the slowest measured, so only a stuck consumer runs out of it).
DRAIN_FLOOR_SECONDS = 600.0
DRAIN_MIN_RATE = 0.5  # records a second


def drain_budget(n: int) -> float:
    return DRAIN_FLOOR_SECONDS + 3 * CAMPAIGN_VISIBILITY_SECONDS + n / DRAIN_MIN_RATE


@dataclass
class Effects:
    """Per good record: how many times its effect landed (0: lost, 1: right, 2+: applied twice)."""

    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)


@dataclass
class QueueCase:
    name: str
    queue: str  # logical id of the queue the messages go to
    dlq: str  # its DLQ
    functions: list[str]  # the functions the faults hit (substrings of their names)
    drained: list[str]  # every queue that must be empty before counting (the first, and those it feeds)
    good: Callable[[str, int], dict[str, Any]]  # (run, i) -> body
    poison: Callable[[str, int], str]  # (run, i) -> raw body
    effects: Callable[[Up, str, list[dict[str, Any]]], Effects]
    other_dlqs: list[str] = field(default_factory=list)  # downstream DLQs where a good record could land
    key: str = "id"  # the body field that names a good record
    needs_models: bool = False  # its consumer needs served models: it waits for the stack to be ready


@dataclass
class Outcome:
    case: str
    n: int
    poison: int
    lost: int
    twice: int
    poison_not_in_dlq: int
    good_in_dlq: int
    seconds: float
    faults: int
    crashes: int
    notes: list[str]
    consumed: float = float("nan")  # seconds until only poison was left: the consumer's own pace

    @property
    def rate(self) -> float:
        """Records a second the consumer took them at (NaN if not measured)."""
        return self.n / self.consumed if self.consumed > 0 else float("nan")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- sending, draining, counting ------------------------------------------------------------------------


def send(up: Up, queue: str, bodies: list[str]) -> None:
    sqs = up.client("sqs")
    url = up.queue_url(queue)

    def batch(start: int) -> None:
        entries = [{"Id": str(j), "MessageBody": body} for j, body in enumerate(bodies[start : start + 10])]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        if failed:
            raise RuntimeError(f"could not queue {len(failed)} campaign messages: {failed[:2]}")

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(batch, range(0, len(bodies), 10)))


def depth(up: Up, queue: str) -> int:
    attributes = up.client("sqs").get_queue_attributes(
        QueueUrl=up.queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def drain_dlq(up: Up, dlq: str) -> list[str]:
    """Every message body in `dlq`, removed from it."""
    sqs = up.client("sqs")
    url = up.queue_url(dlq)
    bodies: list[str] = []
    empty = 0
    while empty < 2:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            empty += 1
            continue
        bodies.extend(m["Body"] for m in messages)
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return bodies


def set_visibility(up: Up, queues: Iterable[str], seconds: int | None) -> dict[str, str]:
    """Set each queue's visibility timeout (None: leave it); the previous values, to put back."""
    sqs = up.client("sqs")
    before = {}
    for queue in queues:
        url = up.queue_url(queue)
        before[queue] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"][
            "VisibilityTimeout"
        ]
        if seconds is not None:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(seconds)})
    return before


def restore_visibility(up: Up, before: dict[str, str]) -> None:
    sqs = up.client("sqs")
    for queue, seconds in before.items():
        sqs.set_queue_attributes(QueueUrl=up.queue_url(queue), Attributes={"VisibilityTimeout": seconds})


@dataclass
class _Prepared:
    case: QueueCase
    n: int
    run: str
    goods: list[dict[str, Any]]
    bodies: list[str]
    poisons: int


def _prepare(case: QueueCase, n: int, poison_share: float) -> _Prepared:
    run = uuid.uuid4().hex[:8]
    every = round(1 / poison_share) if poison_share > 0 else 0
    goods: list[dict[str, Any]] = []
    bodies: list[str] = []
    for i in range(n):
        if every and i % every == every - 1:
            bodies.append(case.poison(run, i))
        else:
            goods.append(case.good(run, i))
            bodies.append(json.dumps(goods[-1]))
    return _Prepared(case, n, run, goods, bodies, n - len(goods))


def run_case(
    up: Up, case: QueueCase, n: int, poison_share: float, fault_rate: float, crash_rate: float = 0.0
) -> Outcome:
    return run_cases(up, [(case, n)], poison_share, fault_rate, crash_rate)[0]


def run_cases(
    up: Up, cases: list[tuple[QueueCase, int]], poison_share: float, fault_rate: float, crash_rate: float = 0.0
) -> list[Outcome]:
    """Drive every case's queue at once (their consumers are separate functions, so they do not share a
    worker; the poison records' three visibility timeouts then overlap instead of adding up), with the
    faults armed for all their functions; then count each case on its own."""
    prepared = [_prepare(case, n, poison_share) for case, n in cases]
    functions = sorted({f for p in prepared for f in p.case.functions})
    queues = sorted({q for p in prepared for q in p.case.drained})
    before = set_visibility(up, queues, CAMPAIGN_VISIBILITY_SECONDS)
    faults_before = {p.case.name: _count(up, p.case.functions, "FAULT ") for p in prepared}
    crashes_before = {p.case.name: _count(up, p.case.functions, "FAULT crash") for p in prepared}
    started = time.monotonic()
    drained_after: dict[str, float] = {}
    consumed_after: dict[str, float] = {}
    try:
        up.faults(rate=fault_rate, crash_rate=crash_rate, functions=functions)
        with concurrent.futures.ThreadPoolExecutor(len(prepared)) as pool:
            list(pool.map(lambda p: send(up, p.case.queue, p.bodies), prepared))
        deadline = time.monotonic() + max(drain_budget(p.n) for p in prepared)
        quiet: Counter[str] = Counter()
        while len(drained_after) < len(prepared) and time.monotonic() < deadline:
            for p in prepared:
                if p.case.name in drained_after:
                    continue
                left = sum(depth(up, q) for q in p.case.drained)
                if left <= p.poisons and p.case.name not in consumed_after:
                    # what is left is the poison, waiting out its receives: the consumer's own pace ends here
                    consumed_after[p.case.name] = time.monotonic() - started
                quiet[p.case.name] = quiet[p.case.name] + 1 if left == 0 else 0
                if quiet[p.case.name] >= 3:  # a few polls empty: nothing in flight upstream either
                    drained_after[p.case.name] = time.monotonic() - started
            time.sleep(2.0)
    finally:
        up.faults(functions=functions)
        restore_visibility(up, before)
    outcomes = []
    for p in prepared:
        outcome = _count_case(up, p, drained_after.get(p.case.name, float("nan")))
        outcome.consumed = consumed_after.get(p.case.name, float("nan"))
        outcome.faults = _count(up, p.case.functions, "FAULT ") - faults_before[p.case.name]
        outcome.crashes = _count(up, p.case.functions, "FAULT crash") - crashes_before[p.case.name]
        if p.case.name not in drained_after:
            outcome.notes.append(f"not drained within {drain_budget(p.n):.0f} s: counted as it stood")
        outcomes.append(outcome)
    return outcomes


def _count_case(up: Up, p: _Prepared, seconds: float) -> Outcome:
    case = p.case
    parked = drain_dlq(up, case.dlq)
    downstream = [body for dlq in case.other_dlqs for body in drain_dlq(up, dlq)]
    poison_in_dlq = sum(1 for body in parked if p.run in body and _is_poison(body, case.key))
    good_parked = {_good_id(body, case.key) for body in parked + downstream if p.run in body} - {None}
    effects = case.effects(up, p.run, p.goods)
    ids = [str(g[case.key]) for g in p.goods]
    return Outcome(
        case=case.name,
        n=p.n,
        poison=p.poisons,
        lost=sum(1 for i in ids if effects.counts.get(i, 0) == 0 and i not in good_parked),
        twice=sum(1 for i in ids if effects.counts.get(i, 0) > 1),
        poison_not_in_dlq=p.poisons - poison_in_dlq,
        good_in_dlq=len(good_parked),
        seconds=seconds,
        faults=0,
        crashes=0,
        notes=effects.notes,
    )


def _count(up: Up, functions: list[str], marker: str) -> int:
    return sum(up.log_lines(f, marker) for f in _logs(up, functions))


def _logs(up: Up, functions: list[str]) -> list[str]:
    return [path.stem for path in (up.state_dir / "logs").glob("*.log") if any(f in path.stem for f in functions)]


def _is_poison(body: str, key: str) -> bool:
    return _good_id(body, key) is None


def _good_id(body: str, key: str) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, dict) and parsed.get("campaign") != "poison" and key in parsed:
        return str(parsed[key])
    # a record another consumer parked (an SNS-delivered event is the event itself)
    return None


def scan(up: Up, table: str, prefix_attr: str, run: str) -> list[dict[str, Any]]:
    ddb = up.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": up.name(table),
        "FilterExpression": "contains(#k, :run)",
        "ExpressionAttributeNames": {"#k": prefix_attr},
        "ExpressionAttributeValues": {":run": {"S": run}},
    }
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# -- risk: bulk scoring --------------------------------------------------------------------------------


def _transaction(run: str, i: int) -> dict[str, Any]:
    return {
        "transaction_id": f"camp-{run}-t{i}",
        "user_id": f"camp-{run}-u{i}",
        "device_id": f"camp-{run}-d{i}",
        "ip": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
        "merchant_id": f"camp-{run}-m",
        "amount": 12.5 + i % 50,
        "currency": "USD",
        "timestamp": now_iso(),
        "location": {"lat": 31.23, "lon": 121.47},
        "payment_method": "card",
        "card_id": f"camp-{run}-c{i}",
    }


def user_counts(up: Up, run: str, buckets: str) -> dict[str, int]:
    """Each of this run's risk users (`user#...`): the total of its velocity buckets whose names start with
    `buckets` (`n_d`: payments in the daily buckets, the week's; `f_h`: failed logins, hourly ones)."""
    counts: dict[str, int] = {}
    for item in scan(up, "RiskStateTable", "entity", run):
        entity = item["entity"]["S"]
        if entity.startswith("user#"):
            counts[entity] = sum(int(float(v["N"])) for k, v in item.items() if k.startswith(buckets) and "N" in v)
    return counts


def _risk_transaction_effects(up: Up, run: str, goods: list[dict[str, Any]]) -> Effects:
    results = {item["transaction_id"]["S"] for item in scan(up, "RiskResultsTable", "transaction_id", run)}
    users = user_counts(up, run, "n_d")
    outcomes = Counter(
        json.loads(body).get("transaction_id") for body in drain_dlq(up, "RiskOutcomesQueue") if run in body
    )
    counts: dict[str, int] = {}
    doubled_outcomes = 0
    for good in goods:
        tid = good["transaction_id"]
        counted = users.get(f"user#{good['user_id']}", 0)
        counts[tid] = counted if tid in results else 0  # a result without its velocity count is lost too
        doubled_outcomes += outcomes.get(tid, 0) > 1
        if outcomes.get(tid, 0) > 1:
            counts[tid] = max(counts[tid], outcomes[tid])
    notes = [
        f"results stored for {len(results)} of {len(goods)} good transactions; user payment counters at 1: "
        f"{sum(1 for v in users.values() if v == 1)}, above 1: {sum(1 for v in users.values() if v > 1)}; "
        f"review/decline outcomes sent: {sum(outcomes.values())} for {len(outcomes)} transactions "
        f"({doubled_outcomes} sent more than once)"
    ]
    return Effects(counts, notes)


RISK_TRANSACTIONS = QueueCase(
    name="risk bulk scoring",
    queue="RiskTransactionsQueue",
    dlq="RiskTransactionsDLQ",
    functions=["RiskBulkScoring"],
    drained=["RiskTransactionsQueue"],
    good=_transaction,
    poison=lambda run, i: json.dumps({**_transaction(run, i), "amount": "lots", "campaign": "poison"}),
    effects=_risk_transaction_effects,
    key="transaction_id",
    needs_models=True,
)


# -- risk: account events --------------------------------------------------------------------------------


def _account_event(run: str, i: int) -> dict[str, Any]:
    return {
        "event_id": f"camp-{run}-e{i}",
        "event_type": "login",
        "success": False,
        "user_id": f"camp-{run}-u{i}",
        "device_id": f"camp-{run}-d{i}",
        "ip": "203.0.113.7",
        "timestamp": now_iso(),
        "location": {"lat": 31.23, "lon": 121.47},
    }


def _account_event_effects(up: Up, run: str, goods: list[dict[str, Any]]) -> Effects:
    # failed logins are kept at 5-minute and hourly resolution: the hourly buckets hold them all
    failed_logins = user_counts(up, run, "f_h")
    counts = {g["event_id"]: failed_logins.get(f"user#{g['user_id']}", 0) for g in goods}
    return Effects(counts, [f"users with a failed-login count: {len(failed_logins)} of {len(goods)}"])


RISK_ACCOUNT_EVENTS = QueueCase(
    name="risk account events",
    queue="RiskAccountEventsQueue",
    dlq="RiskAccountEventsDLQ",
    functions=["RiskAccountEvents"],
    drained=["RiskAccountEventsQueue"],
    good=_account_event,
    poison=lambda run, i: json.dumps({**_account_event(run, i), "event_type": "teleport", "campaign": "poison"}),
    effects=_account_event_effects,
    key="event_id",
)


# -- behaviour events: the queue producer and the topic's consumers ---------------------------------------

CAMPAIGN_ITEM = "camp-item"


def _behaviour_event(run: str, i: int) -> dict[str, Any]:
    # An impression: every consumer of the topic takes it (archive, recommendations' fatigue counts,
    # propensity's profile), and its counts are what a duplicate would double.
    return {
        "event_id": f"camp-{run}-e{i}",
        "user_id": f"camp-{run}-u{i}",
        "session_id": f"camp-{run}-s{i}",
        "event_type": "impression",
        "timestamp": now_iso(),
        "item_id": CAMPAIGN_ITEM,
        "item_ids": [CAMPAIGN_ITEM],
    }


def _archived(up: Up, run: str) -> Counter[str]:
    s3 = up.client("s3")
    bucket = up.name("BehaviourEventsBucket")
    seen: Counter[str] = Counter()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="events/"):
        for obj in page.get("Contents", []):
            raw = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            text = gzip.decompress(raw).decode() if obj["Key"].endswith(".gz") else raw.decode()
            for line in text.splitlines():
                if run in line:
                    seen[json.loads(line)["event_id"]] += 1
    return seen


def _behaviour_effects(up: Up, run: str, goods: list[dict[str, Any]]) -> Effects:
    archived = _archived(up, run)
    profiles: dict[str, float] = {}
    for item in scan(up, "UserProfilesTable", "user_id", run):
        if item["kind"]["S"] == "profile":
            state = json.loads(zlib.decompress(item["state"]["B"]))
            profiles[item["user_id"]["S"]] = sum(state.get("hour_of_day", []))
    sessions: dict[str, int] = {}
    for item in scan(up, "RecommendationSessionsTable", "user_id", run):
        impressions = json.loads(item["state"]["S"]).get("impressions", {})
        sessions[item["user_id"]["S"]] = int(impressions.get(CAMPAIGN_ITEM, [0])[0])
    counts: dict[str, int] = {}
    per_store = Counter[str]()
    for good in goods:
        eid, user = good["event_id"], good["user_id"]
        landed = {
            "archive": 1 if archived.get(eid) else 0,  # the archive is at-least-once, deduplicated at read
            "propensity profile": int(profiles.get(user, 0)),
            "recommendations session": sessions.get(user, 0),
        }
        for store, times in landed.items():
            per_store[f"{store} lost"] += times == 0
            per_store[f"{store} twice"] += times > 1
        counts[eid] = 0 if min(landed.values()) == 0 else max(landed.values())
    raw_duplicates = sum(c - 1 for c in archived.values() if c > 1)
    notes = [
        ", ".join(f"{k}: {v}" for k, v in sorted(per_store.items())),
        f"archive: {raw_duplicates} duplicate lines in the files (at-least-once by design; `read_events` "
        "returns each event_id once)",
    ]
    return Effects(counts, notes)


BEHAVIOUR_EVENTS = QueueCase(
    name="behaviour events -> topic -> archive, recommendations, propensity",
    queue="BehaviourEventsQueue",
    dlq="BehaviourEventsDLQ",
    functions=["BehaviourEventsQueue", "BehaviourArchive", "RecommendationEvents", "PropensityProfileEvents"],
    drained=[
        "BehaviourEventsQueue",
        "BehaviourArchiveQueue",
        "RecommendationEventsQueue",
        "PropensityProfileEventsQueue",
    ],
    good=_behaviour_event,
    poison=lambda run, i: json.dumps({**_behaviour_event(run, i), "item_ids": [], "campaign": "poison"}),
    effects=_behaviour_effects,
    other_dlqs=["BehaviourArchiveDLQ", "RecommendationEventsDLQ", "PropensityProfileEventsDLQ"],
    key="event_id",
)


# -- customer service: hand-off tickets --------------------------------------------------------------------


def _ticket(run: str, i: int) -> dict[str, Any]:
    return {
        "ticket_id": f"t-camp-{run}-{i}",
        "conversation_id": f"c-camp-{run}-{i}",
        "user_id": f"camp-{run}-u{i}",
        "reason": "request",
        "intent": "human",
        "slots": {},
        "emotion": 0.1,
        "language": "en",
        "created_at": now_iso(),
        "transcript": [{"role": "customer", "text": "a person, please", "at": now_iso()}],
    }


def _ticket_effects(up: Up, run: str, goods: list[dict[str, Any]]) -> Effects:
    # A ticket is one item under its id (a conditional put): "twice" cannot happen by construction, only "lost".
    recorded = {item["ticket_id"]["S"] for item in scan(up, "SupportTicketsTable", "ticket_id", run)}
    counts = {g["ticket_id"]: int(g["ticket_id"] in recorded) for g in goods}
    return Effects(counts, [f"tickets recorded: {len(recorded)} of {len(goods)} (one item per ticket id)"])


SUPPORT_TICKETS = QueueCase(
    name="support hand-off tickets",
    queue="SupportHandoffQueue",
    dlq="SupportHandoffDLQ",
    functions=["SupportTickets"],
    drained=["SupportHandoffQueue"],
    good=_ticket,
    poison=lambda run, i: json.dumps({**_ticket(run, i), "emotion": 7, "campaign": "poison"}),
    effects=_ticket_effects,
    key="ticket_id",
)


CASES = {
    "risk-transactions": RISK_TRANSACTIONS,
    "risk-account-events": RISK_ACCOUNT_EVENTS,
    "behaviour": BEHAVIOUR_EVENTS,
    "support-tickets": SUPPORT_TICKETS,
}
