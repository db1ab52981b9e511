"""Turn one class of a compiled OCSF schema into a JSON Schema (draft 2020-12) for `jsonschema`.

Not a test module: it made ``ocsf-1.5.0-compliance_finding.schema.json`` beside it (README.md says
how). Input: the JSON that ``python -m ocsf.compile <ocsf-schema checkout>`` (ocsf-lib) prints.

It encodes what the OCSF server's JSON Schema export encodes (types, required attributes, integer
enums, arrays, object references) and, stricter, what the OCSF validator also checks: attributes a
class or object does not define are refused (``additionalProperties: false``; the generic
``object`` type stays open) and the objects' ``at_least_one`` / ``just_one`` constraints hold. An
attribute of a profile is kept only when that profile is applied.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

PRIMITIVES = {
    "string_t": "string",
    "integer_t": "integer",
    "long_t": "integer",
    "float_t": "number",
    "boolean_t": "boolean",
}


def _base_type(types: dict[str, Any], name: str) -> str:
    """The primitive an OCSF type comes down to (timestamp_t -> long_t, uuid_t -> string_t)."""
    while name not in PRIMITIVES and name != "json_t":
        parent = types[name].get("type")
        if not parent:
            raise ValueError(f"type {name} has no base")
        name = parent
    return name


def _attribute(schema: dict[str, Any], attr: dict[str, Any], used: set[str]) -> dict[str, Any]:
    kind = attr["type"]
    if kind in schema["objects"]:
        used.add(kind)
        item: dict[str, Any] = {"$ref": f"#/$defs/{_def_name(kind)}"}
    else:
        base = _base_type(schema["types"], kind)
        item = {} if base == "json_t" else {"type": PRIMITIVES[base]}
        if attr.get("enum") and base in ("integer_t", "long_t"):
            item["enum"] = sorted(int(value) for value in attr["enum"])
    item["title"] = attr["caption"]
    return {"type": "array", "items": item, "title": attr["caption"]} if attr.get("is_array") else item


def _def_name(name: str) -> str:
    return name.replace("/", "_")  # extension objects (win/reg_key) in a JSON pointer


def _record(
    schema: dict[str, Any], record: dict[str, Any], profiles: set[str], used: set[str]
) -> dict[str, Any]:
    attributes = {
        name: attr
        for name, attr in sorted(record["attributes"].items())
        if attr.get("profile") is None or attr["profile"] in profiles
    }
    out: dict[str, Any] = {
        "title": record["caption"],
        "type": "object",
        "properties": {name: _attribute(schema, attr, used) for name, attr in attributes.items()},
        "additionalProperties": False,
    }
    if required := sorted(n for n, a in attributes.items() if a.get("requirement") == "required"):
        out["required"] = required
    constraints = record.get("constraints") or {}
    if names := [n for n in constraints.get("at_least_one", []) if n in attributes]:
        out["anyOf"] = [{"required": [n]} for n in names]
    if names := [n for n in constraints.get("just_one", []) if n in attributes]:
        out["oneOf"] = [{"required": [n]} for n in names]
    return out


def class_json_schema(schema: dict[str, Any], class_name: str, profiles: list[str]) -> dict[str, Any]:
    enabled = set(profiles)
    used: set[str] = set()
    root = _record(schema, schema["classes"][class_name], enabled, used)
    defs: dict[str, Any] = {}
    pending = set(used)
    while pending:  # the objects reachable from the class, each once
        name = pending.pop()
        record = schema["objects"][name]
        if name == "object":  # OCSF's generic object (unmapped): any attributes
            defs[_def_name(name)] = {"title": record["caption"], "type": "object"}
            continue
        found: set[str] = set()
        defs[_def_name(name)] = _record(schema, record, enabled, found)
        pending |= found - {n for n in defs} - {name}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://schema.ocsf.io/{schema['version']}/classes/{class_name}?profiles={','.join(profiles)}",
        **root,
        "$defs": dict(sorted(defs.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compiled", help="the JSON printed by `python -m ocsf.compile <schema repo>`")
    parser.add_argument("class_name")
    parser.add_argument("--profile", action="append", default=[], help="a profile to apply (repeat)")
    parser.add_argument("--version", help="the OCSF version to name in $id (default: the schema's)")
    args = parser.parse_args()
    with open(args.compiled, encoding="utf-8") as handle:
        schema = json.load(handle)
    if args.version:
        schema["version"] = args.version
    json.dump(class_json_schema(schema, args.class_name, args.profile), sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
