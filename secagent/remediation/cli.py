"""Render an ApiCall as the equivalent AWS CLI command, every argument shell-quoted."""

import json
import shlex

from botocore import xform_name

from secagent.models.plans import ApiCall

_CLI_SERVICE = {"s3": "s3api"}


def cli_command(call: ApiCall) -> str:
    parts = ["aws", _CLI_SERVICE.get(call.service, call.service), xform_name(call.operation, "-")]
    for name, value in call.parameters.items():
        flag = "--" + xform_name(name, "-")
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + flag[2:])
            continue
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
        parts += [flag, text]
    if call.region:
        parts += ["--region", call.region]
    return " ".join(shlex.quote(str(p)) for p in parts)
