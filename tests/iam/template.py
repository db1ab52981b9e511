"""The IAM-relevant facts of a synthesized CloudFormation template, with intrinsics resolved.

CloudFormation's own rules, given the physical ids DescribeStackResources answers:
  Ref of a resource        -> its physical id (bucket, role, function, event bus, log group: the name;
                              KMS key: the key id; SNS topic, state machine: the ARN; SQS: the URL)
  Fn::GetAtt [id, "Arn"]   -> built from the physical id, per resource type (_attribute below)
  pseudo parameters        -> AWS::Partition, AWS::Region, AWS::AccountId, AWS::URLSuffix
  Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If (with Conditions), Fn::FindInMap, Fn::Base64.
Anything else (Fn::ImportValue, Fn::GetAZs, an attribute not listed, a resource without a physical
id) raises TemplateError naming what could not be resolved: a proof must not run on a guess.
Resolution is lazy: asking for one role's policies resolves only those.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tests.iam.arn import parse_arn


class TemplateError(Exception):
    """An intrinsic or reference the resolver cannot resolve, or a lookup that found nothing."""


_NO_VALUE = object()  # AWS::NoValue: the enclosing property or list item disappears
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")

# The default key policy CloudFormation gives a key declared without KeyPolicy: the account root
# may use the key, which delegates to IAM.
_DEFAULT_KEY_POLICY_ID = "default key policy"


class Template:
    def __init__(
        self,
        document: Mapping[str, Any],
        physical: Mapping[str, str],
        *,
        account: str,
        region: str,
        partition: str = "aws",
        parameters: Mapping[str, str] | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> None:
        """`physical`: logical id -> physical id. `parameters`: template parameter (or pseudo
        parameter such as AWS::StackName) values. `attributes`: "LogicalId.Attribute" -> value,
        for a Fn::GetAtt this module cannot build (e.g. an API's RootResourceId)."""
        self.document = document
        self.resources: Mapping[str, Mapping[str, Any]] = document.get("Resources", {})
        self.physical = dict(physical)
        self.account, self.region, self.partition = account, region, partition
        self.parameters = dict(parameters or {})
        self.attributes = dict(attributes or {})

    @classmethod
    def load(
        cls,
        path: str | Path,
        physical: Mapping[str, str],
        *,
        account: str,
        region: str,
        partition: str = "aws",
        parameters: Mapping[str, str] | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> Template:
        document = json.loads(Path(path).read_text())
        return cls(
            document,
            physical,
            account=account,
            region=region,
            partition=partition,
            parameters=parameters,
            attributes=attributes,
        )

    # --- IAM roles --------------------------------------------------------------------------------

    def roles(self) -> dict[str, str]:
        """logical id -> ARN of every AWS::IAM::Role."""
        return {lid: self.role_arn(lid) for lid in self._of_type("AWS::IAM::Role")}

    def role_arn(self, logical_id: str) -> str:
        self._require(logical_id, "AWS::IAM::Role")
        return str(self._get_att(logical_id, "Arn"))

    def role_policies(self, role_logical_id: str) -> list[dict[str, Any]]:
        """The role's identity policy documents, resolved: every AWS::IAM::Policy and in-template
        AWS::IAM::ManagedPolicy attached to it, and its inline Policies. Each document's "Id" (an
        optional policy element) is set to the policy's name when absent, so decisions can name it.
        Managed policies from outside the template are not included: see role_managed_policy_arns."""
        role = self._require(role_logical_id, "AWS::IAM::Role")
        documents: list[dict[str, Any]] = []
        for lid in [*self._of_type("AWS::IAM::Policy"), *self._of_type("AWS::IAM::ManagedPolicy")]:
            props = self.resources[lid].get("Properties", {})
            if self._names_role(lid, props.get("Roles", []), role_logical_id):
                name = props.get("PolicyName") or props.get("ManagedPolicyName") or lid
                documents.append(self._document(lid, props["PolicyDocument"], name))
        props = role.get("Properties", {})
        for inline in props.get("Policies", []):
            name = self._in(role_logical_id, inline["PolicyName"])
            documents.append(self._document(role_logical_id, inline["PolicyDocument"], name))
        for arn in self._in(role_logical_id, props.get("ManagedPolicyArns", [])):
            local = self._managed_policy_in_template(arn)
            if local is not None and not self._names_role(
                local, self.resources[local].get("Properties", {}).get("Roles", []), role_logical_id
            ):
                local_props = self.resources[local]["Properties"]
                documents.append(
                    self._document(
                        local, local_props["PolicyDocument"], local_props.get("ManagedPolicyName", local)
                    )
                )
        return documents

    def role_managed_policy_arns(self, role_logical_id: str) -> list[str]:
        """Managed policy ARNs on the role whose documents are not in this template (AWS managed
        policies): listed, not resolved, since their contents live in the account."""
        props = self._require(role_logical_id, "AWS::IAM::Role").get("Properties", {})
        arns = self._in(role_logical_id, props.get("ManagedPolicyArns", []))
        return [str(a) for a in arns if self._managed_policy_in_template(str(a)) is None]

    # --- resource policies ------------------------------------------------------------------------

    def bucket_policy(self, bucket_name: str) -> dict[str, Any] | None:
        """The resolved AWS::S3::BucketPolicy document of the bucket named `bucket_name`, if any."""
        found = [
            lid
            for lid in self._of_type("AWS::S3::BucketPolicy")
            if self._in(lid, self.resources[lid]["Properties"]["Bucket"]) == bucket_name
        ]
        if len(found) > 1:
            raise TemplateError(f"bucket {bucket_name} has several AWS::S3::BucketPolicy: {found}")
        if not found:
            return None
        return self._document(found[0], self.resources[found[0]]["Properties"]["PolicyDocument"], found[0])

    def key_policy(self, key_arn: str) -> dict[str, Any] | None:
        """The resolved key policy of the AWS::KMS::Key with this ARN (or key id), if it is in the
        template; CloudFormation's default key policy when the key declares none."""
        for lid in self._of_type("AWS::KMS::Key"):
            if key_arn in (self._get_att(lid, "Arn"), self._ref(lid)):
                policy = self.resources[lid].get("Properties", {}).get("KeyPolicy")
                if policy is None:
                    return self._default_key_policy()
                return self._document(lid, policy, lid)
        return None

    def function_policy(self, function: str) -> dict[str, Any] | None:
        """The function's resource policy as Lambda builds it from AWS::Lambda::Permission resources
        (Principal, Action, Resource, and SourceArn/SourceAccount as ArnLike/StringEquals
        conditions), or None when no permission names the function."""
        lid = self._function(function)
        name, arn = self._ref(lid), str(self._get_att(lid, "Arn"))
        statements = []
        for perm in self._of_type("AWS::Lambda::Permission"):
            props = self.resources[perm]["Properties"]
            target = str(self._in(perm, props["FunctionName"]))
            if target not in (name, arn, f"{self.account}:function:{name}"):
                continue
            statements.append(self._permission_statement(perm, props, arn))
        if not statements:
            return None
        return {"Version": "2012-10-17", "Id": "default", "Statement": statements}

    # --- compute ----------------------------------------------------------------------------------

    def function_role(self, function: str) -> str:
        """Logical id of the role of an AWS::Lambda::Function (given its logical id, name or ARN)."""
        lid = self._function(function)
        return self._role_of(lid, self.resources[lid]["Properties"]["Role"])

    def state_machine_role(self, state_machine: str) -> str:
        """Logical id of the role of an AWS::StepFunctions::StateMachine (logical id, name or ARN)."""
        lid = self._find("AWS::StepFunctions::StateMachine", state_machine)
        return self._role_of(lid, self.resources[lid]["Properties"]["RoleArn"])

    def function_arn(self, function: str) -> str:
        return str(self._get_att(self._function(function), "Arn"))

    # --- resolution -------------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function resolved."""
        resolved = self._resolve(value)
        if resolved is _NO_VALUE:
            raise TemplateError("AWS::NoValue outside a property or list")
        return resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key.startswith("Fn::"):
                handler = self._functions().get(key)
                if handler is None:
                    raise TemplateError(f"{key} is not supported")
                return handler(argument)
        resolved = {k: self._resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Fn::GetAtt": self._fn_get_att,
            "Fn::Join": self._fn_join,
            "Fn::Sub": self._fn_sub,
            "Fn::Select": self._fn_select,
            "Fn::Split": self._fn_split,
            "Fn::If": self._fn_if,
            "Fn::FindInMap": self._fn_find_in_map,
            "Fn::Base64": lambda a: base64.b64encode(self._string(a, "Fn::Base64").encode()).decode(),
        }

    def _in(self, logical_id: str, value: Any) -> Any:
        """Resolve a property of `logical_id`, naming the resource in any error."""
        try:
            return self.resolve(value)
        except TemplateError as error:
            raise TemplateError(f"{logical_id}: {error}") from error

    def _string(self, value: Any, where: str) -> str:
        resolved = self.resolve(value)
        if not isinstance(resolved, str):
            raise TemplateError(f"{where}: expected a string, got {resolved!r}")
        return resolved

    def _pseudo(self, name: str) -> str:
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        known = {
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::URLSuffix": suffix,
        }
        if name in known:
            return known[name]
        if name in self.parameters:
            return self.parameters[name]
        raise TemplateError(f"pseudo parameter {name} has no value (pass it in parameters)")

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"Ref of {name!r}")
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name.startswith("AWS::"):
            return self._pseudo(name)
        if name in self.resources:
            self._check_condition(name)
            if name not in self.physical:
                raise TemplateError(f"Ref {name}: no physical id given for {self.resources[name]['Type']}")
            return self.physical[name]
        parameter = self.document.get("Parameters", {}).get(name)
        if parameter is None:
            raise TemplateError(f"Ref {name}: no such resource or parameter")
        if name in self.parameters:
            return self.parameters[name]
        if "Default" in parameter and not str(parameter.get("Type", "")).startswith("AWS::SSM::"):
            return parameter["Default"]
        raise TemplateError(f"Ref {name}: parameter has no value (pass it in parameters)")

    def _fn_get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"Fn::GetAtt {argument!r}: expected [logicalId, attribute]")
        logical_id, attribute = argument[0], self.resolve(argument[1])
        return self._get_att(logical_id, str(attribute))

    def _get_att(self, logical_id: str, attribute: str) -> Any:
        given = self.attributes.get(f"{logical_id}.{attribute}")
        if given is not None:
            return given
        if logical_id not in self.resources:
            raise TemplateError(f"Fn::GetAtt [{logical_id}, {attribute}]: no such resource")
        kind = self.resources[logical_id]["Type"]
        physical = self._ref(logical_id)
        value = self._attribute(logical_id, kind, attribute, str(physical))
        if value is None:
            raise TemplateError(
                f"Fn::GetAtt [{logical_id}, {attribute}]: {kind}.{attribute} is not modelled "
                f"(pass attributes={{'{logical_id}.{attribute}': ...}})"
            )
        return value

    def _attribute(self, logical_id: str, kind: str, attribute: str, physical: str) -> str | None:
        p, r, a = self.partition, self.region, self.account
        last = physical.rsplit(":", 1)[-1]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            path = self._in(logical_id, self.resources[logical_id].get("Properties", {}).get("Path", "/"))
            return f"arn:{p}:iam::{a}:role{path}{physical}"  # the ARN carries the role's path
        if kind == "AWS::Events::Rule" and attribute == "Arn":
            # A rule on a custom bus has the physical id "<bus>|<rule>" and the ARN rule/<bus>/<rule>.
            return f"arn:{p}:events:{r}:{a}:rule/{physical.replace('|', '/')}"
        if kind == "AWS::SQS::Queue":
            name = physical.rstrip("/").rsplit("/", 1)[-1]  # the physical id is the queue URL
            return {"Arn": f"arn:{p}:sqs:{r}:{a}:{name}", "QueueUrl": physical, "QueueName": name}.get(
                attribute
            )
        table: dict[tuple[str, str], str] = {
            ("AWS::S3::Bucket", "Arn"): f"arn:{p}:s3:::{physical}",
            ("AWS::Lambda::Function", "Arn"): f"arn:{p}:lambda:{r}:{a}:function:{physical}",
            ("AWS::KMS::Key", "Arn"): f"arn:{p}:kms:{r}:{a}:key/{physical}",
            ("AWS::KMS::Key", "KeyId"): physical,
            ("AWS::Events::EventBus", "Arn"): f"arn:{p}:events:{r}:{a}:event-bus/{physical}",
            ("AWS::Events::EventBus", "Name"): physical,
            ("AWS::SNS::Topic", "TopicArn"): physical,
            ("AWS::SNS::Topic", "TopicName"): last,
            ("AWS::StepFunctions::StateMachine", "Arn"): physical,
            ("AWS::StepFunctions::StateMachine", "Name"): last,
            # CloudFormation's log group Arn ends in ":*" (it covers the group's streams).
            ("AWS::Logs::LogGroup", "Arn"): f"arn:{p}:logs:{r}:{a}:log-group:{physical}:*",
        }
        return table.get((kind, attribute))

    def _fn_join(self, argument: Any) -> str:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"Fn::Join {argument!r}: expected [delimiter, [values]]")
        items = self.resolve(argument[1])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise TemplateError(f"Fn::Join: expected a list of strings, got {items!r}")
        return str(argument[0]).join(items)

    def _fn_sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], argument[1]
        else:
            raise TemplateError(f"Fn::Sub {argument!r}: expected a string or [string, {{variables}}]")

        def substitute(match: re.Match[str]) -> str:
            name = match[1]
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} writes ${Literal}
            if name in variables:
                return self._string(variables[name], f"Fn::Sub variable {name}")
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self._get_att(logical_id, attribute))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, text)

    def _fn_select(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"Fn::Select {argument!r}: expected [index, [values]]")
        index, items = int(self.resolve(argument[0])), self.resolve(argument[1])
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise TemplateError(f"Fn::Select: index {index} out of {items!r}")
        return items[index]

    def _fn_split(self, argument: Any) -> list[str]:
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"Fn::Split {argument!r}: expected [delimiter, string]")
        return self._string(argument[1], "Fn::Split").split(str(argument[0]))

    def _fn_if(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise TemplateError(f"Fn::If {argument!r}: expected [condition, then, else]")
        return self._resolve(argument[1] if self._condition(argument[0]) else argument[2])

    def _fn_find_in_map(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise TemplateError(f"Fn::FindInMap {argument!r}: expected [map, key, key]")
        name, top, second = (self._string(a, "Fn::FindInMap") for a in argument)
        try:
            return self.document["Mappings"][name][top][second]
        except KeyError as error:
            raise TemplateError(f"Fn::FindInMap [{name}, {top}, {second}]: no such entry") from error

    def _condition(self, name: str) -> bool:
        definition = self.document.get("Conditions", {}).get(name)
        if definition is None:
            raise TemplateError(f"condition {name} is not defined")
        return self._condition_value(definition)

    def _condition_value(self, value: Any) -> bool:
        if not (isinstance(value, Mapping) and len(value) == 1):
            raise TemplateError(f"condition {value!r}: expected one condition function")
        ((key, argument),) = value.items()
        if key == "Condition":
            return self._condition(argument)
        if key == "Fn::Equals":
            return bool(self.resolve(argument[0]) == self.resolve(argument[1]))
        if key == "Fn::Not":
            return not self._condition_value(argument[0])
        if key == "Fn::And":
            return all(self._condition_value(a) for a in argument)
        if key == "Fn::Or":
            return any(self._condition_value(a) for a in argument)
        raise TemplateError(f"condition function {key} is not supported")

    def _check_condition(self, logical_id: str) -> None:
        if not self._exists(logical_id):
            raise TemplateError(f"{logical_id} is not created: its condition is false")

    def _exists(self, logical_id: str) -> bool:
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self._condition(condition)

    # --- lookups ----------------------------------------------------------------------------------

    def _of_type(self, kind: str) -> list[str]:
        return [lid for lid, r in self.resources.items() if r.get("Type") == kind and self._exists(lid)]

    def _require(self, logical_id: str, kind: str) -> Mapping[str, Any]:
        resource = self.resources.get(logical_id)
        if resource is None or resource.get("Type") != kind:
            raise TemplateError(f"{logical_id} is not an {kind} of this template")
        return resource

    def _find(self, kind: str, key: str) -> str:
        """Logical id of the `kind` resource with logical id, physical id or ARN `key`."""
        if self.resources.get(key, {}).get("Type") == kind:
            return key
        for lid in self._of_type(kind):
            physical = str(self._ref(lid))
            # A state machine's physical id is its ARN: its name is the last part.
            names = {physical, physical.rsplit(":", 1)[-1], self._get_att(lid, "Arn")}
            if key in names:
                return lid
        raise TemplateError(f"no {kind} {key!r} in this template")

    def _function(self, function: str) -> str:
        return self._find("AWS::Lambda::Function", function)

    def _role_of(self, logical_id: str, role: Any) -> str:
        # CDK writes Fn::GetAtt [Role, Arn]: take the logical id without needing physical ids.
        if isinstance(role, Mapping) and "Fn::GetAtt" in role:
            target = role["Fn::GetAtt"]
            target = target.split(".", 1) if isinstance(target, str) else target
            if self.resources.get(target[0], {}).get("Type") == "AWS::IAM::Role" and target[1] == "Arn":
                return str(target[0])
        arn = self._in(logical_id, role)
        for lid, role_arn in self.roles().items():
            if role_arn == arn:
                return lid
        raise TemplateError(f"{logical_id}: its role {arn} is not a role of this template")

    def _names_role(self, policy_id: str, roles: Any, role_logical_id: str) -> bool:
        for entry in roles if isinstance(roles, list) else [roles]:
            if entry == {"Ref": role_logical_id}:
                return True
            if isinstance(entry, Mapping) and set(entry) == {"Ref"} and entry["Ref"] in self.resources:
                continue  # a Ref of another resource: another role
            if self._in(policy_id, entry) == self._ref(role_logical_id):
                return True  # the role named by its physical name
        return False

    def _managed_policy_in_template(self, arn: str) -> str | None:
        for lid in self._of_type("AWS::IAM::ManagedPolicy"):
            if self.physical.get(lid) == arn:  # a managed policy's physical id is its ARN
                return lid
        return None

    # --- documents --------------------------------------------------------------------------------

    def _document(self, logical_id: str, document: Any, name: Any) -> dict[str, Any]:
        resolved = self._in(logical_id, document)
        if not isinstance(resolved, dict):
            raise TemplateError(f"{logical_id}: policy document is not an object")
        resolved.setdefault("Id", str(self._in(logical_id, name)))
        return resolved

    def _default_key_policy(self) -> dict[str, Any]:
        return {
            "Version": "2012-10-17",
            "Id": _DEFAULT_KEY_POLICY_ID,
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{self.partition}:iam::{self.account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }

    def _permission_statement(
        self, logical_id: str, props: Mapping[str, Any], function_arn: str
    ) -> dict[str, Any]:
        principal = str(self._in(logical_id, props["Principal"]))
        if principal.endswith(".amazonaws.com"):
            principal_element: Any = {"Service": principal}
        elif principal == "*":
            principal_element = "*"
        elif re.fullmatch(r"\d{12}", principal):
            principal_element = {"AWS": f"arn:{self.partition}:iam::{principal}:root"}
        else:
            principal_element = {"AWS": principal}
        target = str(self._in(logical_id, props["FunctionName"]))
        statement: dict[str, Any] = {
            "Sid": logical_id,
            "Effect": "Allow",
            "Principal": principal_element,
            "Action": self._in(logical_id, props["Action"]),
            "Resource": target if parse_arn(target) else function_arn,
        }
        condition: dict[str, dict[str, Any]] = {}
        if "SourceArn" in props:
            condition.setdefault("ArnLike", {})["AWS:SourceArn"] = self._in(logical_id, props["SourceArn"])
        if "SourceAccount" in props:
            condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = self._in(
                logical_id, props["SourceAccount"]
            )
        if "PrincipalOrgID" in props:
            condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = self._in(
                logical_id, props["PrincipalOrgID"]
            )
        if "FunctionUrlAuthType" in props:
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = self._in(
                logical_id, props["FunctionUrlAuthType"]
            )
        if "EventSourceToken" in props:
            raise TemplateError(f"{logical_id}: EventSourceToken is not modelled")
        if condition:
            statement["Condition"] = condition
        return statement


# --- fake physical ids ----------------------------------------------------------------------------

_NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::ApiGateway::Stage": "StageName",
}


def fake_physical_ids(
    document: Mapping[str, Any], *, account: str, region: str, partition: str = "aws", stack: str = "stack"
) -> dict[str, str]:
    """Plausible physical ids for every resource, in the form CloudFormation's would take: an
    explicit name property wins (policies may hard-code it), else "<stack>-<logical id>"; keys get
    a deterministic UUID; topics, state machines and layers an ARN; queues a URL. For offline tests
    of a synthesized template; a deployed stack's ids come from DescribeStackResources."""
    resources: Mapping[str, Mapping[str, Any]] = document.get("Resources", {})
    ids: dict[str, str] = {}
    arn_prefix = f"arn:{partition}"
    for lid, resource in resources.items():
        kind = resource.get("Type", "")
        props = resource.get("Properties", {})
        explicit = props.get(_NAME_PROPERTIES.get(kind, ""))
        name = explicit if isinstance(explicit, str) else f"{stack}-{lid}"[:64]
        if kind == "AWS::S3::Bucket":
            name = name.lower()[:63]  # bucket names are lower case
        ids[lid] = {
            "AWS::KMS::Key": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stack}/{lid}")),
            "AWS::IAM::ManagedPolicy": f"arn:{partition}:iam::{account}:policy/{name}",
            "AWS::SNS::Topic": f"arn:{partition}:sns:{region}:{account}:{name}",
            "AWS::SQS::Queue": f"https://sqs.{region}.amazonaws.com/{account}/{name}",
            "AWS::StepFunctions::StateMachine": f"{arn_prefix}:states:{region}:{account}:stateMachine:{name}",
            "AWS::Lambda::LayerVersion": f"arn:{partition}:lambda:{region}:{account}:layer:{name}:1",
        }.get(kind, name)
    for lid, resource in resources.items():
        bus = resource.get("Properties", {}).get("EventBusName")
        if resource.get("Type") == "AWS::Events::Rule" and bus is not None:
            # A rule on a custom bus: CloudFormation's physical id is "<bus name>|<rule name>".
            bus_name = ids.get(bus["Ref"], "") if isinstance(bus, Mapping) and "Ref" in bus else bus
            if isinstance(bus_name, str) and bus_name and bus_name != "default":
                ids[lid] = f"{bus_name}|{ids[lid]}"
    return ids
