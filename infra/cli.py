"""`commerce-ai`: run, bootstrap, invoke and inspect the local stack; train and evaluate models."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import secrets
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Local state: admin key, logs, model cache. Overridable so tests never touch a developer's own.
STATE_DIR = Path(os.environ.get("COMMERCE_AI_STATE_DIR") or ROOT / ".commerce-ai").resolve()
ADMIN_KEY_FILE = STATE_DIR / "admin-key"
# Models `up` and `train` built, by fingerprint (model_build.cache); shareable, since entries verify.
BUILD_CACHE_DIR = Path(os.environ.get("COMMERCE_AI_BUILD_CACHE") or STATE_DIR / "build-cache").resolve()
STARTUP_FILE = STATE_DIR / "startup.json"
INGEST_KEY_FILE = STATE_DIR / "ingest-key"


def _stack(endpoint: str) -> Any:
    from commerce_ai import aws
    from infra.template import Env, Stack

    sts = aws.client("sts")
    account = str(sts.get_caller_identity()["Account"])
    return Stack(env=Env(account=account, region=sts.meta.region_name, queue_endpoint=endpoint))


def _use_endpoint(environ: dict[str, str]) -> None:
    from commerce_ai import aws

    os.environ.update(environ)
    aws.reset_clients()


def _admin_key(reuse: bool = False) -> str:
    """ADMIN_API_KEY if set; else a new random key (or, with `reuse`, the one a running stack uses)."""
    return _api_key(os.environ.get("ADMIN_API_KEY"), ADMIN_KEY_FILE, reuse)


def _ingest_key(reuse: bool = False) -> str:
    """The behaviour-event producers' key (POST /events): INGEST_API_KEY, else as for the admin key."""
    return _api_key(os.environ.get("INGEST_API_KEY"), INGEST_KEY_FILE, reuse)


# The caller kinds other than admin and events (README, "Callers and scopes"): each key in
# .commerce-ai/<kind>-key, fixed by <KIND>_API_KEY. The events kind's key is the ingest key.
OTHER_CALLER_KINDS = ("checkout", "labels", "operator")


def caller_key_file(kind: str) -> Path:
    return {"admin": ADMIN_KEY_FILE, "events": INGEST_KEY_FILE}.get(kind, STATE_DIR / f"{kind}-key")


def _other_caller_keys(reuse: bool = False) -> dict[str, str]:
    return {
        kind: _api_key(os.environ.get(f"{kind.upper()}_API_KEY"), caller_key_file(kind), reuse)
        for kind in OTHER_CALLER_KINDS
    }


def _api_key(key: str | None, path: Path, reuse: bool) -> str:
    if not key and reuse and path.is_file():
        key = path.read_text().strip()
    key = key or secrets.token_urlsafe(32)
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)  # touch keeps an existing file's mode
    path.write_text(key + "\n")
    return key


def _running_stack(port: int) -> tuple[dict[str, str], Any]:
    """The environment for, and the template resolved against, the local AWS that is already running."""
    from infra.emulator import Emulator, current_endpoint

    environ = Emulator(current_endpoint(port)).environ()
    _use_endpoint(environ)
    return environ, _stack(environ["AWS_ENDPOINT_URL"])


# ---------------------------------------------------------------------------------------------- up


def cmd_up(args: argparse.Namespace) -> int:
    from infra import emulator as emu
    from infra import startup
    from infra.bootstrap import bootstrap
    from infra.runner.local import LocalRunner
    from model_build.cache import BuildCache
    from model_build.progress import Stages

    (STATE_DIR / "logs").mkdir(parents=True, exist_ok=True)
    # Ctrl-C or SIGTERM at any moment, start-up included, unwinds through `finally`, which stops the
    # functions and the emulator we started, in that order.
    signal.signal(signal.SIGTERM, _interrupt)
    aws_env = None
    runner = None
    boot: startup.Startup | None = None
    try:
        with Stages() as stages:
            with stages.stage("up", "local AWS"):
                aws_env = emu.ensure(args.aws_port, log_path=STATE_DIR / "logs" / "emulator.log")
            _use_endpoint(aws_env.environ())
            stack = _stack(aws_env.endpoint)
            only = startup.parse_only(args.only, stack)
            key = _admin_key()
            with stages.stage("up", "bootstrap"):
                report = bootstrap(stack, admin_key=key, ingest_key=_ingest_key(), caller_keys=_other_caller_keys())
            boot = startup.Startup(stack, stages, BuildCache(BUILD_CACHE_DIR), startup.selected_builds(only))
            missing = boot.begin(build=not args.no_build)  # /health answers 503 "starting" from here
            with stages.stage("up", "serve functions"):
                functions = startup.selected_functions(stack, only)
                runner = LocalRunner(
                    stack,
                    aws_env.environ(),
                    STATE_DIR / "logs",
                    clock_speed=args.clock_speed,
                    functions=functions,
                    websocket_host=args.host,
                    websocket_port=args.ws_port,
                )
                runner.start(host=args.host, http_port=args.http_port)
            boot.build_missing(missing, ROOT / "build" / "models")
            for line in boot.seed(STATE_DIR / "cache" / "seed"):
                stages.print(f"seeded      {line}")
            boot.end()
        startup.write_timings(STARTUP_FILE, stages, boot.origins, only, endpoint_started_here=aws_env.started_here)
        _print_banner(aws_env, runner, report, key, boot.origins, args)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        # Shutdown is bounded (joins with timeouts, then kills); a second Ctrl-C must not cut it short
        # and leave workers or the emulator behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if boot is not None and boot.waiting_for and aws_env is not None and not aws_env.started_here:
            _end_startup_quietly(boot)  # an emulator that outlives us must not say "starting" for ever
        if runner is not None:
            runner.stop()
        if aws_env is not None:
            aws_env.stop()
    print("stopped", flush=True)
    return 0


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt


def _end_startup_quietly(boot: Any) -> None:
    try:
        boot.end()
    except Exception as exc:  # stopping goes on whatever the emulator says
        print(f"could not clear the start-up item ({type(exc).__name__})", file=sys.stderr)


def _print_banner(
    aws_env: Any, runner: Any, report: Any, key: str, origins: dict[str, str], args: argparse.Namespace
) -> None:
    where = "started here (moto)" if aws_env.started_here else "already running"
    print(f"local AWS   {aws_env.endpoint}  [{where}]")
    print(f"bootstrap   {len(report.created)} created, {len(report.existing)} already there")
    print(f"admin key   {key}  (also in {ADMIN_KEY_FILE}; header x-api-key)")
    print(f"ingest key  {INGEST_KEY_FILE.read_text().strip()}  (also in {INGEST_KEY_FILE}; the events caller)")
    for kind in OTHER_CALLER_KINDS:
        print(f"{kind + ' key':<11} in {caller_key_file(kind)}  (README, Callers and scopes)")
    print(f"logs        {STATE_DIR / 'logs'}/<Function>.log")
    sources = {"cached": f"from the build cache ({BUILD_CACHE_DIR})", "built": "built now, cached"}
    for model, origin in sorted(origins.items()):
        print(f"model       {model:<24} {sources.get(origin, origin)}")
    print(f"timings     {STARTUP_FILE}")
    print("functions:")
    for trigger in runner.triggers:
        print(f"  {trigger.function:<28} {trigger.kind:<9} {trigger.description}")
    print(f"commerce-ai is up on http://{args.host}:{args.http_port} — Ctrl-C stops everything", flush=True)


# ----------------------------------------------------------------------------------- other commands


def cmd_bootstrap(args: argparse.Namespace) -> int:
    import model_build
    from infra.bootstrap import bootstrap

    _, stack = _running_stack(args.aws_port)
    report = bootstrap(
        stack,
        admin_key=_admin_key(reuse=True),
        ingest_key=_ingest_key(reuse=True),
        caller_keys=_other_caller_keys(reuse=True),
    )
    for line in report.created:
        print(f"created   {line}")
    for line in report.existing:
        print(f"existing  {line}")
    for line in model_build.seed_all(stack, STATE_DIR / "cache" / "seed"):
        print(f"seeded      {line}", flush=True)
    return 0


def _invoke_once(environ: dict[str, str], stack: Any, fn: Any, event: dict[str, Any]) -> int:
    from infra.runner.invoker import FunctionWorker, InvocationError, worker_spec

    worker = FunctionWorker(worker_spec(fn, stack.layer_dirs(fn), environ, None))
    try:
        result = worker.invoke(event)
    except InvocationError as exc:
        print(json.dumps({"errorType": exc.error_type, "errorMessage": str(exc)}), file=sys.stderr)
        return 1
    finally:
        worker.stop()
    print(json.dumps(result, indent=2))
    return 0


def _moment(text: str) -> datetime:
    """An RFC 3339 time for --now; one without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_invoke(args: argparse.Namespace) -> int:
    from infra.sample_events import load_event

    event = load_event(Path(args.event), args.now)
    environ, stack = _running_stack(args.aws_port)
    return _invoke_once(environ, stack, stack.function(args.function), event)


def cmd_schedule_fire(args: argparse.Namespace) -> int:
    from infra.runner.local import rule_arn
    from infra.runner.scheduler import scheduled_event

    environ, stack = _running_stack(args.aws_port)
    fn = stack.function(args.function)
    if not any(e.type == "Schedule" for e in fn.events):
        raise RuntimeError(f"{fn.logical_id} has no Schedule event in template.yaml")
    return _invoke_once(environ, stack, fn, scheduled_event(rule_arn(stack, fn), stack.env.region, stack.env.account))


def cmd_train(args: argparse.Namespace) -> int:
    import model_build
    from model_build.cache import BuildCache, fingerprint
    from model_build.progress import Stages

    module = model_build.capability(args.capability)
    workdir = Path(args.out) if args.out else ROOT / "build" / "models" / args.capability
    if args.data is not None and "data" not in inspect.signature(module.build).parameters:
        print(f"{args.capability} trains on its own data set only; --data is not supported", file=sys.stderr)
        return 2
    # A capability may train on other data by default than `up` builds (TRAIN_DEFAULT_DATA: recommendations
    # trains on the event archive) and name `up`'s data (UP_DATA), which then builds as `up` does.
    data = args.data if args.data is not None else getattr(module, "TRAIN_DEFAULT_DATA", None)
    if data is not None and data == getattr(module, "UP_DATA", None):
        data = None
    options: dict[str, Path] = {}
    if data is not None:
        options["data"] = Path(data)
    if data == "archive" and not Path(data).exists() and not os.environ.get("BEHAVIOUR_EVENTS_BUCKET"):
        try:  # the local stack's archive and tables (a deployed stack's: BEHAVIOUR_EVENTS_BUCKET)
            _running_stack(args.aws_port)
        except RuntimeError as exc:
            raise RuntimeError(f"training on the behaviour-event archive needs its stack (or --data): {exc}") from exc
    if args.items is not None:
        if "items" not in inspect.signature(module.build).parameters:
            print(f"{args.capability} takes no items file; --items is not supported", file=sys.stderr)
            return 2
        options["items"] = Path(args.items)
    try:
        with Stages() as stages, stages.stage(args.capability, "build"):
            built = module.build(workdir, **options)
    except model_build.TrainingDataProblem as exc:  # data that cannot be trained on: say why, no traceback
        print(f"{args.capability}: {exc}", file=sys.stderr)
        return 2
    if not options:  # the default build is what `up` restores: a rebuild refreshes its cache entry
        BuildCache(BUILD_CACHE_DIR).store(fingerprint(args.capability, module), built)
    for item in built:
        print(f"built {item.name} in {item.directory} metrics={item.metrics}")
    if args.publish:
        from commerce_ai.artifacts.store import ArtifactStore

        _, stack = _running_stack(args.aws_port)
        store = ArtifactStore(stack.physical_name("ArtifactBucket"))
        for item in built:
            manifest = model_build.publish(store, item)
            print(f"published {manifest.name}/{manifest.version}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import model_build

    names = [args.capability] if args.capability else sorted(model_build.CAPABILITIES)
    if not names:
        print("no capability has an evaluation yet")
        return 0
    for name in names:
        module = model_build.capability(name)
        if not hasattr(module, "evaluate"):
            print(f"{name}: no evaluation defined")
            continue
        print(f"{name}: report written to {module.evaluate(ROOT / 'reports')}")
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from model_build.forecasting.command import run

    plot = Path(args.plot) if args.plot else None
    return run(Path(args.file), args.periods, args.freq, Path(args.out), plot)


def cmd_status(args: argparse.Namespace) -> int:
    from commerce_ai import aws, health
    from commerce_ai.artifacts.registry import ModelRegistry
    from commerce_ai.registry import service

    try:
        environ, stack = _running_stack(args.aws_port)
    except RuntimeError as exc:
        print(f"local AWS: {exc}")
        return 1
    print(f"local AWS   {environ['AWS_ENDPOINT_URL']}  (account {stack.env.account})")
    sqs = aws.client("sqs")
    for logical_id in stack.of_type("AWS::SQS::Queue"):
        name = stack.physical_name(logical_id)
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            # the queue's real name, which boto3's get_queue_url takes (the logical id is the template's)
            print(
                f"queue       {name:<44} visible={attrs['ApproximateNumberOfMessages']} "
                f"in-flight={attrs['ApproximateNumberOfMessagesNotVisible']}"
            )
        except Exception:
            print(f"queue       {name:<44} missing (run `commerce-ai bootstrap`)")
    try:
        for model in service.list_models(ModelRegistry(stack.physical_name("ModelRegistryTable"))):
            print(f"model       {model['name']:<24} active={model['active_version']} versions={model['versions']}")
        waiting_for = health.startup_waiting_for(stack.physical_name("HealthTable"))
        if waiting_for is not None:
            print(f"start-up    in progress, waiting for {', '.join(waiting_for)}")
        for fn in health.read_all(stack.physical_name("HealthTable")):
            print(
                f"function    {fn['function']:<40} {fn['status']} invocations={fn['invocations']} errors={fn['errors']}"
            )
    except Exception as exc:
        print(f"registry: unavailable ({type(exc).__name__}); run `commerce-ai bootstrap`")
    http = f"http://127.0.0.1:{args.http_port}/health"
    from infra.emulator import answers

    print(f"http        {http} {'answers' if answers(http) else 'not answering'}")
    return 0


def cmd_redrive(args: argparse.Namespace) -> int:
    from commerce_ai import aws
    from infra.redrive import redrive, source_queue

    _, stack = _running_stack(args.aws_port)
    target = source_queue(stack, args.dlq)
    sqs = aws.client("sqs")
    dlq_url = sqs.get_queue_url(QueueName=stack.physical_name(args.dlq))["QueueUrl"]
    queue_url = sqs.get_queue_url(QueueName=stack.physical_name(target))["QueueUrl"]
    result = redrive(sqs, dlq_url, queue_url, args.limit)
    print(f"redrive     {args.dlq} -> {target}: {result.moved} re-sent as new messages, {result.failed} left")
    return 0 if result.failed == 0 else 1


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="commerce-ai", description=__doc__)
    top.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("COMMERCE_AI_AWS_PORT", 4566)),
        help="port of the local AWS endpoint (ignored when AWS_ENDPOINT_URL is set)",
    )
    sub = top.add_subparsers(dest="command", required=True)

    up = sub.add_parser(
        "up", help="start local AWS, bootstrap, serve every function, build (or restore from the cache) missing models"
    )
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--http-port", type=int, default=int(os.environ.get("COMMERCE_AI_HTTP_PORT", 3000)))
    up.add_argument(
        "--ws-port",
        type=int,
        default=int(os.environ.get("COMMERCE_AI_WS_PORT", 3001)),
        help="port of the template's WebSocket APIs (customer service's chat: ws://HOST:PORT/live)",
    )
    up.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        help="run schedules this many times faster (e.g. 60: rate(1 hour) fires every minute)",
    )
    up.add_argument("--no-build", action="store_true", help="do not build missing model artifacts")
    up.add_argument(
        "--only",
        metavar="CAPABILITIES",
        help=(
            "serve and build only these capabilities, comma-separated (e.g. pricing,risk); "
            "the platform (registry, stream, experiments, catalog, erasure) always"
        ),
    )
    up.set_defaults(run=cmd_up)

    sub.add_parser("bootstrap", help="create the template's resources in the running local AWS").set_defaults(
        run=cmd_bootstrap
    )

    invoke = sub.add_parser("invoke", help="invoke one function once with an event file")
    invoke.add_argument("function", help="logical id from template.yaml, e.g. RegistryApiFunction")
    invoke.add_argument("--event", required=True, help="path to an event JSON, e.g. events/registry/...")
    invoke.add_argument(
        "--now",
        type=_moment,
        help="the time that fills the event's {{now}} placeholders (RFC 3339, e.g. 2026-12-01T10:00:00Z; "
        "default: the current time)",
    )
    invoke.set_defaults(run=cmd_invoke)

    train = sub.add_parser(
        "train",
        help="train a capability's models (always rebuilds; the build `up` makes refreshes the build cache)",
        description="Train a capability's models. Without --data, recommendations trains on the running "
        "stack's behaviour-event archive (last 90 days, erased users left out); every other capability on "
        "the data set `up` builds from.",
    )
    train.add_argument("capability")
    train.add_argument("--out", help="output directory (default build/models/<capability>)")
    train.add_argument("--publish", action="store_true", help="upload to the local artifact bucket")
    train.add_argument(
        "--data",
        help="train on this file instead (pricing: your own sales CSV; recommendations: interactions CSV, "
        "`archive` for the behaviour-event archive (its default: erased users left out, the catalogue's "
        "items unless --items) or `movielens` for what `up` builds; propensity: an events CSV/JSONL, by "
        "default `archive`, or `cdnow` for what `up` builds; see README)",
    )
    train.add_argument(
        "--items", help="recommendations: your items CSV beside --data or the archive (default: the catalogue)"
    )
    train.set_defaults(run=cmd_train)

    evaluate = sub.add_parser("eval", help="write evaluation reports under reports/")
    evaluate.add_argument("capability", nargs="?")
    evaluate.set_defaults(run=cmd_eval)

    forecast = sub.add_parser("forecast", help="forecast a sales CSV offline: date,p10,p50,p90 per future period")
    forecast.add_argument("file", help="date,sales (one series) or date,sku,units[,price,promo]")
    forecast.add_argument("--periods", type=int, default=30, help="future periods to forecast (default 30)")
    forecast.add_argument("--freq", choices=["D", "W"], help="daily or weekly (default: inferred from the dates)")
    forecast.add_argument("--out", default="forecast.csv", help="output CSV (default forecast.csv)")
    forecast.add_argument("--plot", help="also write a PNG of history, p50 and the p10-p90 band")
    forecast.set_defaults(run=cmd_forecast)

    schedule = sub.add_parser("schedule", help="scheduled functions")
    schedule_sub = schedule.add_subparsers(dest="schedule_command", required=True)
    fire = schedule_sub.add_parser("fire", help="fire a scheduled function now")
    fire.add_argument("function")
    fire.set_defaults(run=cmd_schedule_fire)

    redrive = sub.add_parser(
        "redrive",
        help="re-send a DLQ's messages to their source queue as new messages (after an outage; see README)",
    )
    redrive.add_argument("dlq", help="the DLQ's logical id in template.yaml, e.g. RiskTransactionsDLQ")
    redrive.add_argument("--limit", type=int, help="move at most this many messages (default: all)")
    redrive.set_defaults(run=cmd_redrive)

    status = sub.add_parser("status", help="what is running: endpoint, queues, models, function health")
    status.add_argument("--http-port", type=int, default=int(os.environ.get("COMMERCE_AI_HTTP_PORT", 3000)))
    status.set_defaults(run=cmd_status)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from infra.template import TemplateError

    try:
        return int(args.run(args))
    except (RuntimeError, TemplateError, OSError, ValueError) as exc:  # say what is wrong, not a traceback
        print(f"commerce-ai: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
