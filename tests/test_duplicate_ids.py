"""One worker serves a request id once per session while it is in flight (basic/index.mdx), whichever way
the call runs: a plain awaiting tool (no Context) and a tool taking a Context, from two connections of one
session. (tests/test_cluster_inflight.py checks the same across two workers.)"""

from __future__ import annotations

import pytest

from tests.cluster_support import Conn, answer, send, start_session
from tests.conftest import ROOT, RunningServer

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("app", "tool", "text"),
    [
        (str(ROOT / "tests" / "apps" / "waits.py"), "nap", "napped 1.0 s"),  # plain awaiting tool
        (None, "slow", "slept 1.0 s"),  # a tool with a Context (the everything example)
    ],
)
def test_the_same_id_from_two_connections_is_served_once(app: str | None, tool: str, text: str) -> None:
    server = RunningServer(app=app)
    try:
        session = start_session(server.port)
        first, second = Conn(server.port, session), Conn(server.port, session)
        call = {"jsonrpc": "2.0", "id": 5, "method": "tools/call"}
        call["params"] = {"name": tool, "arguments": {"seconds": 1.0}}
        send(first, call)
        send(second, call)
        replies = [answer(first), answer(second)]
        served = [r for r in replies if "result" in r]
        assert [r["result"]["content"][0]["text"] for r in served] == [text], replies
        refused = next(r for r in replies if "result" not in r)
        assert refused["id"] == 5 and refused["error"]["code"] == -32600, replies
        # Answered, the id is free again.
        send(second, call)
        assert "result" in answer(second)
    finally:
        server.stop()
