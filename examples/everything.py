"""Everything: every feature of the runtime, and every fixture the official conformance suite expects
(tests/test_conformance.py runs the suite against it). `tools/serve` serves it when given no app.
Smaller examples to copy from sit next to it (hello.py, weather.py, progress_and_sampling.py).

    mcprt serve examples/everything.py --stdio     # or: --http 127.0.0.1:8000
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import wave
from typing import Annotated, Any

import msgspec

from runtime import Context, McpError, Server, ToolError, content, url_elicitation_required
from runtime.protocol import types as t

# A 1x1 PNG and a short silent WAV: small, valid media for the content-type fixtures.
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def _silent_wav(samples: int = 800, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * samples)
    return buffer.getvalue()


WAV = _silent_wav()

server = Server(
    "mcprt-demo",
    "0.1.0",
    title="mcprt demo server",
    description="Exercises every MCP feature mcprt implements; also the conformance suite's fixture server.",
    website_url="https://github.com/modelcontextprotocol",
    instructions="A demo server: try the echo and add tools, the test:// resources and the prompts.",
)


# -- everyday examples -------------------------------------------------------------------------------------


@server.tool(annotations=t.ToolAnnotations(read_only_hint=True, idempotent_hint=True))
async def echo(text: str) -> str:
    """Echo the text back."""
    return text


class Sum(msgspec.Struct):
    total: float
    count: int


@server.tool(title="Add numbers")
def add(numbers: Annotated[list[float], msgspec.Meta(description="numbers to add")]) -> Sum:
    """Add numbers; the result is structured (outputSchema + structuredContent)."""
    return Sum(total=sum(numbers), count=len(numbers))


@server.tool(task_support="optional")
async def slow(seconds: float, ctx: Context) -> str:
    """Sleep for `seconds`, reporting progress every 0.1 s; cancellable; may run as a task."""
    steps = max(1, int(seconds * 10))
    for step in range(steps):
        await asyncio.sleep(seconds / steps)
        ctx.report_progress(step + 1, steps, f"step {step + 1} of {steps}")
    return f"slept {seconds} s"


@server.tool(task_support="required")
async def confirm_then_sum(numbers: list[float], ctx: Context) -> str:
    """A long job that must run as a task: asks the user to confirm (the task is input_required meanwhile)."""
    reply = await ctx.elicit(
        f"Sum {len(numbers)} numbers?", {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    )
    if reply.action != "accept" or not (reply.content or {}).get("ok"):
        raise ToolError("not confirmed")
    return f"sum={sum(numbers)}"


@server.tool(annotations=t.ToolAnnotations(read_only_hint=True))
def worker_info() -> dict[str, int]:
    """Which worker process answered (its pid): with `--workers N`, any worker serves any session."""
    return {"pid": os.getpid()}


@server.tool()
def touch_watched_resource() -> str:
    """Publish notifications/resources/updated for test://watched-resource to its subscribers."""
    told = server.resource_updated("test://watched-resource")
    return f"told {told} session(s) in this process"


# -- conformance fixtures: tools ---------------------------------------------------------------------------


@server.tool()
def test_simple_text() -> str:
    """Returns a simple text response."""
    return "This is a simple text response for testing."


@server.tool()
def test_image_content() -> t.ImageContent:
    """Returns a PNG image."""
    return content.image(PNG_1X1, "image/png")


@server.tool()
def test_audio_content() -> t.AudioContent:
    """Returns a WAV audio clip."""
    return content.audio(WAV, "audio/wav")


@server.tool()
def test_embedded_resource() -> t.EmbeddedResource:
    """Returns an embedded text resource."""
    return content.embedded_text("test://embedded-resource", "This is an embedded resource content.")


@server.tool()
def test_multiple_content_types() -> list[Any]:
    """Returns text, an image and an embedded resource together."""
    return [
        content.text("Multiple content types test:"),
        content.image(PNG_1X1, "image/png"),
        t.EmbeddedResource(
            resource=t.TextResourceContents(
                uri="test://mixed-content-resource",
                mime_type="application/json",
                text='{"test": "data", "value": 123}',
            )
        ),
    ]


@server.tool()
async def test_tool_with_logging(ctx: Context) -> str:
    """Sends three log messages 50 ms apart."""
    ctx.info("Tool execution started")
    await asyncio.sleep(0.05)
    ctx.info("Tool processing data")
    await asyncio.sleep(0.05)
    ctx.info("Tool execution completed")
    return "Tool with logging executed successfully"


@server.tool()
async def test_tool_with_progress(ctx: Context) -> str:
    """Reports progress 0, 50 and 100 of 100 on the caller's progress token."""
    for value in (0, 50, 100):
        ctx.report_progress(value, 100, f"Completed step {value} of 100")
        await asyncio.sleep(0.05)
    return str(ctx.progress_token)


@server.tool()
def test_error_handling() -> str:
    """Always fails: the failure is a tool result with isError, not a protocol error."""
    raise ToolError("This tool intentionally returns an error for testing")


JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


@server.tool(name="json_schema_2020_12_tool", input_schema=JSON_SCHEMA_2020_12)
def json_schema_tool(
    name: str | None = None,
    address: dict[str, Any] | None = None,
    contactMethod: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> str:
    """A tool whose input schema uses JSON Schema 2020-12 keywords, kept verbatim."""
    return f"name={name} address={address} contact={contactMethod or 'email'}:{phone or email}"


@server.tool()
async def test_sampling(prompt: str, ctx: Context) -> str:
    """Asks the client's LLM to answer `prompt` (sampling/createMessage)."""
    result = await ctx.sample(prompt, max_tokens=100)
    content = result.content
    text = content.text if isinstance(content, t.TextContent) else str(msgspec.to_builtins(content))
    return f"LLM response: {text}"


@server.tool()
async def test_elicitation(message: str, ctx: Context) -> str:
    """Asks the user for a username and an email (elicitation/create, form mode)."""
    schema = {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    }
    result = await ctx.elicit(message, schema)
    return "User response: " + _describe(result).removeprefix("Elicitation completed: ")


def _describe(result: t.ElicitResult) -> str:
    answers = msgspec.json.encode(result.content).decode()
    return f"Elicitation completed: action={result.action}, content={answers}"


SEP1034_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
    "required": [],
}


@server.tool()
async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
    """Elicitation whose fields all carry defaults (SEP-1034)."""
    result = await ctx.elicit("Please review and update the form fields with defaults", SEP1034_SCHEMA)
    return _describe(result)


SEP1330_SCHEMA = {
    "type": "object",
    "properties": {
        "untitledSingle": {
            "type": "string",
            "description": "Choose one",
            "enum": ["option1", "option2", "option3"],
        },
        "titledSingle": {
            "type": "string",
            "description": "Choose one (titled)",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "description": "Choose one (legacy)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "description": "Choose several",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "description": "Choose several (titled)",
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
    "required": [],
}


@server.tool()
async def test_elicitation_sep1330_enums(ctx: Context) -> str:
    """Elicitation with the five enum variants of SEP-1330."""
    result = await ctx.elicit("Please select options from the enum fields", SEP1330_SCHEMA)
    return _describe(result)


@server.tool()
async def test_reconnection(ctx: Context) -> str:
    """Closes its SSE connection mid-call (server-side polling); the result is replayed after the client
    reconnects with Last-Event-ID."""
    ctx.close_sse_stream()
    await asyncio.sleep(0.2)
    return "Reconnection test completed successfully"


@server.tool()
async def connect_account(ctx: Context) -> str:
    """URL-mode elicitation: send the user to a page (e.g. an OAuth consent), then report completion."""
    reply = await ctx.elicit_url(
        "Connect your account", "https://example.com/connect", elicitation_id="demo-1"
    )
    if reply.action == "accept":
        ctx.elicitation_complete("demo-1")
    return f"connect: {reply.action}"


@server.tool()
def needs_authorization() -> str:
    """Answers -32042: the request cannot go on before the user visits a URL."""
    raise url_elicitation_required(
        [{"message": "Authorize access", "url": "https://example.com/authorize", "elicitationId": "demo-2"}]
    )


@server.tool()
async def list_roots(ctx: Context) -> list[str]:
    """The client's roots (roots/list)."""
    return [root.uri for root in await ctx.list_roots()]


ROOTS_SEEN: dict[int, list[str]] = {}  # session → the roots read after its last roots/list_changed


async def _roots_changed(ctx: Context) -> None:
    if "roots" not in (ctx.client_capabilities or {}):
        return  # a client without roots cannot be asked for them (list_roots would raise in the hook)
    ROOTS_SEEN[id(ctx.session)] = [root.uri for root in await ctx.list_roots()]


server.on_roots_changed = _roots_changed


@server.tool()
def roots_seen(ctx: Context) -> list[str]:
    """The roots this server re-read after the client's last notifications/roots/list_changed."""
    return ROOTS_SEEN.get(id(ctx.session), [])


@server.tool()
async def test_sampling_as_task(prompt: str, ctx: Context) -> str:
    """Like test_sampling, but the client runs the sampling request as a task that the server polls."""
    result = await ctx.sample(prompt, max_tokens=100, as_task=True)
    content = result.content
    text = content.text if isinstance(content, t.TextContent) else str(msgspec.to_builtins(content))
    return f"LLM response (task): {text}"


@server.tool()
async def test_elicitation_as_task(message: str, ctx: Context) -> str:
    """Asks for a name as a task-augmented elicitation/create."""
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    result = await ctx.elicit(message, schema, as_task=True)
    return _describe(result)


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city",
    "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


@server.tool()
async def weather_agent(question: str, ctx: Context) -> str:
    """Sampling with tools: the client's LLM may call get_weather; the server runs it and sends the result
    back in a follow-up sampling request, until the model answers in text (sampling.mdx "Tool Use")."""
    messages: list[Any] = [t.SamplingMessage(role="user", content=t.TextContent(text=question))]
    for _ in range(4):
        result = await ctx.sample(
            messages, max_tokens=200, tools=[WEATHER_TOOL], tool_choice={"mode": "auto"}
        )
        blocks = result.content if isinstance(result.content, list) else [result.content]
        uses = [block for block in blocks if isinstance(block, t.ToolUseContent)]
        if result.stop_reason != "toolUse" or not uses:
            return " ".join(block.text for block in blocks if isinstance(block, t.TextContent))
        messages.append(t.SamplingMessage(role="assistant", content=[*uses]))  # a list of the wider type
        answers: list[t.SamplingMessageContentBlock] = [
            t.ToolResultContent(
                tool_use_id=use.id, content=[t.TextContent(text=f"sunny in {use.input.get('city')}")]
            )
            for use in uses
        ]
        messages.append(t.SamplingMessage(role="user", content=answers))
    return "the model kept calling tools"


# -- MCP 2026-07-28 ----------------------------------------------------------------------------------------
# The handlers below are written once: over a legacy session `ctx.elicit` and friends send a request to the
# client and wait; over a modern request they end the round with an InputRequiredResult, and the client's
# retry runs the handler again with the answers (multi round-trip requests). `key` names each input request.

NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def _answer(result: t.ElicitResult, field: str) -> Any:
    return (result.content or {}).get(field)


def _sampled_text(result: t.CreateMessageResult) -> str:
    blocks = result.content if isinstance(result.content, list) else [result.content]
    return " ".join(block.text for block in blocks if isinstance(block, t.TextContent))


@server.tool()
async def test_input_required_result_elicitation(ctx: Context) -> str:
    """Asks the user's name (one elicitation), then greets them."""
    answer = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    return f"Hello, {_answer(answer, 'name')}!"


@server.tool()
async def test_input_required_result_sampling(ctx: Context) -> str:
    """Asks the client's LLM one question."""
    result = await ctx.sample("What is the capital of France?", max_tokens=100, key="capital_question")
    return f"The model said: {_sampled_text(result)}"


@server.tool()
async def test_input_required_result_list_roots(ctx: Context) -> str:
    """Lists the client's roots."""
    roots = await ctx.list_roots(key="client_roots")
    return "Roots: " + ", ".join(root.uri for root in roots)


@server.tool()
async def test_input_required_result_request_state(ctx: Context) -> str:
    """Keeps a value across rounds (`ctx.round_state`, sealed into the requestState) and checks it."""
    ctx.round_state.setdefault("asked_at_round", 1)
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    answer = await ctx.elicit("Please confirm", schema, key="confirm")
    kept = ctx.round_state.get("asked_at_round") == 1
    return f"{'state-ok' if kept else 'state-lost'}: confirmed={_answer(answer, 'ok')}"


@server.tool()
async def test_input_required_result_tampered_state(ctx: Context) -> str:
    """Like the request-state fixture: a tampered requestState is refused before the handler runs."""
    answer = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    return f"Hello, {_answer(answer, 'name')}!"


@server.tool()
async def test_input_required_result_multiple_inputs(ctx: Context) -> str:
    """Asks for three things at once: requests started together go in one InputRequiredResult."""
    name, greeting, roots = await asyncio.gather(
        ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name"),
        ctx.sample("Generate a greeting", max_tokens=50, key="greeting"),
        ctx.list_roots(key="client_roots"),
    )
    return f"{_sampled_text(greeting)} {_answer(name, 'name')} ({len(roots)} roots)"


@server.tool()
async def test_input_required_result_multi_round(ctx: Context) -> str:
    """Two rounds, one question each."""
    name = await ctx.elicit("Step 1: What is your name?", NAME_SCHEMA, key="step1")
    colour_schema = {"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]}
    colour = await ctx.elicit("Step 2: What is your favorite color?", colour_schema, key="step2")
    return f"{_answer(name, 'name')} likes {_answer(colour, 'color')}"


@server.tool()
async def test_input_required_result_capabilities(ctx: Context) -> str:
    """Asks only for what the client declared it can answer."""
    asks: list[Any] = []
    if "sampling" in ctx.client_capabilities:
        asks.append(ctx.sample("Say hello", max_tokens=20, key="sample"))
    if "elicitation" in ctx.client_capabilities:
        asks.append(ctx.elicit("What is your name?", NAME_SCHEMA, key="elicit"))
    answers = await asyncio.gather(*asks)
    return f"answered {len(answers)} input request(s)"


@server.prompt()
async def test_input_required_result_prompt(ctx: Context) -> str:
    """A prompt that asks the user for its context first."""
    schema = {"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]}
    answer = await ctx.elicit("What context should the prompt use?", schema, key="user_context")
    return f"Use this context: {_answer(answer, 'context')}"


@server.tool()
async def test_missing_capability(ctx: Context) -> str:
    """Needs sampling: a client that did not declare it gets MissingRequiredClientCapabilityError."""
    result = await ctx.sample("Hello", max_tokens=10)
    return _sampled_text(result)


@server.tool()
async def test_streaming_elicitation(ctx: Context) -> str:
    """Elicits while its response streams: the stream carries notifications and the result only."""
    await ctx.report_progress(0, 1, "asking")
    answer = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    return f"Hello, {_answer(answer, 'name')}!"


@server.tool()
async def test_logging_tool(ctx: Context) -> str:
    """Logs at every level; a modern request that names no logLevel gets none of it."""
    for level in ("debug", "info", "warning", "error"):
        await ctx.log(level, f"a {level} message")
    return "logged"


def _changing() -> str:
    """A tool that comes and goes."""
    return "here"


@server.tool()
def test_trigger_tool_change() -> str:
    """Changes the tools list (a tool comes and goes again, so that every worker keeps the same list):
    listeners hear notifications/tools/list_changed."""
    server.add_tool(_changing, name="test_changing_tool")
    server.remove_tool("test_changing_tool")
    return "the tools list changed"


def _changing_prompt() -> str:
    """A prompt that comes and goes."""
    return "A prompt that comes and goes."


@server.tool()
def test_trigger_prompt_change() -> str:
    """Changes the prompts list (a prompt comes and goes again): listeners hear
    notifications/prompts/list_changed."""
    server.prompt(name="test_changing_prompt")(_changing_prompt)
    server.remove_prompt("test_changing_prompt")
    return "the prompts list changed"


@server.tool(
    input_schema={
        "type": "object",
        "properties": {
            "region": {"type": "string", "description": "Where to run", "x-mcp-header": "Region"},
            "query": {"type": "string", "description": "What to run"},
        },
        "required": ["region", "query"],
    }
)
def test_custom_header(region: str, query: str) -> str:
    """A tool whose `region` is mirrored in the Mcp-Param-Region header (2026-07-28 x-mcp-header)."""
    return f"ran {query!r} in {region}"


# The tasks extension of 2026-07-28 (io.modelcontextprotocol/tasks): a tool registered with task support runs
# as a task when the request declares the extension; tasks/get polls it.


@server.tool()
def greet(name: str) -> str:
    """Greets someone (never a task)."""
    return f"Hello, {name}!"


@server.tool(task_support="optional")
async def slow_compute(seconds: float, label: str = "") -> str:
    """Sleeps `seconds`, then answers; runs as a task when the client allows it."""
    await asyncio.sleep(seconds)
    return f"computed {label or 'it'} in {seconds} s"


@server.tool(task_support="required")
async def failing_job() -> str:
    """A task whose tool reports an error after a second (the task completes, with isError)."""
    await asyncio.sleep(1)
    raise ToolError("the job failed")


@server.tool(task_support="optional")
async def protocol_error_job() -> str:
    """A task that fails with a protocol error (the task fails, with the error)."""
    await asyncio.sleep(0.2)
    raise McpError(-32603, "the job broke")


@server.tool(task_support="optional")
async def confirm_delete(filename: str, ctx: Context) -> str:
    """Asks the user to confirm, then "deletes" the file (the task waits in input_required)."""
    schema = {"type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}
    answer = await ctx.elicit(f"Delete {filename}?", schema)
    return f"deleted {filename}" if _answer(answer, "confirm") else f"kept {filename}"


@server.tool(task_support="optional")
async def multi_input(ctx: Context) -> str:
    """Asks two things at once (two input requests pending together)."""
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    first, second = await asyncio.gather(
        ctx.elicit("First name?", schema, key="first"), ctx.elicit("Second name?", schema, key="second")
    )
    return f"{_answer(first, 'name')} and {_answer(second, 'name')}"


@server.tool(task_support="required", defer_task=True)
async def test_tool_with_task(ctx: Context) -> str:
    """Asks the user's name first (multi round-trip rounds), then goes on as a task."""
    answer = await ctx.elicit("What is your name?", NAME_SCHEMA, key="user_name")
    await ctx.start_task()  # the client gets a CreateTaskResult now, and polls tasks/get
    await asyncio.sleep(0.2)
    return f"Hello, {_answer(answer, 'name')}, from a task"


# -- resources ---------------------------------------------------------------------------------------------


@server.resource("test://static-text", name="Static Text Resource", mime_type="text/plain")
def static_text() -> str:
    """A static text resource."""
    return "This is the content of the static text resource."


@server.resource("test://static-binary", name="Static Binary Resource", mime_type="image/png")
def static_binary() -> bytes:
    """A static binary resource (a PNG image)."""
    return PNG_1X1


@server.resource("test://template/{id}/data", name="Resource Template", mime_type="application/json")
def template_data(id: str) -> str:
    """Data for any id."""
    return msgspec.json.encode({"id": id, "templateTest": True, "data": f"Data for ID: {id}"}).decode()


@server.resource("test://watched-resource", name="Watched Resource", mime_type="text/plain")
def watched() -> str:
    """A resource clients can subscribe to."""
    return "Watched resource content"


# -- prompts -----------------------------------------------------------------------------------------------


@server.prompt()
def test_simple_prompt() -> str:
    """A simple prompt without arguments."""
    return "This is a simple prompt for testing."


@server.prompt()
def test_prompt_with_arguments(
    arg1: Annotated[str, msgspec.Meta(description="First test argument")],
    arg2: Annotated[str, msgspec.Meta(description="Second test argument")],
) -> str:
    """A prompt with required arguments."""
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@server.prompt()
def test_prompt_with_embedded_resource(
    resourceUri: Annotated[str, msgspec.Meta(description="URI of the resource to embed")],
) -> list[Any]:
    """A prompt that embeds a resource."""
    return [
        t.PromptMessage(
            role="user",
            content=t.EmbeddedResource(
                resource=t.TextResourceContents(
                    uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
                )
            ),
        ),
        "Please process the embedded resource above.",
    ]


@server.prompt()
def test_prompt_with_image() -> list[Any]:
    """A prompt that includes an image."""
    return [
        t.PromptMessage(role="user", content=content.image(PNG_1X1, "image/png")),
        "Please analyze the image above.",
    ]


# -- completion --------------------------------------------------------------------------------------------

_COLOURS = ["red", "green", "blue", "cyan", "magenta", "yellow"]


@server.completion(prompt="test_prompt_with_arguments", argument="arg1")
def complete_arg1(value: str) -> list[str]:
    return [c for c in _COLOURS if c.startswith(value)]


@server.completion(resource="test://template/{id}/data", argument="id")
def complete_id(value: str) -> list[str]:
    return [str(i) for i in range(1, 200) if str(i).startswith(value)]
