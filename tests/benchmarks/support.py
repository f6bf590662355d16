"""Customer service benchmarks: `POST /support/messages` on the handler path against its bare floors, and
what AWS would bill for the conversation state.

Sides are interleaved call by call, so the shared machine's noise hits them alike:
- handler: the Chalice app with an API Gateway proxy event (front-end key), as the local gateway and Lambda
  call it: caller check, conversation GetItem (consistent), encoder + intent head, FAQ, forms (an order
  GetItem where a form asks), the state PutItem (revision-conditioned); conversations of six turns (an
  order question, its id, its contact, a follow-up, an FAQ question, a goodbye), a new one after each;
- bare inference: `encoder.embed` (the `support-encoder` ONNX session) of the same message and the linear
  head (`IntentModel.predict_vector`),
  no Python around them;
- bare inference + state: the same plus one consistent GetItem and one PutItem of the same conversation's
  state item with bare boto3, the DynamoDB calls the handler cannot avoid.

The models are the served ones (`model_build.support.build`). The emulator's DynamoDB is far
slower than AWS's, so the second ratio is the one that says what the handler adds; the third figure is
the billed units of the handler's calls (tests/benchmarks/_cost.py), per 1,000 messages.

Then, with the `cold` and `sizes` sections' own tools:
- cold start: a new process imports functions/support/app.py as Lambda does (the cold section's probe) and
  answers a first `POST /support/messages` with an empty model cache (registry pointer, manifest,
  download, checksum, the encoder's ONNX session and tokenizer, the FAQ index, the state read and write), against
  `python -c "import boto3"` in the same run, interleaved;
- deployed size: each support function's code plus its layers as `sam build` lays them out (the sizes
  section's layer builds, cached under build/layers/), against the 120 MB goal for inference functions
  and against the same function with only the bare inference runtime (onnxruntime and numpy with their
  dependencies) in MlLayer.
"""

# ruff: noqa: RUF001  (Chinese messages)

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from commerce_ai import aws
from commerce_ai.support import encoder, service
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from tests.benchmarks import cold_start, sizes
from tests.benchmarks._cost import bill, counting_calls
from tests.benchmarks._report import Report, fmt_ratio, fmt_seconds, heading, median, percentile, ratio, table
from tests.benchmarks._stack import INGEST_KEY, LocalStack, patched_environ, python

API_FUNCTION = "SupportApiFunction"
FUNCTIONS = ("SupportApiFunction", "SupportWebSocketFunction", "SupportTicketsFunction")
BARE_INFERENCE = ("onnxruntime", "numpy")  # what every MlLayer function ships, whatever it serves
# One conversation: an order question, the id and contact the form asks for, a follow-up that uses the
# context, an FAQ question, a goodbye (English and Chinese alternate by conversation).
CONVERSATIONS = [
    ["where is my order A1003?", "alice@example.com", "and when will it arrive?", "can I return shoes?", "bye"],
    ["我的订单到哪了？", "A1007", "bob@example.com", "什么时候能到？", "优惠券能叠加吗？", "再见"],
]


def prepare(local: LocalStack) -> dict[str, float]:
    from model_build.support import build, seed

    timings: dict[str, float] = {}
    started = time.perf_counter()
    artifacts = build(local.workdir / "support")
    timings["build (support-encoder, support-intents)"] = time.perf_counter() - started
    for built in artifacts:
        local.serve(built)
    started = time.perf_counter()
    seed(local.stack, local.workdir)
    timings["seed (orders, FAQ, graph)"] = time.perf_counter() - started
    service.intent_loader.cache_clear()
    service.encoder_loader.cache_clear()
    service.faq_cache.index = None
    return timings


def latency_benchmark(local: LocalStack, report: Report, calls: int) -> None:
    fn = local.function(API_FUNCTION)
    app = load_handler(fn.code_uri, fn.module, fn.attribute)
    context = LambdaContext(fn.physical_name)
    headers = {"x-api-key": INGEST_KEY}
    model = service.intent_loader().get().model
    table = local.stack.physical_name("SupportConversationsTable")
    ddb = aws.client("dynamodb")

    def post(text: str, conversation_id: str | None) -> dict[str, Any]:
        body = {"user_id": "u-bench", "text": text, "channel": "web", "conversation_id": conversation_id}
        answer = app(local.api_event("POST", "/support/messages", json.dumps(body).encode(), headers), context)
        assert answer["statusCode"] == 200, answer
        result: dict[str, Any] = json.loads(answer["body"])
        return result

    post("hello", None)  # warm: model, encoder weights, FAQ index, SSM key
    handler_times, bare_times, bare_state_times = [], [], []
    messages = 0
    with counting_calls() as calls_log:
        while messages < calls:
            for turns in CONVERSATIONS:
                conversation_id = None
                for text in turns:
                    if messages >= calls:
                        break
                    started = time.perf_counter()
                    answer = post(text, conversation_id)
                    handler_times.append(time.perf_counter() - started)
                    conversation_id = answer["conversation_id"]
                    messages += 1
                    with calls_log.paused():
                        started = time.perf_counter()
                        model.predict_vector(encoder.embed([text])[0])
                        bare_times.append(time.perf_counter() - started)
                        key = {"conversation_id": {"S": conversation_id}}
                        started = time.perf_counter()
                        item = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
                        model.predict_vector(encoder.embed([text])[0])
                        ddb.put_item(TableName=table, Item=item)
                        bare_state_times.append(time.perf_counter() - started)
    for pct in (50, 99):
        value = percentile(handler_times, pct)
        bare, bare_state = percentile(bare_times, pct), percentile(bare_state_times, pct)
        print(
            f"  POST /support/messages p{pct}: handler {value * 1000:.1f} ms, bare encoder + head {bare * 1000:.1f} ms,"
            f" bare + GetItem + PutItem {bare_state * 1000:.1f} ms"
        )
        report.add(
            "support",
            f"POST /support/messages p{pct} (handler vs bare encoder + intent head)",
            f"{value * 1000:.1f} ms",
            f"{bare * 1000:.1f} ms",
            ratio(value, bare),
            f"{messages} messages in 6-turn conversations (forms, context, FAQ); the emulator's DynamoDB included",
        )
        report.add(
            "support",
            f"POST /support/messages p{pct} (handler vs bare encoder + head + state GetItem + PutItem)",
            f"{value * 1000:.1f} ms",
            f"{bare_state * 1000:.1f} ms",
            ratio(value, bare_state),
            "the floor has the DynamoDB calls the handler cannot avoid",
        )
    billed = bill(calls_log, api_requests=messages, lambda_invocations=messages)
    per_thousand = {k: v * 1000 / messages for k, v in billed.items()}
    operations = ", ".join(f"{op} {n}" for (svc, op), n in sorted(calls_log.calls.items()) if svc == "dynamodb")
    print(f"  DynamoDB calls over {messages} messages: {operations}")
    print(
        f"  per 1,000 messages: {per_thousand['dynamodb_rru']:.0f} RRU, {per_thousand['dynamodb_wru']:.0f} WRU,"
        f" {per_thousand['sqs_request']:.0f} SQS requests, ${per_thousand['dollars']:.4f}"
        " (API Gateway and Lambda requests included, Lambda duration not)"
    )
    report.add(
        "support",
        "what AWS would bill per 1,000 messages (state, orders, catalogue reads; API Gateway; Lambda requests)",
        f"${per_thousand['dollars']:.4f}",
        f"${(per_thousand['api_request'] * 3.5e-6 + per_thousand['lambda_invocation'] * 0.2e-6):.4f}",
        ratio(
            per_thousand["dollars"], per_thousand["api_request"] * 3.5e-6 + per_thousand["lambda_invocation"] * 0.2e-6
        ),
        f"baseline: API Gateway + Lambda requests alone; {per_thousand['dynamodb_rru']:.0f} RRU and"
        f" {per_thousand['dynamodb_wru']:.0f} WRU per 1,000 (FAQ scans once a minute per container not counted)",
    )


def cold_benchmark(local: LocalStack, report: Report, runs: int) -> None:
    spec = local.worker(API_FUNCTION)
    work = local.workdir / "cold-support"
    work.mkdir(parents=True, exist_ok=True)
    spec_file, event_file = work / "spec.json", work / "event.json"
    spec_file.write_text(json.dumps(asdict(spec)))
    body = {"user_id": "u-cold", "text": "where is my order A1003?", "channel": "web"}
    event = local.api_event("POST", "/support/messages", json.dumps(body).encode(), {"x-api-key": INGEST_KEY})
    event_file.write_text(json.dumps(event))
    env = local.child_env(spec.environment)
    phases: list[dict[str, Any]] = []

    def measured(i: int) -> float:
        out = work / f"out-{i}.json"
        cache = work / f"cache-{i}"  # empty every time: a new container has nothing in /tmp
        argv = [python(), str(cold_start.PROBE), "api", str(spec_file), str(event_file), str(out)]
        wall = cold_start._run(argv, {**env, "MODEL_CACHE_DIR": str(cache)}, work)
        result = json.loads(out.read_text())
        if result["intent"] != "order_status":
            raise RuntimeError(f"the first message was read as {result['intent']!r}, not order_status")
        if i >= 0:
            phases.append(result)
        return wall

    def baseline(_i: int) -> float:
        return cold_start._run([python(), "-c", "import boto3"], env, work)

    m, b = cold_start._alternate(runs, measured, baseline)
    cold, base = median(m), median(b)

    def phase(key: str) -> str:
        return fmt_seconds(median([r[key] for r in phases]))

    print(f"\n  {API_FUNCTION}: new process -> load_handler(app.app) -> first POST /support/messages -> 200")
    print(
        table(
            ["median of " + str(runs), "wall", "ratio"],
            [
                ["cold start + first POST /support/messages", fmt_seconds(cold), fmt_ratio(ratio(cold, base))],
                ['baseline: python -c "import boto3"', fmt_seconds(base), "1.00x"],
            ],
        )
    )
    print(
        f"    breakdown (in-process, median): runner harness import {phase('harness_s')} (not part of Lambda),"
        f" handler import {phase('import_s')}, first message {phase('invoke_s')} (model download and load,"
        " encoder weights, FAQ index, caller check, state read and write)"
    )
    print(f"    all runs: measured {', '.join(fmt_seconds(x) for x in m)}")
    print(f"              baseline {', '.join(fmt_seconds(x) for x in b)}")
    report.add(
        "support",
        "cold start: import + first POST /support/messages (empty model cache)",
        fmt_seconds(cold),
        f'{fmt_seconds(base)} (python -c "import boto3")',
        ratio(cold, base),
        f"median of {runs} new processes; first message {phase('invoke_s')}, handler import {phase('import_s')}",
    )


def size_benchmark(local: LocalStack, report: Report) -> None:
    stack = local.stack
    layers: dict[str, sizes.LayerBuild] = {}
    rows = []
    bare_inference: int | None = None
    for logical_id in FUNCTIONS:
        fn = stack.function(logical_id)
        for layer in fn.layers:
            if layer not in layers:
                layers[layer] = sizes.build_layer(stack, layer, fn.runtime)
        built = sizes.code_size(fn.code_uri) + sum(layers[layer].total for layer in fn.layers)
        lean = built - sum(layers[layer].runtime_provided for layer in fn.layers)
        inference = sizes.ML_LAYER in fn.layers
        if inference and bare_inference is None:
            ml = layers[sizes.ML_LAYER]
            closures = {
                top: (exclusive, {top, *deps}) for top, _, exclusive, deps in sizes.requirement_closures(ml, fn.runtime)
            }
            bare = set().union(*(closures[name][1] for name in BARE_INFERENCE if name in closures))
            bare_inference = sum(ml.package_sizes.get(name, 0) for name in bare)  # each package once
            runtime = ", ".join(sorted(bare))
            print(
                f"\n  {sizes.ML_LAYER}: {sizes.fmt_mb(ml.total)}; the bare inference runtime ({runtime})"
                f" {sizes.fmt_mb(bare_inference)} (the sentence encoder is the support-encoder artifact, in no layer)"
            )
        goal = lean / sizes.INFERENCE_GOAL if inference else None
        # The bare baseline: the same function with only the bare inference runtime in MlLayer.
        bare_function = lean - layers[sizes.ML_LAYER].total + (bare_inference or 0) if inference else None
        over_bare = lean / bare_function if bare_function else None
        rows.append(
            [
                logical_id,
                "+".join(["code", *fn.layers]),
                sizes.fmt_mb(built),
                sizes.fmt_mb(lean),
                fmt_ratio(goal),
                fmt_ratio(over_bare),
                fmt_ratio(built / sizes.LAMBDA_UNZIPPED_LIMIT),
            ]
        )
        if inference:
            report.add(
                "support",
                f"deployed size: {logical_id} (minus the runtime's boto3) vs the 120 MB goal",
                sizes.fmt_mb(lean),
                "120 MB goal",
                goal,
                f"{fmt_ratio(over_bare)} of the same function with only the bare inference runtime"
                f" ({sizes.fmt_mb(bare_function or 0)});"
                f" {sizes.fmt_mb(built)} as built = {fmt_ratio(built / sizes.LAMBDA_UNZIPPED_LIMIT)} of 250 MB",
            )
    print(
        table(
            ["function", "contents", "as built", "minus boto3", "/120 MB goal", "/bare function", "/250 MB"],
            rows,
            left=(0, 1),
        )
    )


def run(local: LocalStack, report: Report, calls: int = 300, cold_runs: int = 7) -> None:
    heading("CUSTOMER SERVICE: POST /support/messages ON THE HANDLER PATH (in process, against the emulator)")
    try:
        with patched_environ(local.env):
            setup = prepare(local)
            latency_benchmark(local, report, calls)
    except Exception as exc:
        report.error("support", exc)
        return
    print("\n  setup (not measured): " + ", ".join(f"{w} {s:.1f} s" for w, s in setup.items()), flush=True)
    for name, bench in (
        ("support: cold start", lambda: cold_benchmark(local, report, cold_runs)),
        ("support: deployed size", lambda: size_benchmark(local, report)),
    ):
        try:
            bench()
        except Exception as exc:
            report.error(name, exc)
