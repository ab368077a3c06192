"""MCP 2025-11-25 wire types, generated from schema.json by tools/gen_types.py. Do not edit."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

LATEST_PROTOCOL_VERSION = "2025-11-25"


class _Base(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


Cursor = str
LoggingLevel = Literal["alert", "critical", "debug", "emergency", "error", "info", "notice", "warning"]
ProgressToken = str | int
RequestId = str | int
Role = Literal["assistant", "user"]
TaskStatus = Literal["cancelled", "completed", "failed", "input_required", "working"]


class Annotations(_Base, kw_only=True):
    """Optional annotations for the client. The client can use annotations to inform how objects are used
    or displayed
    """

    audience: list[Role] | None = None
    last_modified: str | None = msgspec.field(default=None, name="lastModified")
    priority: float | None = None


class AudioContent(_Base, kw_only=True, tag_field="type", tag="audio"):
    """Audio provided to or from an LLM."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    data: str
    mime_type: str = msgspec.field(name="mimeType")


class BaseMetadata(_Base, kw_only=True):
    """Base interface for metadata with name (identifier) and title (display name) properties."""

    name: str
    title: str | None = None


class BlobResourceContents(_Base, kw_only=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    blob: str
    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    uri: str


class BooleanSchema(_Base, kw_only=True, tag_field="type", tag="boolean"):
    default: bool | None = None
    description: str | None = None
    title: str | None = None


class CallToolRequest(_Base, kw_only=True, tag_field="method", tag="tools/call"):
    """Used by the client to invoke a tool provided by the server."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: CallToolRequestParams


class CallToolRequestParams(_Base, kw_only=True):
    """Parameters for a `tools/call` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    arguments: dict[str, Any] | None = None
    name: str
    task: TaskMetadata | None = None


class CallToolResult(_Base, kw_only=True):
    """The server's response to a tool call."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    content: list[ContentBlock]
    is_error: bool | None = msgspec.field(default=None, name="isError")
    structured_content: dict[str, Any] | None = msgspec.field(default=None, name="structuredContent")


class CancelTaskRequestParams(_Base, kw_only=True):
    task_id: str = msgspec.field(name="taskId")


class CancelTaskRequest(_Base, kw_only=True, tag_field="method", tag="tasks/cancel"):
    """A request to cancel a task."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: CancelTaskRequestParams


class CancelTaskResult(_Base, kw_only=True):
    """The response to a tasks/cancel request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    created_at: str = msgspec.field(name="createdAt")
    last_updated_at: str = msgspec.field(name="lastUpdatedAt")
    poll_interval: int | None = msgspec.field(default=None, name="pollInterval")
    status: TaskStatus
    status_message: str | None = msgspec.field(default=None, name="statusMessage")
    task_id: str = msgspec.field(name="taskId")
    ttl: int | None


class CancelledNotification(_Base, kw_only=True, tag_field="method", tag="notifications/cancelled"):
    """This notification can be sent by either side to indicate that it is cancelling a previously-issued
    request.
    """

    jsonrpc: Literal["2.0"]
    params: CancelledNotificationParams


class CancelledNotificationParams(_Base, kw_only=True):
    """Parameters for a `notifications/cancelled` notification."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    reason: str | None = None
    request_id: RequestId | None = msgspec.field(default=None, name="requestId")


class ClientCapabilitiesElicitation(_Base, kw_only=True):
    """Present if the client supports elicitation from the server."""

    form: dict[str, Any] | None = None
    url: dict[str, Any] | None = None


class ClientCapabilitiesRoots(_Base, kw_only=True):
    """Present if the client supports listing roots."""

    list_changed: bool | None = msgspec.field(default=None, name="listChanged")


class ClientCapabilitiesSampling(_Base, kw_only=True):
    """Present if the client supports sampling from an LLM."""

    context: dict[str, Any] | None = None
    tools: dict[str, Any] | None = None


class ClientCapabilitiesTasksRequestsElicitation(_Base, kw_only=True):
    """Task support for elicitation-related requests."""

    create: dict[str, Any] | None = None


class ClientCapabilitiesTasksRequestsSampling(_Base, kw_only=True):
    """Task support for sampling-related requests."""

    create_message: dict[str, Any] | None = msgspec.field(default=None, name="createMessage")


class ClientCapabilitiesTasksRequests(_Base, kw_only=True):
    """Specifies which request types can be augmented with tasks."""

    elicitation: ClientCapabilitiesTasksRequestsElicitation | None = None
    sampling: ClientCapabilitiesTasksRequestsSampling | None = None


class ClientCapabilitiesTasks(_Base, kw_only=True):
    """Present if the client supports task-augmented requests."""

    cancel: dict[str, Any] | None = None
    list: dict[str, Any] | None = None
    requests: ClientCapabilitiesTasksRequests | None = None


class ClientCapabilities(_Base, kw_only=True):
    """Capabilities a client may support. Known capabilities are defined here, in this schema, but this is
    not a closed set: any client can define its own, additional capabilities.
    """

    elicitation: ClientCapabilitiesElicitation | None = None
    experimental: dict[str, Any] | None = None
    roots: ClientCapabilitiesRoots | None = None
    sampling: ClientCapabilitiesSampling | None = None
    tasks: ClientCapabilitiesTasks | None = None


class CompleteRequest(_Base, kw_only=True, tag_field="method", tag="completion/complete"):
    """A request from the client to the server, to ask for completion options."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: CompleteRequestParams


class CompleteRequestParamsArgument(_Base, kw_only=True):
    """The argument's information"""

    name: str
    value: str


class CompleteRequestParamsContext(_Base, kw_only=True):
    """Additional, optional context for completions"""

    arguments: dict[str, Any] | None = None


class CompleteRequestParams(_Base, kw_only=True):
    """Parameters for a `completion/complete` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    argument: CompleteRequestParamsArgument
    context: CompleteRequestParamsContext | None = None
    ref: CompleteRequestParamsRef


class CompleteResultCompletion(_Base, kw_only=True):
    has_more: bool | None = msgspec.field(default=None, name="hasMore")
    total: int | None = None
    values: list[str]


class CompleteResult(_Base, kw_only=True):
    """The server's response to a completion/complete request"""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    completion: CompleteResultCompletion


class CreateMessageRequest(_Base, kw_only=True, tag_field="method", tag="sampling/createMessage"):
    """A request from the server to sample an LLM via the client. The client has full discretion over which
    model to select. The client should also inform the user before beginning sampling, to allow them to
    inspect the request (human in the loop) and decide whether to approve it.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: CreateMessageRequestParams


class CreateMessageRequestParams(_Base, kw_only=True):
    """Parameters for a `sampling/createMessage` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    include_context: Literal["allServers", "none", "thisServer"] | None = msgspec.field(
        default=None, name="includeContext"
    )
    max_tokens: int = msgspec.field(name="maxTokens")
    messages: list[SamplingMessage]
    metadata: dict[str, Any] | None = None
    model_preferences: ModelPreferences | None = msgspec.field(default=None, name="modelPreferences")
    stop_sequences: list[str] | None = msgspec.field(default=None, name="stopSequences")
    system_prompt: str | None = msgspec.field(default=None, name="systemPrompt")
    task: TaskMetadata | None = None
    temperature: float | None = None
    tool_choice: ToolChoice | None = msgspec.field(default=None, name="toolChoice")
    tools: list[Tool] | None = None


class CreateMessageResult(_Base, kw_only=True):
    """The client's response to a sampling/createMessage request from the server. The client should inform
    the user before returning the sampled message, to allow them to inspect the response (human in the
    loop) and decide whether to allow the server to see it.
    """

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    content: (
        TextContent
        | ImageContent
        | AudioContent
        | ToolUseContent
        | ToolResultContent
        | list[SamplingMessageContentBlock]
    )
    model: str
    role: Role
    stop_reason: str | None = msgspec.field(default=None, name="stopReason")


class CreateTaskResult(_Base, kw_only=True):
    """A response to a task-augmented request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    task: Task


class ElicitRequest(_Base, kw_only=True, tag_field="method", tag="elicitation/create"):
    """A request from the server to elicit additional information from the user via the client."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: ElicitRequestParams


class ElicitRequestFormParams(_Base, kw_only=True):
    """The parameters for a request to elicit non-sensitive information from the user via a form in the
    client.
    """

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    message: str
    mode: Literal["form"] | None = None
    requested_schema: dict[str, Any] = msgspec.field(name="requestedSchema")
    task: TaskMetadata | None = None


class ElicitRequestURLParams(_Base, kw_only=True):
    """The parameters for a request to elicit information from the user via a URL in the client."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    elicitation_id: str = msgspec.field(name="elicitationId")
    message: str
    mode: Literal["url"]
    task: TaskMetadata | None = None
    url: str


class ElicitResult(_Base, kw_only=True):
    """The client's response to an elicitation request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    action: Literal["accept", "cancel", "decline"]
    content: dict[str, Any] | None = None


class ElicitationCompleteNotificationParams(_Base, kw_only=True):
    elicitation_id: str = msgspec.field(name="elicitationId")


class ElicitationCompleteNotification(
    _Base, kw_only=True, tag_field="method", tag="notifications/elicitation/complete"
):
    """An optional notification from the server to the client, informing it of a completion of a out-of-
    band elicitation request.
    """

    jsonrpc: Literal["2.0"]
    params: ElicitationCompleteNotificationParams


class EmbeddedResource(_Base, kw_only=True, tag_field="type", tag="resource"):
    """The contents of a resource, embedded into a prompt or tool call result."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    resource: EmbeddedResourceResource


class Error(_Base, kw_only=True):
    code: int
    data: Any = None
    message: str


class GetPromptRequest(_Base, kw_only=True, tag_field="method", tag="prompts/get"):
    """Used by the client to get a prompt provided by the server."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: GetPromptRequestParams


class GetPromptRequestParams(_Base, kw_only=True):
    """Parameters for a `prompts/get` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    arguments: dict[str, Any] | None = None
    name: str


class GetPromptResult(_Base, kw_only=True):
    """The server's response to a prompts/get request from the client."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    description: str | None = None
    messages: list[PromptMessage]


class GetTaskPayloadRequestParams(_Base, kw_only=True):
    task_id: str = msgspec.field(name="taskId")


class GetTaskPayloadRequest(_Base, kw_only=True, tag_field="method", tag="tasks/result"):
    """A request to retrieve the result of a completed task."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: GetTaskPayloadRequestParams


class GetTaskPayloadResult(_Base, kw_only=True):
    """The response to a tasks/result request. The structure matches the result type of the original
    request. For example, a tools/call task would return the CallToolResult structure.
    """

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


class GetTaskRequestParams(_Base, kw_only=True):
    task_id: str = msgspec.field(name="taskId")


class GetTaskRequest(_Base, kw_only=True, tag_field="method", tag="tasks/get"):
    """A request to retrieve the state of a task."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: GetTaskRequestParams


class GetTaskResult(_Base, kw_only=True):
    """The response to a tasks/get request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    created_at: str = msgspec.field(name="createdAt")
    last_updated_at: str = msgspec.field(name="lastUpdatedAt")
    poll_interval: int | None = msgspec.field(default=None, name="pollInterval")
    status: TaskStatus
    status_message: str | None = msgspec.field(default=None, name="statusMessage")
    task_id: str = msgspec.field(name="taskId")
    ttl: int | None


class Icon(_Base, kw_only=True):
    """An optionally-sized icon that can be displayed in a user interface."""

    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    sizes: list[str] | None = None
    src: str
    theme: Literal["dark", "light"] | None = None


class Icons(_Base, kw_only=True):
    """Base interface to add `icons` property."""

    icons: list[Icon] | None = None


class ImageContent(_Base, kw_only=True, tag_field="type", tag="image"):
    """An image provided to or from an LLM."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    data: str
    mime_type: str = msgspec.field(name="mimeType")


class Implementation(_Base, kw_only=True):
    """Describes the MCP implementation."""

    description: str | None = None
    icons: list[Icon] | None = None
    name: str
    title: str | None = None
    version: str
    website_url: str | None = msgspec.field(default=None, name="websiteUrl")


class InitializeRequest(_Base, kw_only=True, tag_field="method", tag="initialize"):
    """This request is sent from the client to the server when it first connects, asking it to begin
    initialization.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: InitializeRequestParams


class InitializeRequestParams(_Base, kw_only=True):
    """Parameters for an `initialize` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    capabilities: ClientCapabilities
    client_info: Implementation = msgspec.field(name="clientInfo")
    protocol_version: str = msgspec.field(name="protocolVersion")


class InitializeResult(_Base, kw_only=True):
    """After receiving an initialize request from the client, the server sends this response."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    capabilities: ServerCapabilities
    instructions: str | None = None
    protocol_version: str = msgspec.field(name="protocolVersion")
    server_info: Implementation = msgspec.field(name="serverInfo")


class InitializedNotification(_Base, kw_only=True, tag_field="method", tag="notifications/initialized"):
    """This notification is sent from the client to the server after initialization has finished."""

    jsonrpc: Literal["2.0"]
    params: NotificationParams | None = None


class JSONRPCErrorResponse(_Base, kw_only=True):
    """A response to a request that indicates an error occurred."""

    error: Error
    id: RequestId | None = None
    jsonrpc: Literal["2.0"]


class JSONRPCNotification(_Base, kw_only=True):
    """A notification which does not expect a response."""

    jsonrpc: Literal["2.0"]
    method: str
    params: dict[str, Any] | None = None


class JSONRPCRequest(_Base, kw_only=True):
    """A request that expects a response."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    method: str
    params: dict[str, Any] | None = None


class JSONRPCResultResponse(_Base, kw_only=True):
    """A successful (non-error) response to a request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: Result


class LegacyTitledEnumSchema(_Base, kw_only=True, tag_field="type", tag="string"):
    """Use TitledSingleSelectEnumSchema instead. This interface will be removed in a future version."""

    default: str | None = None
    description: str | None = None
    enum: list[str]
    enum_names: list[str] | None = msgspec.field(default=None, name="enumNames")
    title: str | None = None


class ListPromptsRequest(_Base, kw_only=True, tag_field="method", tag="prompts/list"):
    """Sent from the client to request a list of prompts and prompt templates the server has."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams | None = None


class ListPromptsResult(_Base, kw_only=True):
    """The server's response to a prompts/list request from the client."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    prompts: list[Prompt]


class ListResourceTemplatesRequest(_Base, kw_only=True, tag_field="method", tag="resources/templates/list"):
    """Sent from the client to request a list of resource templates the server has."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams | None = None


class ListResourceTemplatesResult(_Base, kw_only=True):
    """The server's response to a resources/templates/list request from the client."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    resource_templates: list[ResourceTemplate] = msgspec.field(name="resourceTemplates")


class ListResourcesRequest(_Base, kw_only=True, tag_field="method", tag="resources/list"):
    """Sent from the client to request a list of resources the server has."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams | None = None


class ListResourcesResult(_Base, kw_only=True):
    """The server's response to a resources/list request from the client."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    resources: list[Resource]


class ListRootsRequest(_Base, kw_only=True, tag_field="method", tag="roots/list"):
    """Sent from the server to request a list of root URIs from the client. Roots allow servers to ask for
    specific directories or files to operate on. A common example for roots is providing a set of
    repositories or directories a server should operate on.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: RequestParams | None = None


class ListRootsResult(_Base, kw_only=True):
    """The client's response to a roots/list request from the server. This result contains an array of Root
    objects, each representing a root directory or file that the server can operate on.
    """

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    roots: list[Root]


class ListTasksRequest(_Base, kw_only=True, tag_field="method", tag="tasks/list"):
    """A request to retrieve a list of tasks."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams | None = None


class ListTasksResult(_Base, kw_only=True):
    """The response to a tasks/list request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    tasks: list[Task]


class ListToolsRequest(_Base, kw_only=True, tag_field="method", tag="tools/list"):
    """Sent from the client to request a list of tools the server has."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams | None = None


class ListToolsResult(_Base, kw_only=True):
    """The server's response to a tools/list request from the client."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    tools: list[Tool]


class LoggingMessageNotification(_Base, kw_only=True, tag_field="method", tag="notifications/message"):
    """JSONRPCNotification of a log message passed from server to client. If no logging/setLevel request
    has been sent from the client, the server MAY decide which messages to send automatically.
    """

    jsonrpc: Literal["2.0"]
    params: LoggingMessageNotificationParams


class LoggingMessageNotificationParams(_Base, kw_only=True):
    """Parameters for a `notifications/message` notification."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    data: Any
    level: LoggingLevel
    logger: str | None = None


class ModelHint(_Base, kw_only=True):
    """Hints to use for model selection."""

    name: str | None = None


class ModelPreferences(_Base, kw_only=True):
    """The server's preferences for model selection, requested of the client during sampling."""

    cost_priority: float | None = msgspec.field(default=None, name="costPriority")
    hints: list[ModelHint] | None = None
    intelligence_priority: float | None = msgspec.field(default=None, name="intelligencePriority")
    speed_priority: float | None = msgspec.field(default=None, name="speedPriority")


class Notification(_Base, kw_only=True):
    method: str
    params: dict[str, Any] | None = None


class NotificationParams(_Base, kw_only=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


class NumberSchema(_Base, kw_only=True):
    default: float | None = None
    description: str | None = None
    maximum: float | None = None
    minimum: float | None = None
    title: str | None = None
    type: Literal["integer", "number"]


class PaginatedRequest(_Base, kw_only=True):
    id: RequestId
    jsonrpc: Literal["2.0"]
    method: str
    params: PaginatedRequestParams | None = None


class PaginatedRequestParams(_Base, kw_only=True):
    """Common parameters for paginated requests."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    cursor: str | None = None


class PaginatedResult(_Base, kw_only=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")


class PingRequest(_Base, kw_only=True, tag_field="method", tag="ping"):
    """A ping, issued by either the server or the client, to check that the other party is still alive. The
    receiver must promptly respond, or else may be disconnected.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: RequestParams | None = None


class ProgressNotification(_Base, kw_only=True, tag_field="method", tag="notifications/progress"):
    """An out-of-band notification used to inform the receiver of a progress update for a long-running
    request.
    """

    jsonrpc: Literal["2.0"]
    params: ProgressNotificationParams


class ProgressNotificationParams(_Base, kw_only=True):
    """Parameters for a `notifications/progress` notification."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    message: str | None = None
    progress: float
    progress_token: ProgressToken = msgspec.field(name="progressToken")
    total: float | None = None


class Prompt(_Base, kw_only=True):
    """A prompt or prompt template that the server offers."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    arguments: list[PromptArgument] | None = None
    description: str | None = None
    icons: list[Icon] | None = None
    name: str
    title: str | None = None


class PromptArgument(_Base, kw_only=True):
    """Describes an argument that a prompt can accept."""

    description: str | None = None
    name: str
    required: bool | None = None
    title: str | None = None


class PromptListChangedNotification(
    _Base, kw_only=True, tag_field="method", tag="notifications/prompts/list_changed"
):
    """An optional notification from the server to the client, informing it that the list of prompts it
    offers has changed. This may be issued by servers without any previous subscription from the client.
    """

    jsonrpc: Literal["2.0"]
    params: NotificationParams | None = None


class PromptMessage(_Base, kw_only=True):
    """Describes a message returned as part of a prompt."""

    content: ContentBlock
    role: Role


class PromptReference(_Base, kw_only=True, tag_field="type", tag="ref/prompt"):
    """Identifies a prompt."""

    name: str
    title: str | None = None


class ReadResourceRequest(_Base, kw_only=True, tag_field="method", tag="resources/read"):
    """Sent from the client to the server, to read a specific resource URI."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: ReadResourceRequestParams


class ReadResourceRequestParams(_Base, kw_only=True):
    """Parameters for a `resources/read` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    uri: str


class ReadResourceResult(_Base, kw_only=True):
    """The server's response to a resources/read request from the client."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    contents: list[ReadResourceResultContentsItem]


class RelatedTaskMetadata(_Base, kw_only=True):
    """Metadata for associating messages with a task. Include this in the `_meta` field under the key
    `io.modelcontextprotocol/related-task`.
    """

    task_id: str = msgspec.field(name="taskId")


class Request(_Base, kw_only=True):
    method: str
    params: dict[str, Any] | None = None


class RequestParams(_Base, kw_only=True):
    """Common params for any request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


class Resource(_Base, kw_only=True):
    """A known resource that the server is capable of reading."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    description: str | None = None
    icons: list[Icon] | None = None
    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    name: str
    size: int | None = None
    title: str | None = None
    uri: str


class ResourceContents(_Base, kw_only=True):
    """The contents of a specific resource or sub-resource."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    uri: str


class ResourceLink(_Base, kw_only=True, tag_field="type", tag="resource_link"):
    """A resource that the server is capable of reading, included in a prompt or tool call result."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    description: str | None = None
    icons: list[Icon] | None = None
    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    name: str
    size: int | None = None
    title: str | None = None
    uri: str


class ResourceListChangedNotification(
    _Base, kw_only=True, tag_field="method", tag="notifications/resources/list_changed"
):
    """An optional notification from the server to the client, informing it that the list of resources it
    can read from has changed. This may be issued by servers without any previous subscription from the
    client.
    """

    jsonrpc: Literal["2.0"]
    params: NotificationParams | None = None


class ResourceRequestParams(_Base, kw_only=True):
    """Common parameters when working with resources."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    uri: str


class ResourceTemplate(_Base, kw_only=True):
    """A template description for resources available on the server."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    description: str | None = None
    icons: list[Icon] | None = None
    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    name: str
    title: str | None = None
    uri_template: str = msgspec.field(name="uriTemplate")


class ResourceTemplateReference(_Base, kw_only=True, tag_field="type", tag="ref/resource"):
    """A reference to a resource or resource template definition."""

    uri: str


class ResourceUpdatedNotification(
    _Base, kw_only=True, tag_field="method", tag="notifications/resources/updated"
):
    """A notification from the server to the client, informing it that a resource has changed and may need
    to be read again. This should only be sent if the client previously sent a resources/subscribe
    request.
    """

    jsonrpc: Literal["2.0"]
    params: ResourceUpdatedNotificationParams


class ResourceUpdatedNotificationParams(_Base, kw_only=True):
    """Parameters for a `notifications/resources/updated` notification."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    uri: str


class Result(_Base, kw_only=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


class Root(_Base, kw_only=True):
    """Represents a root directory or file that the server can operate on."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    name: str | None = None
    uri: str


class RootsListChangedNotification(
    _Base, kw_only=True, tag_field="method", tag="notifications/roots/list_changed"
):
    """A notification from the client to the server, informing it that the list of roots has changed. This
    notification should be sent whenever the client adds, removes, or modifies any root. The server
    should then request an updated list of roots using the ListRootsRequest.
    """

    jsonrpc: Literal["2.0"]
    params: NotificationParams | None = None


class SamplingMessage(_Base, kw_only=True):
    """Describes a message issued to or received from an LLM API."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    content: (
        TextContent
        | ImageContent
        | AudioContent
        | ToolUseContent
        | ToolResultContent
        | list[SamplingMessageContentBlock]
    )
    role: Role


class ServerCapabilitiesPrompts(_Base, kw_only=True):
    """Present if the server offers any prompt templates."""

    list_changed: bool | None = msgspec.field(default=None, name="listChanged")


class ServerCapabilitiesResources(_Base, kw_only=True):
    """Present if the server offers any resources to read."""

    list_changed: bool | None = msgspec.field(default=None, name="listChanged")
    subscribe: bool | None = None


class ServerCapabilitiesTasksRequestsTools(_Base, kw_only=True):
    """Task support for tool-related requests."""

    call: dict[str, Any] | None = None


class ServerCapabilitiesTasksRequests(_Base, kw_only=True):
    """Specifies which request types can be augmented with tasks."""

    tools: ServerCapabilitiesTasksRequestsTools | None = None


class ServerCapabilitiesTasks(_Base, kw_only=True):
    """Present if the server supports task-augmented requests."""

    cancel: dict[str, Any] | None = None
    list: dict[str, Any] | None = None
    requests: ServerCapabilitiesTasksRequests | None = None


class ServerCapabilitiesTools(_Base, kw_only=True):
    """Present if the server offers any tools to call."""

    list_changed: bool | None = msgspec.field(default=None, name="listChanged")


class ServerCapabilities(_Base, kw_only=True):
    """Capabilities that a server may support. Known capabilities are defined here, in this schema, but
    this is not a closed set: any server can define its own, additional capabilities.
    """

    completions: dict[str, Any] | None = None
    experimental: dict[str, Any] | None = None
    logging: dict[str, Any] | None = None
    prompts: ServerCapabilitiesPrompts | None = None
    resources: ServerCapabilitiesResources | None = None
    tasks: ServerCapabilitiesTasks | None = None
    tools: ServerCapabilitiesTools | None = None


class SetLevelRequest(_Base, kw_only=True, tag_field="method", tag="logging/setLevel"):
    """A request from the client to the server, to enable or adjust logging."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: SetLevelRequestParams


class SetLevelRequestParams(_Base, kw_only=True):
    """Parameters for a `logging/setLevel` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    level: LoggingLevel


class StringSchema(_Base, kw_only=True, tag_field="type", tag="string"):
    default: str | None = None
    description: str | None = None
    format: Literal["date", "date-time", "email", "uri"] | None = None
    max_length: int | None = msgspec.field(default=None, name="maxLength")
    min_length: int | None = msgspec.field(default=None, name="minLength")
    title: str | None = None


class SubscribeRequest(_Base, kw_only=True, tag_field="method", tag="resources/subscribe"):
    """Sent from the client to request resources/updated notifications from the server whenever a
    particular resource changes.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: SubscribeRequestParams


class SubscribeRequestParams(_Base, kw_only=True):
    """Parameters for a `resources/subscribe` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    uri: str


class Task(_Base, kw_only=True):
    """Data associated with a task."""

    created_at: str = msgspec.field(name="createdAt")
    last_updated_at: str = msgspec.field(name="lastUpdatedAt")
    poll_interval: int | None = msgspec.field(default=None, name="pollInterval")
    status: TaskStatus
    status_message: str | None = msgspec.field(default=None, name="statusMessage")
    task_id: str = msgspec.field(name="taskId")
    ttl: int | None


class TaskAugmentedRequestParams(_Base, kw_only=True):
    """Common params for any task-augmented request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    task: TaskMetadata | None = None


class TaskMetadata(_Base, kw_only=True):
    """Metadata for augmenting a request with task execution. Include this in the `task` field of the
    request parameters.
    """

    ttl: int | None = None


class TaskStatusNotification(_Base, kw_only=True, tag_field="method", tag="notifications/tasks/status"):
    """An optional notification from the receiver to the requestor, informing them that a task's status has
    changed. Receivers are not required to send these notifications.
    """

    jsonrpc: Literal["2.0"]
    params: TaskStatusNotificationParams


class TaskStatusNotificationParams(_Base, kw_only=True):
    """Parameters for a `notifications/tasks/status` notification."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    created_at: str = msgspec.field(name="createdAt")
    last_updated_at: str = msgspec.field(name="lastUpdatedAt")
    poll_interval: int | None = msgspec.field(default=None, name="pollInterval")
    status: TaskStatus
    status_message: str | None = msgspec.field(default=None, name="statusMessage")
    task_id: str = msgspec.field(name="taskId")
    ttl: int | None


class TextContent(_Base, kw_only=True, tag_field="type", tag="text"):
    """Text provided to or from an LLM."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    text: str


class TextResourceContents(_Base, kw_only=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    text: str
    uri: str


class TitledMultiSelectEnumSchemaItemsAnyOfItem(_Base, kw_only=True):
    const: str
    title: str


class TitledMultiSelectEnumSchemaItems(_Base, kw_only=True):
    """Schema for array items with enum options and display labels."""

    any_of: list[TitledMultiSelectEnumSchemaItemsAnyOfItem] = msgspec.field(name="anyOf")


class TitledMultiSelectEnumSchema(_Base, kw_only=True, tag_field="type", tag="array"):
    """Schema for multiple-selection enumeration with display titles for each option."""

    default: list[str] | None = None
    description: str | None = None
    items: TitledMultiSelectEnumSchemaItems
    max_items: int | None = msgspec.field(default=None, name="maxItems")
    min_items: int | None = msgspec.field(default=None, name="minItems")
    title: str | None = None


class TitledSingleSelectEnumSchemaOneOfItem(_Base, kw_only=True):
    const: str
    title: str


class TitledSingleSelectEnumSchema(_Base, kw_only=True, tag_field="type", tag="string"):
    """Schema for single-selection enumeration with display titles for each option."""

    default: str | None = None
    description: str | None = None
    one_of: list[TitledSingleSelectEnumSchemaOneOfItem] = msgspec.field(name="oneOf")
    title: str | None = None


class Tool(_Base, kw_only=True):
    """Definition for a tool the client can call."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    annotations: ToolAnnotations | None = None
    description: str | None = None
    execution: ToolExecution | None = None
    icons: list[Icon] | None = None
    input_schema: dict[str, Any] = msgspec.field(name="inputSchema")
    name: str
    output_schema: dict[str, Any] | None = msgspec.field(default=None, name="outputSchema")
    title: str | None = None


class ToolAnnotations(_Base, kw_only=True):
    """Additional properties describing a Tool to clients."""

    destructive_hint: bool | None = msgspec.field(default=None, name="destructiveHint")
    idempotent_hint: bool | None = msgspec.field(default=None, name="idempotentHint")
    open_world_hint: bool | None = msgspec.field(default=None, name="openWorldHint")
    read_only_hint: bool | None = msgspec.field(default=None, name="readOnlyHint")
    title: str | None = None


class ToolChoice(_Base, kw_only=True):
    """Controls tool selection behavior for sampling requests."""

    mode: Literal["auto", "none", "required"] | None = None


class ToolExecution(_Base, kw_only=True):
    """Execution-related properties for a tool."""

    task_support: Literal["forbidden", "optional", "required"] | None = msgspec.field(
        default=None, name="taskSupport"
    )


class ToolListChangedNotification(
    _Base, kw_only=True, tag_field="method", tag="notifications/tools/list_changed"
):
    """An optional notification from the server to the client, informing it that the list of tools it
    offers has changed. This may be issued by servers without any previous subscription from the client.
    """

    jsonrpc: Literal["2.0"]
    params: NotificationParams | None = None


class ToolResultContent(_Base, kw_only=True, tag_field="type", tag="tool_result"):
    """The result of a tool use, provided by the user back to the assistant."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    content: list[ContentBlock]
    is_error: bool | None = msgspec.field(default=None, name="isError")
    structured_content: dict[str, Any] | None = msgspec.field(default=None, name="structuredContent")
    tool_use_id: str = msgspec.field(name="toolUseId")


class ToolUseContent(_Base, kw_only=True, tag_field="type", tag="tool_use"):
    """A request from the assistant to call a tool."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    id: str
    input: dict[str, Any]
    name: str


class URLElicitationRequiredError(_Base, kw_only=True):
    """An error response that indicates that the server requires the client to provide additional
    information via an elicitation request.
    """

    error: Any
    id: RequestId | None = None
    jsonrpc: Literal["2.0"]


class UnsubscribeRequest(_Base, kw_only=True, tag_field="method", tag="resources/unsubscribe"):
    """Sent from the client to request cancellation of resources/updated notifications from the server.
    This should follow a previous resources/subscribe request.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: UnsubscribeRequestParams


class UnsubscribeRequestParams(_Base, kw_only=True):
    """Parameters for a `resources/unsubscribe` request."""

    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    uri: str


class UntitledMultiSelectEnumSchemaItems(_Base, kw_only=True, tag_field="type", tag="string"):
    """Schema for the array items."""

    enum: list[str]


class UntitledMultiSelectEnumSchema(_Base, kw_only=True, tag_field="type", tag="array"):
    """Schema for multiple-selection enumeration without display titles for options."""

    default: list[str] | None = None
    description: str | None = None
    items: UntitledMultiSelectEnumSchemaItems
    max_items: int | None = msgspec.field(default=None, name="maxItems")
    min_items: int | None = msgspec.field(default=None, name="minItems")
    title: str | None = None


class UntitledSingleSelectEnumSchema(_Base, kw_only=True, tag_field="type", tag="string"):
    """Schema for single-selection enumeration without display titles for options."""

    default: str | None = None
    description: str | None = None
    enum: list[str]
    title: str | None = None


EmptyResult = Result
ClientNotification = (
    CancelledNotification
    | InitializedNotification
    | ProgressNotification
    | TaskStatusNotification
    | RootsListChangedNotification
)
ClientRequest = (
    InitializeRequest
    | PingRequest
    | ListResourcesRequest
    | ListResourceTemplatesRequest
    | ReadResourceRequest
    | SubscribeRequest
    | UnsubscribeRequest
    | ListPromptsRequest
    | GetPromptRequest
    | ListToolsRequest
    | CallToolRequest
    | GetTaskRequest
    | GetTaskPayloadRequest
    | CancelTaskRequest
    | ListTasksRequest
    | SetLevelRequest
    | CompleteRequest
)
ClientResult = Any  # an untagged union msgspec cannot decode: kept as plain JSON
CompleteRequestParamsRef = PromptReference | ResourceTemplateReference
ContentBlock = TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource
ElicitRequestParams = Any  # an untagged union msgspec cannot decode: kept as plain JSON
EmbeddedResourceResource = Any  # an untagged union msgspec cannot decode: kept as plain JSON
EnumSchema = Any  # an untagged union msgspec cannot decode: kept as plain JSON
JSONRPCMessage = Any  # an untagged union msgspec cannot decode: kept as plain JSON
JSONRPCResponse = Any  # an untagged union msgspec cannot decode: kept as plain JSON
MultiSelectEnumSchema = Any  # an untagged union msgspec cannot decode: kept as plain JSON
PrimitiveSchemaDefinition = Any  # an untagged union msgspec cannot decode: kept as plain JSON
ReadResourceResultContentsItem = Any  # an untagged union msgspec cannot decode: kept as plain JSON
SamplingMessageContentBlock = TextContent | ImageContent | AudioContent | ToolUseContent | ToolResultContent
ServerNotification = (
    CancelledNotification
    | ProgressNotification
    | ResourceListChangedNotification
    | ResourceUpdatedNotification
    | PromptListChangedNotification
    | ToolListChangedNotification
    | TaskStatusNotification
    | LoggingMessageNotification
    | ElicitationCompleteNotification
)
ServerRequest = (
    PingRequest
    | GetTaskRequest
    | GetTaskPayloadRequest
    | CancelTaskRequest
    | ListTasksRequest
    | CreateMessageRequest
    | ListRootsRequest
    | ElicitRequest
)
ServerResult = Any  # an untagged union msgspec cannot decode: kept as plain JSON
SingleSelectEnumSchema = Any  # an untagged union msgspec cannot decode: kept as plain JSON

CLIENT_REQUESTS: dict[str, type] = {
    "initialize": InitializeRequest,
    "ping": PingRequest,
    "resources/list": ListResourcesRequest,
    "resources/templates/list": ListResourceTemplatesRequest,
    "resources/read": ReadResourceRequest,
    "resources/subscribe": SubscribeRequest,
    "resources/unsubscribe": UnsubscribeRequest,
    "prompts/list": ListPromptsRequest,
    "prompts/get": GetPromptRequest,
    "tools/list": ListToolsRequest,
    "tools/call": CallToolRequest,
    "tasks/get": GetTaskRequest,
    "tasks/result": GetTaskPayloadRequest,
    "tasks/cancel": CancelTaskRequest,
    "tasks/list": ListTasksRequest,
    "logging/setLevel": SetLevelRequest,
    "completion/complete": CompleteRequest,
}
CLIENT_NOTIFICATIONS: dict[str, type] = {
    "notifications/cancelled": CancelledNotification,
    "notifications/initialized": InitializedNotification,
    "notifications/progress": ProgressNotification,
    "notifications/tasks/status": TaskStatusNotification,
    "notifications/roots/list_changed": RootsListChangedNotification,
}
SERVER_REQUESTS: dict[str, type] = {
    "ping": PingRequest,
    "tasks/get": GetTaskRequest,
    "tasks/result": GetTaskPayloadRequest,
    "tasks/cancel": CancelTaskRequest,
    "tasks/list": ListTasksRequest,
    "sampling/createMessage": CreateMessageRequest,
    "roots/list": ListRootsRequest,
    "elicitation/create": ElicitRequest,
}
SERVER_NOTIFICATIONS: dict[str, type] = {
    "notifications/cancelled": CancelledNotification,
    "notifications/progress": ProgressNotification,
    "notifications/resources/list_changed": ResourceListChangedNotification,
    "notifications/resources/updated": ResourceUpdatedNotification,
    "notifications/prompts/list_changed": PromptListChangedNotification,
    "notifications/tools/list_changed": ToolListChangedNotification,
    "notifications/tasks/status": TaskStatusNotification,
    "notifications/message": LoggingMessageNotification,
    "notifications/elicitation/complete": ElicitationCompleteNotification,
}
PARAMS_TYPES: dict[str, Any] = {
    "initialize": InitializeRequestParams,
    "ping": RequestParams,
    "resources/list": PaginatedRequestParams,
    "resources/templates/list": PaginatedRequestParams,
    "resources/read": ReadResourceRequestParams,
    "resources/subscribe": SubscribeRequestParams,
    "resources/unsubscribe": UnsubscribeRequestParams,
    "prompts/list": PaginatedRequestParams,
    "prompts/get": GetPromptRequestParams,
    "tools/list": PaginatedRequestParams,
    "tools/call": CallToolRequestParams,
    "tasks/get": GetTaskRequestParams,
    "tasks/result": GetTaskPayloadRequestParams,
    "tasks/cancel": CancelTaskRequestParams,
    "tasks/list": PaginatedRequestParams,
    "logging/setLevel": SetLevelRequestParams,
    "completion/complete": CompleteRequestParams,
    "notifications/cancelled": CancelledNotificationParams,
    "notifications/initialized": NotificationParams,
    "notifications/progress": ProgressNotificationParams,
    "notifications/tasks/status": TaskStatusNotificationParams,
    "notifications/roots/list_changed": NotificationParams,
    "sampling/createMessage": CreateMessageRequestParams,
    "roots/list": RequestParams,
    "elicitation/create": ElicitRequestParams,
    "notifications/resources/list_changed": NotificationParams,
    "notifications/resources/updated": ResourceUpdatedNotificationParams,
    "notifications/prompts/list_changed": NotificationParams,
    "notifications/tools/list_changed": NotificationParams,
    "notifications/message": LoggingMessageNotificationParams,
    "notifications/elicitation/complete": ElicitationCompleteNotificationParams,
}
ClientMessage = (
    InitializeRequest
    | PingRequest
    | ListResourcesRequest
    | ListResourceTemplatesRequest
    | ReadResourceRequest
    | SubscribeRequest
    | UnsubscribeRequest
    | ListPromptsRequest
    | GetPromptRequest
    | ListToolsRequest
    | CallToolRequest
    | GetTaskRequest
    | GetTaskPayloadRequest
    | CancelTaskRequest
    | ListTasksRequest
    | SetLevelRequest
    | CompleteRequest
    | CancelledNotification
    | InitializedNotification
    | ProgressNotification
    | TaskStatusNotification
    | RootsListChangedNotification
)
ServerMessage = (
    PingRequest
    | GetTaskRequest
    | GetTaskPayloadRequest
    | CancelTaskRequest
    | ListTasksRequest
    | CreateMessageRequest
    | ListRootsRequest
    | ElicitRequest
    | CancelledNotification
    | ProgressNotification
    | ResourceListChangedNotification
    | ResourceUpdatedNotification
    | PromptListChangedNotification
    | ToolListChangedNotification
    | TaskStatusNotification
    | LoggingMessageNotification
    | ElicitationCompleteNotification
)

__all__ = [
    "CLIENT_NOTIFICATIONS",
    "CLIENT_REQUESTS",
    "LATEST_PROTOCOL_VERSION",
    "PARAMS_TYPES",
    "SERVER_NOTIFICATIONS",
    "SERVER_REQUESTS",
    "Annotations",
    "AudioContent",
    "BaseMetadata",
    "BlobResourceContents",
    "BooleanSchema",
    "CallToolRequest",
    "CallToolRequestParams",
    "CallToolResult",
    "CancelTaskRequest",
    "CancelTaskRequestParams",
    "CancelTaskResult",
    "CancelledNotification",
    "CancelledNotificationParams",
    "ClientCapabilities",
    "ClientCapabilitiesElicitation",
    "ClientCapabilitiesRoots",
    "ClientCapabilitiesSampling",
    "ClientCapabilitiesTasks",
    "ClientCapabilitiesTasksRequests",
    "ClientCapabilitiesTasksRequestsElicitation",
    "ClientCapabilitiesTasksRequestsSampling",
    "ClientMessage",
    "ClientNotification",
    "ClientRequest",
    "ClientResult",
    "CompleteRequest",
    "CompleteRequestParams",
    "CompleteRequestParamsArgument",
    "CompleteRequestParamsContext",
    "CompleteRequestParamsRef",
    "CompleteResult",
    "CompleteResultCompletion",
    "ContentBlock",
    "CreateMessageRequest",
    "CreateMessageRequestParams",
    "CreateMessageResult",
    "CreateTaskResult",
    "Cursor",
    "ElicitRequest",
    "ElicitRequestFormParams",
    "ElicitRequestParams",
    "ElicitRequestURLParams",
    "ElicitResult",
    "ElicitationCompleteNotification",
    "ElicitationCompleteNotificationParams",
    "EmbeddedResource",
    "EmbeddedResourceResource",
    "EmptyResult",
    "EnumSchema",
    "Error",
    "GetPromptRequest",
    "GetPromptRequestParams",
    "GetPromptResult",
    "GetTaskPayloadRequest",
    "GetTaskPayloadRequestParams",
    "GetTaskPayloadResult",
    "GetTaskRequest",
    "GetTaskRequestParams",
    "GetTaskResult",
    "Icon",
    "Icons",
    "ImageContent",
    "Implementation",
    "InitializeRequest",
    "InitializeRequestParams",
    "InitializeResult",
    "InitializedNotification",
    "JSONRPCErrorResponse",
    "JSONRPCMessage",
    "JSONRPCNotification",
    "JSONRPCRequest",
    "JSONRPCResponse",
    "JSONRPCResultResponse",
    "LegacyTitledEnumSchema",
    "ListPromptsRequest",
    "ListPromptsResult",
    "ListResourceTemplatesRequest",
    "ListResourceTemplatesResult",
    "ListResourcesRequest",
    "ListResourcesResult",
    "ListRootsRequest",
    "ListRootsResult",
    "ListTasksRequest",
    "ListTasksResult",
    "ListToolsRequest",
    "ListToolsResult",
    "LoggingLevel",
    "LoggingMessageNotification",
    "LoggingMessageNotificationParams",
    "ModelHint",
    "ModelPreferences",
    "MultiSelectEnumSchema",
    "Notification",
    "NotificationParams",
    "NumberSchema",
    "PaginatedRequest",
    "PaginatedRequestParams",
    "PaginatedResult",
    "PingRequest",
    "PrimitiveSchemaDefinition",
    "ProgressNotification",
    "ProgressNotificationParams",
    "ProgressToken",
    "Prompt",
    "PromptArgument",
    "PromptListChangedNotification",
    "PromptMessage",
    "PromptReference",
    "ReadResourceRequest",
    "ReadResourceRequestParams",
    "ReadResourceResult",
    "ReadResourceResultContentsItem",
    "RelatedTaskMetadata",
    "Request",
    "RequestId",
    "RequestParams",
    "Resource",
    "ResourceContents",
    "ResourceLink",
    "ResourceListChangedNotification",
    "ResourceRequestParams",
    "ResourceTemplate",
    "ResourceTemplateReference",
    "ResourceUpdatedNotification",
    "ResourceUpdatedNotificationParams",
    "Result",
    "Role",
    "Root",
    "RootsListChangedNotification",
    "SamplingMessage",
    "SamplingMessageContentBlock",
    "ServerCapabilities",
    "ServerCapabilitiesPrompts",
    "ServerCapabilitiesResources",
    "ServerCapabilitiesTasks",
    "ServerCapabilitiesTasksRequests",
    "ServerCapabilitiesTasksRequestsTools",
    "ServerCapabilitiesTools",
    "ServerMessage",
    "ServerNotification",
    "ServerRequest",
    "ServerResult",
    "SetLevelRequest",
    "SetLevelRequestParams",
    "SingleSelectEnumSchema",
    "StringSchema",
    "SubscribeRequest",
    "SubscribeRequestParams",
    "Task",
    "TaskAugmentedRequestParams",
    "TaskMetadata",
    "TaskStatus",
    "TaskStatusNotification",
    "TaskStatusNotificationParams",
    "TextContent",
    "TextResourceContents",
    "TitledMultiSelectEnumSchema",
    "TitledMultiSelectEnumSchemaItems",
    "TitledMultiSelectEnumSchemaItemsAnyOfItem",
    "TitledSingleSelectEnumSchema",
    "TitledSingleSelectEnumSchemaOneOfItem",
    "Tool",
    "ToolAnnotations",
    "ToolChoice",
    "ToolExecution",
    "ToolListChangedNotification",
    "ToolResultContent",
    "ToolUseContent",
    "URLElicitationRequiredError",
    "UnsubscribeRequest",
    "UnsubscribeRequestParams",
    "UntitledMultiSelectEnumSchema",
    "UntitledMultiSelectEnumSchemaItems",
    "UntitledSingleSelectEnumSchema",
]
