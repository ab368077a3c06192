"""Progress values must increase (progress.mdx): `ctx.report_progress` refuses a value that does not, and the
client never sees it. Over the in-memory connector, which runs the same session core and runner as stdio."""

from __future__ import annotations

import pytest

from runtime import Client, Context, Server


def make_server() -> Server:
    server = Server("progress-order", "1.0")

    @server.tool()
    async def report(values: list[float], ctx: Context) -> list[str]:
        """Report each value as progress; say which were refused."""
        verdicts = []
        for value in values:
            try:
                await ctx.report_progress(value, 10)
            except ValueError:
                verdicts.append(f"refused {value}")
            else:
                verdicts.append(f"sent {value}")
        return verdicts

    return server


@pytest.mark.parametrize(
    ("values", "verdicts"),
    [
        ([1, 2, 5], ["sent 1", "sent 2", "sent 5"]),  # increasing: all sent
        ([1, 1, 2], ["sent 1", "refused 1", "sent 2"]),  # equal is not an increase
        ([3, 2, 4], ["sent 3", "refused 2", "sent 4"]),  # a step back is refused, later increases still go
    ],
)
async def test_only_increasing_progress_reaches_the_client(values: list[float], verdicts: list[str]) -> None:
    seen: list[float] = []
    async with Client(make_server()) as client:
        result = await client.call_tool(
            "report", {"values": values}, progress=lambda p, total, message: seen.append(p)
        )
    assert result.structured_content == {"result": verdicts}
    assert seen == [float(v.split()[1]) for v in verdicts if v.startswith("sent")]
