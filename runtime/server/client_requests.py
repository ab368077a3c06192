"""Requests a server sends to its client (sampling, elicitation, roots): building them, checking that the
client declared the capability, and reading the answer. `Context` exposes them to handlers."""

from __future__ import annotations

from typing import Any

import msgspec

from runtime.protocol import types as t
from runtime.protocol.jsonrpc import MISSING_CLIENT_CAPABILITY, McpError
from runtime.protocol.state import SessionState
from runtime.protocol.versions import revision
from runtime.server.failures import ToolError
from runtime.server.signature import root_schema

# How long a server waits for its client by default: sampling and elicitation may wait for a human.
DEFAULT_CLIENT_TIMEOUT = 300.0


class ClientCapabilityError(ToolError):
    """The client did not declare the capability this request needs, so it is not sent (lifecycle.mdx:
    "use only negotiated capabilities")."""


class ClientRequestError(ToolError):
    """The client answered a server-to-client request with an error (e.g. the user rejected sampling).
    Unhandled in a tool, it becomes an `isError` result the model can read."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


def require(state: SessionState, capability: str, sub: str | None = None, what: str = "") -> None:
    if not state.client_supports(capability, sub):
        needed = f"{capability}.{sub}" if sub else capability
        message = f"the client did not declare the '{needed}' capability needed for {what}"
        raise missing(state, capability, sub, message)


def missing(state: SessionState, capability: str, sub: str | None, message: str) -> Exception:
    """The refusal of a request the client's capabilities do not allow: over a modern (2026-07-28) request
    the protocol's MissingRequiredClientCapabilityError, naming what is missing (basic/index.mdx `_meta`);
    over a legacy session an error the tool reports as its result."""
    if revision(state.protocol_version).stateful:
        return ClientCapabilityError(message)
    required: dict[str, Any] = {capability: {sub: {}} if sub else {}}
    return McpError(MISSING_CLIENT_CAPABILITY, message, {"requiredCapabilities": required})


def require_revision(state: SessionState, has: bool, what: str) -> None:
    """The session's negotiated revision must have the feature (a client may not declare what its revision
    lacks, and one that does is not believed)."""
    if not has:
        version = state.protocol_version
        raise ClientCapabilityError(f"{what} is not part of MCP {version}, which this session speaks")


# The client-side requests that may be task-augmented, and where the client declares it (tasks.mdx).
TASK_CAPABLE = {
    "sampling/createMessage": ("sampling", "createMessage"),
    "elicitation/create": ("elicitation", "create"),
}


def require_task_support(state: SessionState, method: str) -> None:
    """The client must declare tasks.requests.<category>.<request> before a request is task-augmented."""
    require_revision(state, revision(state.protocol_version).has_tasks, "a task-augmented request")
    category, request = TASK_CAPABLE.get(method, ("", ""))
    tasks = state.client_capabilities.get("tasks")
    requests = tasks.get("requests") if isinstance(tasks, dict) else None
    declared = requests.get(category) if isinstance(requests, dict) else None
    if not isinstance(declared, dict) or request not in declared:
        needed = f"tasks.requests.{category or method}.{request or '?'}"
        raise ClientCapabilityError(f"the client did not declare the '{needed}' capability needed for a task")


def sampling_params(
    state: SessionState,
    messages: str | list[Any],
    *,
    max_tokens: int,
    system_prompt: str | None,
    temperature: float | None,
    stop_sequences: list[str] | None,
    model_preferences: t.ModelPreferences | dict[str, Any] | None,
    include_context: str | None,
    metadata: dict[str, Any] | None,
    tools: list[t.Tool] | list[dict[str, Any]] | None,
    tool_choice: t.ToolChoice | dict[str, Any] | None,
) -> dict[str, Any]:
    require(state, "sampling", what="sampling/createMessage")
    if tools is not None or tool_choice is not None:
        require_revision(state, revision(state.protocol_version).has_sampling_tools, "tool use in sampling")
        require(state, "sampling", "tools", "tool use in sampling")
    if include_context not in (None, "none"):
        require(state, "sampling", "context", f"includeContext={include_context!r}")
    if isinstance(messages, str):
        messages = [t.SamplingMessage(role="user", content=t.TextContent(text=messages))]
    params: dict[str, Any] = {"messages": msgspec.to_builtins(messages), "maxTokens": max_tokens}
    optional = {
        "systemPrompt": system_prompt,
        "temperature": temperature,
        "stopSequences": stop_sequences,
        "modelPreferences": model_preferences,
        "includeContext": include_context,
        "metadata": metadata,
        "tools": tools,
        "toolChoice": tool_choice,
    }
    params.update({k: msgspec.to_builtins(v) for k, v in optional.items() if v is not None})
    return params


def form_elicitation_params(
    state: SessionState, message: str, schema: dict[str, Any] | type
) -> dict[str, Any]:
    rev = revision(state.protocol_version)
    require_revision(state, rev.has_elicitation, "elicitation")
    elicitation = state.client_capabilities.get("elicitation")
    # `elicitation: {}` means form mode (elicitation.mdx, backwards compatibility).
    if elicitation is None or (elicitation and "form" not in elicitation):
        message = "the client did not declare the 'elicitation.form' capability"
        raise missing(state, "elicitation", "form", message)
    requested = schema if isinstance(schema, dict) else root_schema(schema)
    if not rev.has_url_elicitation:  # before modes existed: form mode, unnamed
        return {"message": message, "requestedSchema": requested}
    return {"mode": "form", "message": message, "requestedSchema": requested}


def url_elicitation_params(
    state: SessionState, message: str, url: str, elicitation_id: str
) -> dict[str, Any]:
    require_revision(state, revision(state.protocol_version).has_url_elicitation, "URL-mode elicitation")
    require(state, "elicitation", "url", "URL-mode elicitation")
    return {"mode": "url", "message": message, "url": url, "elicitationId": elicitation_id}


def url_elicitation_required(elicitations: list[dict[str, Any]], message: str = "") -> Any:
    """The -32042 error a request answers with when it cannot go on before the user visits URL(s)."""
    from runtime.protocol.jsonrpc import URL_ELICITATION_REQUIRED, McpError

    return McpError(
        URL_ELICITATION_REQUIRED,
        message or "This request requires more information.",
        {"elicitations": [{"mode": "url", **e} for e in elicitations]},
    )
