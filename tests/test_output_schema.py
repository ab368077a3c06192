"""tools.mdx: a tool with an output schema MUST return structured results that conform to it; one that does
not gets an error result (the model sees why), not bad data."""

from __future__ import annotations

from typing import Any

import msgspec

from runtime.protocol import types as t
from runtime.server.tools import ToolSpec

SCHEMA = {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]}


def tool(returns: Any, output_schema: dict[str, Any] | None = SCHEMA) -> ToolSpec:
    async def fn() -> Any:
        return returns

    return ToolSpec(fn, object, name="sum", output_schema=output_schema)


def result_of(spec: ToolSpec, value: Any) -> dict[str, Any]:
    result = spec.result(value)
    return msgspec.json.decode(result if isinstance(result, bytes) else msgspec.json.encode(result))


def test_conforming_result_passes() -> None:
    out = result_of(tool(None), {"total": 3})
    assert out["structuredContent"] == {"total": 3} and not out.get("isError")


def test_non_conforming_result_is_an_error_result() -> None:
    out = result_of(tool(None), {"total": "three"})
    assert out["isError"] is True and "structuredContent" not in out
    assert "does not match its output schema" in out["content"][0]["text"]
    assert "at /total" in out["content"][0]["text"]


def test_missing_structured_content_is_an_error_result() -> None:
    assert result_of(tool(None), "just text")["isError"] is True
    explicit = t.CallToolResult(content=[t.TextContent(text="x")])
    assert result_of(tool(None), explicit)["isError"] is True
    wrong = t.CallToolResult(content=[], structured_content={"total": None})
    assert result_of(tool(None), wrong)["isError"] is True


def test_error_results_are_not_checked() -> None:
    failed = t.CallToolResult(content=[t.TextContent(text="boom")], is_error=True)
    assert result_of(tool(None), failed)["content"][0]["text"] == "boom"


def test_derived_output_schema_is_enforced() -> None:
    async def count() -> int:
        return "not a number"  # type: ignore[return-value]

    spec = ToolSpec(count, object, name="count")
    assert result_of(spec, "not a number")["isError"] is True
    assert result_of(spec, 3)["structuredContent"] == {"result": 3}
