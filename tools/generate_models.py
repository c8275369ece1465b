"""Generate the SDK's pydantic models from openapi.yaml, with datamodel-code-generator.

    python tools/generate_models.py [OUTPUT]

writes python-client/src/cyme/types/_generated.py (or OUTPUT; `-` for stdout).

datamodel-code-generator writes the models. This wrapper holds what the SDK
asks of it, which no single command line says:

- its options (`OPTIONS`): every model derives from `CymeModel`, so that
  models read like dicts (`stats["pool"]["processes"]`); enums are
  `Literal`s; descriptions become docstrings; a nested object is a model
  named after its parent (`StatsPool`); a schema that is a string or a map
  (`Name`, `ExtraConfig`) is the type of its fields, not a model of its own;
- the schemas it reads: a lenient copy of the spec's (`lenient`). The spec
  says what the branch accepts, with patterns, lengths and bounds, and which
  request bodies refuse unknown keys. An SDK that checked the branch's
  answers against those would break the day a branch relaxed a limit or
  added a field; so the models keep the types and leave the checks to the
  branch, ignore unknown keys except where a schema keeps them
  (`additionalProperties: true`, extra='allow'), and so read the answers of
  newer branches as the models before them did;
- ruff, so that the output passes `ruff check` and `ruff format --check` as
  it is committed;
- the header, which records the spec's sha256 for the drift gate
  (tools/check_generated.py).
"""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from python_format import ruff_clean

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi.yaml"
OUTPUT = ROOT / "python-client" / "src" / "cyme" / "types" / "_generated.py"

OPTIONS = [
    *("--input-file-type", "openapi", "--output-model-type", "pydantic_v2.BaseModel"),
    *("--target-python-version", "3.10", "--target-pydantic-version", "2"),
    *("--base-class", "cyme.types._base.CymeModel"),
    *("--enum-field-as-literal", "all"),
    *("--use-schema-description", "--use-field-description", "--use-single-line-docstring"),
    *("--collapse-root-models", "--naming-strategy", "full-path"),
    *("--use-standard-collections", "--use-union-operator", "--use-double-quotes"),
    *("--disable-timestamp", "--no-formatters", "--ignore-pyproject"),
]

# What a schema says about valid values rather than about their type.
CHECKS = {
    *("pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum"),
    *("exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems"),
    *("minProperties", "maxProperties", "propertyNames", "const", "not"),
    # Not checks, but noise in the models (`Field(examples=...)`).
    *("examples", "example"),
}


def _lenient_node(node: Any, schemas: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_lenient_node(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _lenient_node(value, schemas) for key, value in node.items() if key not in CHECKS}
    extra = node.get("additionalProperties")
    if extra is False:
        # The branch refuses unknown keys in a request; the SDK reads answers.
        del node["additionalProperties"]
    elif extra is True and "properties" not in node:
        # A map of anything: a dict, not a model without fields.
        node["additionalProperties"] = {}
    if isinstance(node.get("description"), str):
        # YAML's `|` blocks end with a newline, which would end each docstring
        # with a blank line.
        node["description"] = node["description"].strip()
    if set(node) == {"$ref"}:
        # The generator drops the description of a map schema (ExtraConfig)
        # where a field uses it; give the field its own copy.
        target = schemas.get(node["$ref"].rsplit("/", 1)[-1], {})
        if "description" in target:
            node["description"] = target["description"].strip()
    if "allOf" in node:
        node["allOf"] = [part for part in node["allOf"] if part]  # parts left empty
    return node


def lenient(spec: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI document of the spec's component schemas, without their checks.

    Also left out: the schemas that are not objects and that no schema uses
    (AppName, a path parameter's), which would be models of their own.
    """
    schemas = spec["components"]["schemas"]
    text = json.dumps(schemas)
    used = {
        name: schema
        for name, schema in schemas.items()
        if schema.get("type") == "object" or f'"#/components/schemas/{name}"' in text
    }
    return {
        "openapi": spec["openapi"],
        "info": copy.deepcopy(spec["info"]),
        "paths": {},
        "components": {"schemas": _lenient_node(used, schemas)},
    }


def generate(spec_path: Path = SPEC) -> str:
    """The text of `_generated.py` for the spec at `spec_path`."""
    raw = spec_path.read_bytes()
    header = "\n".join(
        [
            "# Generated from openapi.yaml by datamodel-code-generator (tools/generate_models.py);",
            "# do not edit.",
            f"# openapi.yaml sha256: {hashlib.sha256(raw).hexdigest()}",
            '"""Models of the component schemas of openapi.yaml."""',
        ]
    )
    argv = [sys.executable, "-m", "datamodel_code_generator", *OPTIONS]
    done = subprocess.run(
        [*argv, "--custom-file-header", header],
        input=json.dumps(lenient(yaml.safe_load(raw))),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"datamodel-code-generator failed:\n{done.stderr}")
    return ruff_clean(done.stdout, OUTPUT)


def main(argv: list[str]) -> int:
    code = generate()
    target = argv[1] if len(argv) > 1 else str(OUTPUT)
    if target == "-":
        sys.stdout.write(code)
    else:
        Path(target).write_text(code, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
