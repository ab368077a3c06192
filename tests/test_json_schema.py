"""Hand-written tool schemas are JSON Schema 2020-12 (the MCP default dialect) unless `$schema` says
otherwise: the official JSON-Schema-Test-Suite (draft2020-12, as shipped in the `jsonschema` sdist) through
the validator tools compile, and 2020-12 keywords through a real tools/call."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from runtime.server.tools import ToolSpec, compile_validator

pytestmark = pytest.mark.timeout(300)
# Cached in the virtualenv, so the sdist is downloaded once per environment.
CACHE = Path(sys.prefix) / "cache" / "json-schema-test-suite"
REMOTE = "localhost:1234"  # the suite's remote-ref server


def suite_dir() -> Path:
    target = CACHE / "draft2020-12"
    if target.is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    download = CACHE / "sdist"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", "jsonschema",
         "-d", str(download)],
        check=True,
        timeout=240,
    )
    sdist = next(download.glob("jsonschema-*.tar.gz"))
    partial = CACHE / "draft2020-12.partial"
    partial.mkdir(exist_ok=True)
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            parts = Path(member.name).parts
            if member.isfile() and parts[1:4] == ("json", "tests", "draft2020-12"):
                out = partial.joinpath(*parts[4:])
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(archive.extractfile(member).read())  # type: ignore[union-attr]
    partial.rename(target)
    return target


def run_case(schema: Any, data: Any) -> bool:
    validate = compile_validator(schema)
    try:
        validate(data)
    except Exception:
        return False
    return True


def test_official_test_suite_draft2020_12() -> None:
    root = suite_dir()
    files = sorted(root.glob("*.json"))
    # optional/: format assertions (format-assertion*.json, format/) need the format-assertion
    # vocabulary, which 2020-12 leaves off by default; the rest of optional/ runs like the required part.
    files += sorted(p for p in (root / "optional").glob("*.json") if not p.name.startswith("format"))
    assert len(files) > 40
    passed, skipped, failures = 0, 0, []
    for path in files:
        for group in json.loads(path.read_text()):
            if REMOTE in json.dumps(group["schema"]):
                # Remote $refs: the suite serves them over the network; tool schemas are compiled offline
                # (a server never fetches a $ref), so these cases cannot apply.
                skipped += len(group["tests"])
                continue
            for case in group["tests"]:
                if run_case(group["schema"], case["data"]) == case["valid"]:
                    passed += 1
                else:
                    failures.append(f"{path.relative_to(root)}: {group['description']} / {case['description']}")
    assert not failures, "\n".join(failures)
    assert passed > 1000 and skipped < 100


def spec(schema: dict[str, Any], output: dict[str, Any] | None = None) -> ToolSpec:
    async def tool(**kwargs: Any) -> Any:
        return kwargs

    return ToolSpec(tool, object, name="t", input_schema=schema, output_schema=output)


def accepts(tool: ToolSpec, arguments: dict[str, Any]) -> bool:
    try:
        tool.bind(arguments)
    except Exception:
        return False
    return True


def test_2020_12_keywords_in_tool_schemas() -> None:
    obj = {"type": "object"}
    prefix = spec({**obj, "properties": {"p": {"type": "array", "prefixItems": [{"type": "integer"}]}}})
    assert accepts(prefix, {"p": [1, "x"]}) and not accepts(prefix, {"p": ["x"]})
    required = spec({**obj, "dependentRequired": {"a": ["b"]}})
    assert accepts(required, {"a": 1, "b": 2}) and not accepts(required, {"a": 1})
    schemas = spec({**obj, "dependentSchemas": {"a": {"required": ["c"]}}})
    assert not accepts(schemas, {"a": 1})
    closed = spec({**obj, "properties": {"a": {}}, "unevaluatedProperties": False})
    assert accepts(closed, {"a": 1}) and not accepts(closed, {"a": 1, "z": 2})
    contains = spec({**obj, "properties": {"l": {"contains": {"type": "integer"}, "minContains": 2}}})
    assert accepts(contains, {"l": [1, 2]}) and not accepts(contains, {"l": [1, "x"]})
    anchored = spec(
        {**obj, "$defs": {"n": {"$anchor": "num", "type": "number"}}, "properties": {"n": {"$ref": "#num"}}}
    )
    assert accepts(anchored, {"n": 1}) and not accepts(anchored, {"n": "x"})
    dynamic = spec(
        {
            **obj,
            "$id": "https://example.com/root",
            "$dynamicAnchor": "node",
            "properties": {"child": {"$dynamicRef": "#node"}, "v": {"type": "integer"}},
        }
    )
    assert accepts(dynamic, {"child": {"v": 1}}) and not accepts(dynamic, {"child": {"v": "x"}})


def test_schema_keyword_selects_the_draft() -> None:
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "properties": {"p": {"items": [{"type": "integer"}]}}}
    assert not accepts(spec(draft7), {"p": ["x"]})  # draft-07 array-form items
    with pytest.raises(ValueError, match="dialect"):
        spec({"$schema": "https://example.com/mine", "type": "object"})


def test_invalid_arguments_say_where() -> None:
    tool = spec({"type": "object", "properties": {"n": {"type": "integer"}}})
    with pytest.raises(Exception) as caught:
        tool.bind({"n": "x"})
    assert "at /n" in tool.arguments_error(caught.value)
