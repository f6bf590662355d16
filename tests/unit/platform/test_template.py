"""infra.template: CloudFormation tags, intrinsics, SAM Globals, local names and ARNs."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.template import Env, Stack, TemplateError, _merge_globals, load_raw

BASE = """
Parameters:
  Stage:
    Type: String
    Default: dev
  NoDefault:
    Type: String
Globals:
  Function:
    Runtime: python3.11
    Timeout: 30
    MemorySize: 256
    Layers:
      - !Ref CoreLayer
    Environment:
      Variables:
        SHARED: from-globals
        OVERRIDDEN: from-globals
        TABLE: !Ref Table
Resources:
  CoreLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/core/
  MlLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/ml/
  Bucket:
    Type: AWS::S3::Bucket
  NamedBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-named-${Stage}"
  Table:
    Type: AWS::DynamoDB::Table
  NamedTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: explicit-table
  Queue:
    Type: AWS::SQS::Queue
  NamedQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [!Ref "AWS::StackName", jobs]]
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/worker/
      Handler: pkg.mod.handler
      Timeout: 90
      Layers:
        - !Ref MlLayer
      Environment:
        Variables:
          OVERRIDDEN: from-function
          QUEUE: !GetAtt Queue.QueueName
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
  Bare:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/bare
      Handler: app.app
"""


def write(tmp_path: Path, text: str, name: str = "template.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def small(tmp_path: Path) -> Stack:
    return Stack(write(tmp_path, BASE), env=Env(stack="shop", account="111122223333", region="eu-west-1"))


# ----------------------------------------------------------------------------------- YAML tags


def test_cfn_tags_parse_to_their_json_forms(tmp_path: Path) -> None:
    raw = load_raw(
        write(
            tmp_path,
            """
            Resources:
              R:
                Properties:
                  ref: !Ref Thing
                  getatt: !GetAtt Thing.Arn
                  getatt_nested: !GetAtt Thing.Endpoint.Address
                  getatt_list: !GetAtt [Thing, Arn]
                  sub: !Sub "${Thing}-${Other.Arn}"
                  sub_vars: !Sub ["${x}-y", {x: !Ref Thing}]
                  join: !Join [",", [a, !Ref Thing]]
                  cond: !If [IsProd, a, b]
                  nested: {inner: !Ref Deep}
            """,
        )
    )
    props = raw["Resources"]["R"]["Properties"]
    assert props["ref"] == {"Ref": "Thing"}
    assert props["getatt"] == {"Fn::GetAtt": ["Thing", "Arn"]}
    assert props["getatt_nested"] == {"Fn::GetAtt": ["Thing", "Endpoint.Address"]}
    assert props["getatt_list"] == {"Fn::GetAtt": ["Thing", "Arn"]}
    assert props["sub"] == {"Fn::Sub": "${Thing}-${Other.Arn}"}
    assert props["sub_vars"] == {"Fn::Sub": ["${x}-y", {"x": {"Ref": "Thing"}}]}
    assert props["join"] == {"Fn::Join": [",", ["a", {"Ref": "Thing"}]]}
    assert props["cond"] == {"Fn::If": ["IsProd", "a", "b"]}
    assert props["nested"] == {"inner": {"Ref": "Deep"}}


@pytest.mark.parametrize("text", ["[]", "Description: no resources\n", "just a string"])
def test_a_template_without_resources_is_rejected(tmp_path: Path, text: str) -> None:
    with pytest.raises(TemplateError, match="no Resources"):
        load_raw(write(tmp_path, text))


def test_an_unsupported_resource_type_is_rejected_up_front(tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n  Stream:\n    Type: AWS::Kinesis::Stream\n")
    with pytest.raises(TemplateError, match="Stream: resource type AWS::Kinesis::Stream is not supported"):
        Stack(path)


# ---------------------------------------------------------------------------------- intrinsics


def test_ref_resolves_pseudo_parameters(small: Stack) -> None:
    assert small.resolve({"Ref": "AWS::StackName"}) == "shop"
    assert small.resolve({"Ref": "AWS::Region"}) == "eu-west-1"
    assert small.resolve({"Ref": "AWS::AccountId"}) == "111122223333"
    assert small.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert small.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"


def test_ref_resolves_parameters_with_defaults_and_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert Stack(path).resolve({"Ref": "Stage"}) == "dev"
    assert Stack(path).resolve({"Ref": "NoDefault"}) == ""
    assert Stack(path, parameters={"Stage": "prod"}).resolve({"Ref": "Stage"}) == "prod"


def test_ref_of_a_resource_is_what_cloudformation_returns(small: Stack) -> None:
    assert small.resolve({"Ref": "Queue"}) == "http://127.0.0.1:4566/111122223333/shop-Queue"  # queue URL
    assert small.resolve({"Ref": "Table"}) == "shop-Table"  # table name
    assert small.resolve({"Ref": "Bucket"}) == "shop-bucket"  # bucket name, lower case
    assert small.resolve({"Ref": "CoreLayer"}) == "CoreLayer"  # layers stay logical for layer_dirs


def test_ref_of_something_unknown_is_an_error(small: Stack) -> None:
    with pytest.raises(TemplateError, match="!Ref Nope: no such parameter or resource"):
        small.resolve({"Ref": "Nope"})


def test_get_att_supported_attributes(small: Stack) -> None:
    assert small.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:eu-west-1:111122223333:shop-Queue"
    assert small.resolve({"Fn::GetAtt": "Queue.QueueName"}) == "shop-Queue"
    assert small.resolve({"Fn::GetAtt": ["Queue", "QueueUrl"]}) == small.queue_url("Queue")


@pytest.mark.parametrize(
    ("get_att", "message"),
    [
        (["Nope", "Arn"], "no such resource"),
        (["Table", "StreamArn"], "not supported locally"),
        (["CoreLayer", "Arn"], "no ARN for CoreLayer"),
    ],
)
def test_get_att_errors(small: Stack, get_att: list[str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        small.resolve({"Fn::GetAtt": get_att})


def test_sub_substitutes_refs_attributes_and_pseudo_parameters(small: Stack) -> None:
    text = "${AWS::StackName}/${Stage}/${Table}/${Queue.Arn}"
    assert small.resolve({"Fn::Sub": text}) == ("shop/dev/shop-Table/arn:aws:sqs:eu-west-1:111122223333:shop-Queue")


def test_sub_with_a_variable_map_resolves_the_variables_first(small: Stack) -> None:
    value = {"Fn::Sub": ["${Name}:${Arn}:${Stage}", {"Name": {"Ref": "Table"}, "Arn": {"Fn::GetAtt": "Bucket.Arn"}}]}
    assert small.resolve(value) == "shop-Table:arn:aws:s3:::shop-bucket:dev"


def test_sub_raises_on_an_unknown_name(small: Stack) -> None:
    with pytest.raises(TemplateError):
        small.resolve({"Fn::Sub": "${Missing}"})


def test_sub_unescapes_literal_dollar_braces(small: Stack) -> None:
    assert small.resolve({"Fn::Sub": "${!Literal}-${AWS::Region}"}) == "${Literal}-eu-west-1"


def test_join_resolves_each_part(small: Stack) -> None:
    assert small.resolve({"Fn::Join": [":", ["a", {"Ref": "Stage"}, {"Fn::GetAtt": ["Table", "Arn"]}]]}) == (
        "a:dev:arn:aws:dynamodb:eu-west-1:111122223333:table/shop-Table"
    )


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::If": ["IsProd", "a", "b"]},
        {"Fn::Select": [0, ["a"]]},
        {"Fn::ImportValue": "x"},
        {"Fn::GetAZs": ""},
        {"outer": [{"Fn::Split": [",", "a,b"]}]},
    ],
)
def test_unsupported_intrinsics_raise(small: Stack, value: dict[str, Any]) -> None:
    with pytest.raises(TemplateError, match="is not supported locally"):
        small.resolve(value)


def test_resolve_walks_lists_and_maps_and_keeps_plain_values(small: Stack) -> None:
    value = {"a": [{"Ref": "Stage"}, 3, None, True], "b": {"c": {"Ref": "AWS::Region"}, "d": "x"}, "e": 1.5}
    assert small.resolve(value) == {"a": ["dev", 3, None, True], "b": {"c": "eu-west-1", "d": "x"}, "e": 1.5}


def test_a_single_key_map_that_is_not_an_intrinsic_is_just_a_map(small: Stack) -> None:
    assert small.resolve({"Condition": {"Ref": "Stage"}}) == {"Condition": "dev"}


# ------------------------------------------------------------------------- names, URLs and ARNs


def test_physical_names(small: Stack) -> None:
    assert small.physical_name("Bucket") == "shop-bucket"
    assert small.physical_name("NamedBucket") == "shop-named-dev"
    assert small.physical_name("Table") == "shop-Table"
    assert small.physical_name("NamedTable") == "explicit-table"
    assert small.physical_name("Queue") == "shop-Queue"
    assert small.physical_name("NamedQueue") == "shop-jobs"
    assert small.physical_name("Worker") == "shop-Worker"


def test_queue_url_uses_the_env_endpoint_and_account(tmp_path: Path) -> None:
    stack = Stack(write(tmp_path, BASE), env=Env(stack="s", account="999", queue_endpoint="http://q:1"))
    assert stack.queue_url("NamedQueue") == "http://q:1/999/s-jobs"
    assert stack.resolve({"Ref": "NamedQueue"}) == "http://q:1/999/s-jobs"


def test_arns_by_resource_type(small: Stack) -> None:
    assert small.arn("Bucket") == "arn:aws:s3:::shop-bucket"
    assert small.arn("Queue") == "arn:aws:sqs:eu-west-1:111122223333:shop-Queue"
    assert small.arn("Table") == "arn:aws:dynamodb:eu-west-1:111122223333:table/shop-Table"
    assert small.arn("Worker") == "arn:aws:lambda:eu-west-1:111122223333:function:shop-Worker"
    with pytest.raises(TemplateError, match="no ARN for QueuePolicy"):
        small.arn("QueuePolicy")


def test_logical_id_for_arn_round_trips_every_resource_with_an_arn(small: Stack, stack: Stack) -> None:
    for each in (small, stack):
        with_arns = [
            r
            for r in each.resources
            if each.resources[r]["Type"]
            not in (
                "AWS::Serverless::LayerVersion",
                "AWS::SQS::QueuePolicy",
                "AWS::SNS::Subscription",
                # parts of an API and a permission: CloudFormation gives them no ARN
                "AWS::ApiGatewayV2::Integration",
                "AWS::ApiGatewayV2::Route",
                "AWS::ApiGatewayV2::Stage",
                "AWS::Lambda::Permission",
                # nothing names these by ARN: a mapping is found by its function, an alarm by nothing
                "AWS::Lambda::EventSourceMapping",
                "AWS::CloudWatch::Alarm",
                # the REST API and its usage plans (only the plans' API keys are named, by the authorizer)
                "AWS::Serverless::Api",
                "AWS::ApiGateway::UsagePlan",
                "AWS::ApiGateway::UsagePlanKey",
            )
        ]
        assert with_arns
        for logical_id in with_arns:
            assert each.logical_id_for_arn(each.arn(logical_id)) == logical_id


TOPIC_TEMPLATE = """
Resources:
  Topic:
    Type: AWS::SNS::Topic
  NamedTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub "${AWS::StackName}-orders"
  Queue:
    Type: AWS::SQS::Queue
  Subscription:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Topic
      Protocol: sqs
      Endpoint: !GetAtt Queue.Arn
      RawMessageDelivery: true
"""


def test_sns_topics_resolve_as_cloudformation_resolves_them(tmp_path: Path) -> None:
    stack = Stack(write(tmp_path, TOPIC_TEMPLATE), env=Env(stack="shop", account="111122223333", region="eu-west-1"))
    arn = "arn:aws:sns:eu-west-1:111122223333:shop-Topic"
    assert stack.resolve({"Ref": "Topic"}) == arn  # a topic's Ref is its ARN
    assert stack.resolve({"Fn::GetAtt": ["Topic", "TopicArn"]}) == arn
    assert stack.resolve({"Fn::GetAtt": ["Topic", "TopicName"]}) == "shop-Topic"
    assert stack.physical_name("NamedTopic") == "shop-orders"
    assert stack.logical_id_for_arn("arn:aws:sns:eu-west-1:111122223333:shop-orders") == "NamedTopic"
    subscription = stack.resolve(stack.resources["Subscription"]["Properties"])
    assert subscription["TopicArn"] == arn
    assert subscription["Endpoint"] == "arn:aws:sqs:eu-west-1:111122223333:shop-Queue"


def test_logical_id_for_an_unknown_arn_is_an_error(small: Stack) -> None:
    with pytest.raises(TemplateError, match="no resource has ARN"):
        small.logical_id_for_arn("arn:aws:sqs:eu-west-1:111122223333:other")


def test_default_env_is_the_local_account() -> None:
    env = Env()
    assert (env.stack, env.region, env.account, env.partition) == ("commerce-ai", "us-east-1", "123456789012", "aws")


# ------------------------------------------------------------------------------------- Globals


def test_globals_merge_maps_concatenate_lists_and_override_scalars(small: Stack, tmp_path: Path) -> None:
    worker = small.function("Worker")
    # scalars: the function wins where it sets one, Globals fill the rest
    assert worker.timeout == 90
    assert worker.memory == 256
    assert worker.runtime == "python3.11"
    # lists: Globals first, then the function's own
    assert worker.layers == ["CoreLayer", "MlLayer"]
    # maps: merged key by key, function wins, intrinsics resolved
    assert worker.environment == {
        "SHARED": "from-globals",
        "OVERRIDDEN": "from-function",
        "TABLE": "shop-Table",
        "QUEUE": "shop-Queue",
    }
    assert small.layer_dirs(worker) == [(tmp_path / "layers/core").resolve(), (tmp_path / "layers/ml").resolve()]


def test_a_function_with_no_overrides_gets_globals(small: Stack, tmp_path: Path) -> None:
    bare = small.function("Bare")
    assert (bare.timeout, bare.memory, bare.layers) == (30, 256, ["CoreLayer"])
    assert bare.environment["OVERRIDDEN"] == "from-globals"
    assert bare.code_uri == (tmp_path / "functions/bare").resolve()
    assert bare.events == []


def test_lambda_defaults_apply_without_globals(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: src, Handler: app.handler}
        """,
    )
    fn = Stack(path).function("Fn")
    assert (fn.timeout, fn.memory, fn.layers, fn.environment, fn.runtime) == (3, 128, [], {}, "")


def test_globals_merge_does_not_leak_between_functions(small: Stack) -> None:
    # Worker overrides a variable; Bare must still see the Globals value, and re-reading is stable.
    small.functions()
    assert small.function("Bare").environment["OVERRIDDEN"] == "from-globals"
    assert small.raw["Globals"]["Function"]["Environment"]["Variables"]["OVERRIDDEN"] == "from-globals"
    assert small.raw["Globals"]["Function"]["Layers"] == [{"Ref": "CoreLayer"}]


scalars = st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none())
keys = st.text(alphabet="abcdef", min_size=1, max_size=3)


@given(st.dictionaries(keys, scalars), st.dictionaries(keys, scalars))
def test_merge_of_scalar_maps_is_a_right_biased_union(globals_: dict[str, Any], props: dict[str, Any]) -> None:
    assert _merge_globals(globals_, props) == {**globals_, **props}


@given(st.lists(scalars), st.lists(scalars))
def test_merge_of_lists_concatenates_globals_first(base: list[Any], own: list[Any]) -> None:
    assert _merge_globals({"L": base}, {"L": own}) == {"L": base + own}


@given(st.dictionaries(keys, scalars), st.dictionaries(keys, scalars))
def test_merge_of_nested_maps_recurses_and_leaves_inputs_alone(
    inner_g: dict[str, Any], inner_p: dict[str, Any]
) -> None:
    globals_ = {"Env": {"Vars": dict(inner_g)}}
    props = {"Env": {"Vars": dict(inner_p)}}
    assert _merge_globals(globals_, props) == {"Env": {"Vars": {**inner_g, **inner_p}}}
    assert globals_ == {"Env": {"Vars": inner_g}} and props == {"Env": {"Vars": inner_p}}


def test_a_function_value_of_another_kind_replaces_the_global_one() -> None:
    assert _merge_globals({"Layers": ["a"], "Env": {"k": 1}}, {"Layers": "b", "Env": None}) == {
        "Layers": "b",
        "Env": None,
    }


# ------------------------------------------------------------------------------------- views


def test_function_lookup_by_logical_or_physical_name(small: Stack) -> None:
    assert small.function("Worker").logical_id == "Worker"
    assert small.function("shop-Worker").logical_id == "Worker"
    with pytest.raises(TemplateError, match=r"no function 'Nope' in template.yaml \(known: Worker, Bare\)"):
        small.function("Nope")


def test_handler_splits_into_module_and_attribute(small: Stack) -> None:
    worker = small.function("Worker")
    assert (worker.module, worker.attribute) == ("pkg.mod", "handler")


def test_events_keep_their_unresolved_properties(small: Stack) -> None:
    (event,) = small.function("Worker").events
    assert (event.name, event.type) == ("Jobs", "SQS")
    assert event.properties == {"Queue": {"Fn::GetAtt": ["Queue", "Arn"]}}


def test_of_type_filters_resources(small: Stack) -> None:
    assert sorted(small.of_type("AWS::SQS::Queue")) == ["NamedQueue", "Queue"]


def test_timeout_from_a_parameter_is_resolved(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        Parameters:
          FunctionTimeout: {Type: Number, Default: 45}
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties: {CodeUri: src, Handler: app.handler, Timeout: !Ref FunctionTimeout}
        """,
    )
    assert Stack(path).function("Fn").timeout == 45


def test_the_real_template_resolves_every_function_environment(stack: Stack) -> None:
    for fn in stack.functions():
        assert all(isinstance(v, str) and "Ref" not in v for v in fn.environment.values()), fn.logical_id
    registry = stack.function("RegistryAdminFunction").environment
    assert registry["ADMIN_API_KEY_PARAMETER"] == "/commerce-ai/admin-api-key"
    assert registry["ARTIFACT_BUCKET"] == "commerce-ai-artifacts-123456789012-us-east-1"
    assert registry["MODEL_REGISTRY_TABLE"] == "commerce-ai-ModelRegistryTable"
