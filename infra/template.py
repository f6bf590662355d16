"""Read `template.yaml` (SAM) and resolve it for a local stack.

The template is the single source of truth: bootstrap creates its resources and the runner serves its
functions from what is parsed here. Local physical names are deterministic (`<stack>-<LogicalId>`),
standing in for the names CloudFormation would generate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
SUPPORTED_RESOURCES = {
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    # WebSocket APIs: served by the runner (infra/runner/websocket_gateway.py), nothing to bootstrap.
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::Lambda::Permission",  # who may invoke a function: locally, only the runner does
    # A queue's consumer, declared explicitly so that SAM adds no account-wide SQS policy (read as the
    # function's `SQS` event, see Stack.event_source_mappings); polled by the runner.
    "AWS::Lambda::EventSourceMapping",
    # Operations only: alarms on metrics the emulator does not produce, and the topic they notify.
    "AWS::CloudWatch::Alarm",
    # The REST API and its per-caller usage plans: locally the runner's gateway serves the routes and
    # applies the same limits (infra/runner/http_gateway.py), nothing to bootstrap.
    "AWS::Serverless::Api",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
}


class TemplateError(ValueError):
    pass


# A WebSocket API's route reaches a function through an AWS_PROXY integration; the function's events then
# include one of this type per route (named after the route key: `$connect` -> `Connect`).
WEBSOCKET_EVENT = "WebSocket"
_ROUTE_TARGET = re.compile(r"^integrations/\$\{(\w+)\}$")
_FUNCTION_URI = re.compile(r"/functions/\$\{(\w+)\.Arn\}/invocations$")
# An explicit event source mapping reads as the function's `SQS` event, its properties as SAM's SQS event's.
SQS_EVENT = "SQS"
# A Lambda authorizer of the HTTP API (Globals.Api.Auth.Authorizers) reads as its function's event of this
# type, named after the authorizer; locally the gateway applies its rules (infra/runner/http_gateway.py).
AUTHORIZER_EVENT = "ApiAuthorizer"


class _CfnLoader(yaml.CSafeLoader):
    """libyaml's parser: the template (alarms included) parses in a sixth of the pure-Python loader's time,
    and tests parse it often."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_raw(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open() as handle:
        data = yaml.load(handle, Loader=_CfnLoader)
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError(f"{path} has no Resources")
    return data


@dataclass(frozen=True)
class Env:
    """The account the local stack pretends to be."""

    stack: str = "commerce-ai"
    region: str = "us-east-1"
    account: str = "123456789012"
    partition: str = "aws"
    queue_endpoint: str = "http://127.0.0.1:4566"


@dataclass
class FunctionEvent:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass
class Function:
    logical_id: str
    physical_name: str
    code_uri: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    layers: list[str]
    environment: dict[str, str]
    events: list[FunctionEvent] = field(default_factory=list)
    image: bool = False  # PackageType Image: code and dependencies come from its Dockerfile, not layers

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


def _sub_text(value: Any, what: str) -> str:
    text = value.get("Fn::Sub") if isinstance(value, dict) else value
    if not isinstance(text, str):
        raise TemplateError(f"{what}: write it as a !Sub string")
    return text


def _merge_globals(globals_: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals semantics: maps merge (function wins), lists concatenate, scalars are overridden."""
    merged = dict(globals_)
    for key, value in props.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = _merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


class Stack:
    """A template resolved against a local environment."""

    def __init__(
        self, path: Path = TEMPLATE_PATH, env: Env | None = None, parameters: dict[str, str] | None = None
    ) -> None:
        self.path = path
        self.root = path.parent
        self.env = env or Env()
        self.raw = load_raw(path)
        self.resources: dict[str, dict[str, Any]] = self.raw["Resources"]
        for logical_id, resource in self.resources.items():
            if resource.get("Type") not in SUPPORTED_RESOURCES:
                raise TemplateError(f"{logical_id}: resource type {resource.get('Type')} is not supported locally")
        self.parameters = {
            name: str((parameters or {}).get(name, spec.get("Default", "")))
            for name, spec in (self.raw.get("Parameters") or {}).items()
        }

    # -- names ---------------------------------------------------------------------------------

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props = resource.get("Properties") or {}
        kind = resource["Type"]
        if kind == "AWS::S3::Bucket" and "BucketName" in props:
            return str(self.resolve(props["BucketName"]))
        if kind == "AWS::DynamoDB::Table" and "TableName" in props:
            return str(self.resolve(props["TableName"]))
        if kind == "AWS::SQS::Queue" and "QueueName" in props:
            return str(self.resolve(props["QueueName"]))
        if kind == "AWS::SNS::Topic" and "TopicName" in props:
            return str(self.resolve(props["TopicName"]))
        name = f"{self.env.stack}-{logical_id}"
        return name.lower() if kind == "AWS::S3::Bucket" else name

    def queue_url(self, logical_id: str) -> str:
        return f"{self.env.queue_endpoint}/{self.env.account}/{self.physical_name(logical_id)}"

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        e = self.env
        if kind == "AWS::S3::Bucket":
            return f"arn:{e.partition}:s3:::{name}"
        if kind == "AWS::SQS::Queue":
            return f"arn:{e.partition}:sqs:{e.region}:{e.account}:{name}"
        if kind == "AWS::SNS::Topic":
            return f"arn:{e.partition}:sns:{e.region}:{e.account}:{name}"
        if kind == "AWS::DynamoDB::Table":
            return f"arn:{e.partition}:dynamodb:{e.region}:{e.account}:table/{name}"
        if kind == "AWS::Serverless::Function":
            return f"arn:{e.partition}:lambda:{e.region}:{e.account}:function:{name}"
        if kind == "AWS::ApiGateway::ApiKey":  # what apigateway:GET of the key names
            return f"arn:{e.partition}:apigateway:{e.region}::/apikeys/{name}"
        if kind == "AWS::ApiGatewayV2::Api":  # what execute-api permissions name (no GetAtt Arn in CloudFormation)
            return f"arn:{e.partition}:execute-api:{e.region}:{e.account}:{name}"
        raise TemplateError(f"no ARN for {logical_id} ({kind})")

    def logical_id_for_arn(self, arn: str) -> str:
        for logical_id in self.resources:
            try:
                if self.arn(logical_id) == arn:
                    return logical_id
            except TemplateError:
                continue
        raise TemplateError(f"no resource has ARN {arn}")

    # -- intrinsics ----------------------------------------------------------------------------

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::StackName": self.env.stack,
            "AWS::Region": self.env.region,
            "AWS::AccountId": self.env.account,
            "AWS::Partition": self.env.partition,
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def _ref(self, name: str) -> str:
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            kind = self.resources[name]["Type"]
            if kind == "AWS::SQS::Queue":
                return self.queue_url(name)
            if kind == "AWS::SNS::Topic":  # CloudFormation's Ref of a topic is its ARN
                return self.arn(name)
            if kind == "AWS::Serverless::LayerVersion":
                return name
            if kind == "AWS::ApiGatewayV2::Stage":  # CloudFormation's Ref of a stage is its name
                return str(self.resolve((self.resources[name].get("Properties") or {})["StageName"]))
            return self.physical_name(name)
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            raise TemplateError(f"!GetAtt {logical_id}.{attribute}: no such resource")
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute == "QueueName":
            return self.physical_name(logical_id)
        if attribute == "QueueUrl":
            return self.queue_url(logical_id)
        if attribute == "TopicArn":
            return self.arn(logical_id)
        if attribute == "TopicName":
            return self.physical_name(logical_id)
        raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not supported locally")

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in variables:
                return str(self.resolve(variables[token]))
            if "." in token:
                logical_id, attribute = token.split(".", 1)
                return self._get_att(logical_id, attribute)
            return self._ref(token)

        # `${!Literal}` is Fn::Sub's escape for a literal `${Literal}`.
        return re.sub(
            r"\$\{(![^}]*|[^}!]+)\}",
            lambda m: "${" + m.group(1)[1:] + "}" if m.group(1).startswith("!") else replace(m),
            text,
        )

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self._get_att(parts[0], parts[1])
            if key == "Fn::Sub":
                if isinstance(arg, list):
                    return self._sub(arg[0], arg[1])
                return self._sub(arg, {})
            if key == "Fn::Join":
                return str(arg[0]).join(str(self.resolve(v)) for v in arg[1])
            if key.startswith("Fn::"):
                raise TemplateError(f"intrinsic {key} is not supported locally")
        return {k: self.resolve(v) for k, v in value.items()}

    # -- views ---------------------------------------------------------------------------------

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == kind}

    def functions(self) -> list[Function]:
        globals_ = ((self.raw.get("Globals") or {}).get("Function")) or {}
        routes = self.websocket_routes()
        mappings = self.event_source_mappings()
        authorizers = self.api_authorizers()
        result = []
        for logical_id, resource in self.of_type("AWS::Serverless::Function").items():
            props = _merge_globals(globals_, resource.get("Properties") or {})
            variables = (props.get("Environment") or {}).get("Variables") or {}
            image = props.get("PackageType") == "Image"
            if image:
                # Locally an image function runs from the directory of its Dockerfile, with the handler its
                # ImageConfig names, on the project's own environment (which holds what the image installs).
                metadata = resource.get("Metadata") or {}
                context = self.root / str(metadata.get("DockerContext", "."))
                code_uri = (context / str(metadata.get("Dockerfile", "Dockerfile"))).parent.resolve()
                handler = str(((props.get("ImageConfig") or {}).get("Command") or [""])[0])
            else:
                code_uri, handler = (self.root / str(props["CodeUri"])).resolve(), str(props["Handler"])
            result.append(
                Function(
                    logical_id=logical_id,
                    physical_name=f"{self.env.stack}-{logical_id}",
                    code_uri=code_uri,
                    handler=handler,
                    image=image,
                    runtime=str(props.get("Runtime", "")),
                    timeout=int(self.resolve(props.get("Timeout", 3))),
                    memory=int(self.resolve(props.get("MemorySize", 128))),
                    layers=[str(self.resolve(layer)) for layer in props.get("Layers", [])],
                    environment={k: str(self.resolve(v)) for k, v in variables.items()},
                    events=[
                        FunctionEvent(name, str(spec["Type"]), spec.get("Properties") or {})
                        for name, spec in (props.get("Events") or {}).items()
                    ]
                    + routes.get(logical_id, [])
                    + mappings.get(logical_id, [])
                    + authorizers.get(logical_id, []),
                )
            )
        return result

    def api_authorizers(self) -> dict[str, list[FunctionEvent]]:
        """Function logical id -> the HTTP API's Lambda authorizers it is (`FunctionArn: !GetAtt <Fn>.Arn`)."""
        auth = (((self.raw.get("Globals") or {}).get("Api") or {}).get("Auth")) or {}
        found: dict[str, list[FunctionEvent]] = {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            target = (spec or {}).get("FunctionArn")
            if not (isinstance(target, dict) and isinstance(target.get("Fn::GetAtt"), list)):
                raise TemplateError(f"authorizer {name}: FunctionArn must be !GetAtt <Function>.Arn")
            found.setdefault(str(target["Fn::GetAtt"][0]), []).append(FunctionEvent(name, AUTHORIZER_EVENT, spec))
        return found

    def websocket_routes(self) -> dict[str, list[FunctionEvent]]:
        """Function logical id -> its WebSocket routes, as events with `ApiId` (the API's logical id) and
        `RouteKey`. A route's Target is `!Sub "integrations/${Integration}"`, and the integration an
        AWS_PROXY one whose IntegrationUri is `!Sub ".../functions/${Function.Arn}/invocations"`."""
        found: dict[str, list[FunctionEvent]] = {}
        for route_id, route in self.of_type("AWS::ApiGatewayV2::Route").items():
            props = route.get("Properties") or {}
            target = _ROUTE_TARGET.match(_sub_text(props.get("Target"), f"{route_id}.Target"))
            if target is None or target.group(1) not in self.resources:
                raise TemplateError(f'{route_id}: Target must be !Sub "integrations/${{<Integration>}}"')
            integration = self.resources[target.group(1)].get("Properties") or {}
            uri = _FUNCTION_URI.search(
                _sub_text(integration.get("IntegrationUri"), f"{target.group(1)}.IntegrationUri")
            )
            if integration.get("IntegrationType") != "AWS_PROXY" or uri is None:
                raise TemplateError(f"{target.group(1)}: only AWS_PROXY integrations of a function are supported")
            key = str(props["RouteKey"])
            api = props.get("ApiId")
            if not (isinstance(api, dict) and "Ref" in api):
                raise TemplateError(f"{route_id}: ApiId must be !Ref <Api>")
            name = "".join(part.title() for part in re.split(r"[^A-Za-z0-9]+", key) if part)
            event = FunctionEvent(name, WEBSOCKET_EVENT, {"ApiId": str(api["Ref"]), "RouteKey": key})
            found.setdefault(uri.group(1), []).append(event)
        return found

    def event_source_mappings(self) -> dict[str, list[FunctionEvent]]:
        """Function logical id -> its queues, as `SQS` events with SAM's property names (`Queue`, `BatchSize`,
        `MaximumBatchingWindowInSeconds`, `FunctionResponseTypes`, `ScalingConfig`).

        A mapping is written `<Function><EventName>` with `FunctionName: !Ref <Function>` and
        `EventSourceArn: !GetAtt <Queue>.Arn` - the resource SAM itself would generate from an SQS event,
        declared by hand because SAM's SQS event also attaches AWSLambdaSQSQueueExecutionRole, which may
        receive and delete on every queue of the account."""
        found: dict[str, list[FunctionEvent]] = {}
        for mapping_id, mapping in self.of_type("AWS::Lambda::EventSourceMapping").items():
            props = dict(mapping.get("Properties") or {})
            function = props.pop("FunctionName", None)
            if not (isinstance(function, dict) and isinstance(function.get("Ref"), str)):
                raise TemplateError(f"{mapping_id}: FunctionName must be !Ref <Function>")
            name = function["Ref"]
            if (self.resources.get(name) or {}).get("Type") != "AWS::Serverless::Function":
                raise TemplateError(f"{mapping_id}: FunctionName names {name}, not a function of this template")
            if not mapping_id.startswith(name) or mapping_id == name:
                raise TemplateError(f"{mapping_id}: name it <Function><EventName>, e.g. {name}Jobs")
            source = props.pop("EventSourceArn", None)
            if source is None:
                raise TemplateError(f"{mapping_id}: no EventSourceArn")
            event = FunctionEvent(mapping_id[len(name) :], SQS_EVENT, {"Queue": source, **props})
            found.setdefault(name, []).append(event)
        return found

    def function(self, name: str) -> Function:
        """A function by logical id or local physical name."""
        for fn in self.functions():
            if name in (fn.logical_id, fn.physical_name):
                return fn
        known = ", ".join(f.logical_id for f in self.functions())
        raise TemplateError(f"no function {name!r} in {self.path.name} (known: {known})")

    def layer_dirs(self, fn: Function) -> list[Path]:
        dirs = []
        for layer in fn.layers:
            props = self.resources[layer].get("Properties") or {}
            dirs.append((self.root / str(props["ContentUri"])).resolve())
        return dirs
