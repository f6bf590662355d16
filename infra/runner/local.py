"""Wire a template's functions to their triggers: HTTP routes, queue pollers, schedules, S3 deliveries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from commerce_ai import aws
from infra.bootstrap import s3_delivery_queue
from infra.runner.http_gateway import AUTHORIZER, CallerCheck, Gateway, Route, serve
from infra.runner.invoker import FunctionWorker, worker_spec
from infra.runner.scheduler import (
    AsyncInvokeConfig,
    invoke_asynchronously,
    rate_seconds,
    run_schedule,
    scheduled_event,
)
from infra.runner.sqs_poller import QueueSource, run_forever, s3_event_from_messages
from infra.runner.websocket_gateway import WebSocketGateway, websocket_apis
from infra.template import AUTHORIZER_EVENT, WEBSOCKET_EVENT, Function, Stack

STOP_SECONDS = 10.0  # the longest stop() waits for the pollers and schedules once the workers are stopped


@dataclass
class Trigger:
    function: str
    kind: str
    description: str


@dataclass
class LocalRunner:
    stack: Stack
    base_env: dict[str, str]
    log_dir: Path | None = None
    clock_speed: float = 1.0
    functions: set[str] | None = None  # logical ids to serve (`up --only`); None: every function
    websocket_host: str = "127.0.0.1"
    websocket_port: int | None = 3001  # the template's WebSocket APIs (None: not served)
    workers: dict[str, FunctionWorker] = field(default_factory=dict)
    triggers: list[Trigger] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    websockets: WebSocketGateway | None = None

    def __post_init__(self) -> None:
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        served = {fn.logical_id for fn in self._served()}
        apis = [api for api in websocket_apis(self.stack) if set(api.routes.values()) & served]
        if apis and self.websocket_port is not None:
            # Before the workers: their environment names its management endpoint instead of AWS's.
            self.websockets = WebSocketGateway(apis, self.invoke, self.stack.env.region)
        for fn in self._served():
            spec = worker_spec(fn, self.stack.layer_dirs(fn), self.base_env, self.log_dir)
            if self.websockets is not None:
                local = self.websockets.local_environment(spec.environment, self.websocket_url)
                spec = replace(spec, environment=local)
            self.workers[fn.logical_id] = FunctionWorker(spec)

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.websocket_host}:{self.websocket_port}"

    def _served(self) -> list[Function]:
        # The authorizer's rules run inside the HTTP gateway (CallerCheck), so it needs no worker of its own.
        return [
            fn
            for fn in self.stack.functions()
            if (self.functions is None or fn.logical_id in self.functions) and fn.logical_id != AUTHORIZER
        ]

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        return self.workers[function].invoke(event)

    def fire_schedule(self, function: str) -> None:
        """Invoke as EventBridge does, asynchronously: with the function's own retries, and its on-failure
        record sent to its destination queue when every attempt failed (then the error is raised)."""
        fn = self.stack.function(function)
        event = scheduled_event(rule_arn(self.stack, fn), self.stack.env.region, self.stack.env.account)
        config = AsyncInvokeConfig.of(self.stack.resources[fn.logical_id].get("Properties") or {}, self.stack.resolve)
        invoke_asynchronously(
            lambda e: self.invoke(fn.logical_id, e), event, config, self.stack.arn(fn.logical_id), _send_to_queue
        )

    # -- wiring ------------------------------------------------------------------------------------

    def _queue_source(self, fn: Function, props: dict[str, Any]) -> QueueSource:
        arn = str(self.stack.resolve(props["Queue"]))
        logical_queue = self.stack.logical_id_for_arn(arn)
        return QueueSource(
            function=fn.logical_id,
            queue_url=str(
                aws.client("sqs").get_queue_url(QueueName=self.stack.physical_name(logical_queue))["QueueUrl"]
            ),
            queue_arn=arn,
            batch_size=int(props.get("BatchSize", 10)),
            window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            region=self.stack.env.region,
        )

    def start(self, host: str = "127.0.0.1", http_port: int | None = 3000) -> None:
        routes = [r for r in api_routes(self.stack) if r.function in self.workers]
        if routes and http_port is not None:
            gateway = Gateway(routes, self.invoke, callers=CallerCheck.from_stack(self.stack))
            self._server = serve(gateway, host, http_port)
            for route in routes:
                self.triggers.append(
                    Trigger(route.function, "Api", f"{route.method} http://{host}:{http_port}{route.path}")
                )
        if self.websockets is not None and self.websocket_port is not None:
            self.websockets.start(self.websocket_host, self.websocket_port)
            for api in self.websockets.apis.values():
                for key, function in sorted(api.routes.items()):
                    self.triggers.append(Trigger(function, "WebSocket", f"{key} {self.websocket_url}/{api.stage}"))
        for fn in self._served():
            for event in fn.events:
                if event.type == "SQS":
                    source = self._queue_source(fn, event.properties)
                    self._spawn(run_forever, source, self.invoke, self._stop)
                    self.queue_sources.append(source)
                    self.triggers.append(
                        Trigger(fn.logical_id, "SQS", f"{source.queue_url} (batch {source.batch_size})")
                    )
                elif event.type == "Schedule":
                    expression = str(event.properties["Schedule"])
                    interval = rate_seconds(expression) / self.clock_speed
                    self._spawn(run_schedule, fn.logical_id, interval, self.fire_schedule, self._stop)
                    speed = f", clock x{self.clock_speed:g}" if self.clock_speed != 1 else ""
                    self.triggers.append(Trigger(fn.logical_id, "Schedule", f"{expression}{speed}"))
                elif event.type == "S3":
                    queue = s3_delivery_queue(self.stack, fn, event)
                    url = str(aws.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"])
                    source = QueueSource(
                        function=fn.logical_id,
                        queue_url=url,
                        queue_arn=queue,
                        batch_size=1,
                        transform=s3_event_from_messages,
                        region=self.stack.env.region,
                    )
                    self._spawn(run_forever, source, self.invoke, self._stop)
                    self.queue_sources.append(source)
                    bucket = self.stack.physical_name(event.properties["Bucket"]["Ref"])
                    self.triggers.append(Trigger(fn.logical_id, "S3", f"s3://{bucket} {event.properties['Events']}"))
                elif event.type not in ("Api", WEBSOCKET_EVENT, AUTHORIZER_EVENT):  # served by the gateways above
                    raise ValueError(f"{fn.logical_id}: event type {event.type} is not supported locally")
        self.triggers.extend(topic_subscriptions(self.stack))

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"{target.__name__}:{args[0]}")
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop within a bounded time however busy the stack is: the workers are stopped first, so a poller
        in the middle of an invocation gets its error at once instead of each join waiting it out in turn
        (with seven capabilities' queues busy, joins of 5 s each added up past half a minute)."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.websockets is not None:
            self.websockets.stop()
        for worker in self.workers.values():
            worker.stop()
        deadline = time.monotonic() + STOP_SECONDS
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


def api_routes(stack: Stack) -> list[Route]:
    """Every `Api` event in the template as a gateway route to its function."""
    return [
        Route.make(str(e.properties["Method"]), str(e.properties["Path"]), fn.logical_id)
        for fn in stack.functions()
        for e in fn.events
        if e.type == "Api"
    ]


def topic_subscriptions(stack: Stack) -> list[Trigger]:
    """The template's SNS -> SQS subscriptions, for the banner. The emulator delivers them itself (moto
    server sends a topic's messages to its subscribed queues in-process, as SNS does), so there is
    nothing to poll: the queues' own consumers are wired like any other SQS event."""
    triggers = []
    for resource in stack.of_type("AWS::SNS::Subscription").values():
        props = stack.resolve(resource["Properties"])
        topic = str(props["TopicArn"]).rsplit(":", 1)[-1]
        queue = str(props["Endpoint"]).rsplit(":", 1)[-1]
        raw = ", raw" if props.get("RawMessageDelivery") else ""
        triggers.append(Trigger(stack.logical_id_for_arn(str(props["TopicArn"])), "SNS", f"{topic} -> {queue}{raw}"))
    return triggers


def _send_to_queue(queue_arn: str, record: dict[str, Any]) -> None:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record, default=str))


def rule_arn(stack: Stack, fn: Function) -> str:
    return f"arn:aws:events:{stack.env.region}:{stack.env.account}:rule/{fn.physical_name}-schedule"
