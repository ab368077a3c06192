"""MCP 2026-07-28 wire types, generated from schema.json by tools/gen_types.py. Do not edit."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

LATEST_PROTOCOL_VERSION = "2026-07-28"


class _Base(msgspec.Struct, kw_only=True, omit_defaults=True):
    pass


Cursor = str
JSONValue = Any
LoggingLevel = Literal["alert", "critical", "debug", "emergency", "error", "info", "notice", "warning"]
MetaObject = dict[str, Any]
ProgressToken = str | int
RequestId = str | int
ResultType = str
Role = Literal["assistant", "user"]


class Annotations(_Base, kw_only=True):
    """Optional annotations for the client. The client can use annotations to inform how objects are used
    or displayed
    """

    audience: list[Role] | None = None
    last_modified: str | None = msgspec.field(default=None, name="lastModified")
    priority: float | None = None


class AudioContent(_Base, kw_only=True, tag_field="type", tag="audio"):
    """Audio provided to or from an LLM."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    data: str
    mime_type: str = msgspec.field(name="mimeType")


class BaseMetadata(_Base, kw_only=True):
    """Base interface for metadata with name (identifier) and title (display name) properties."""

    name: str
    title: str | None = None


class BlobResourceContents(_Base, kw_only=True):
    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
    blob: str
    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    uri: str


class BooleanSchema(_Base, kw_only=True, tag_field="type", tag="boolean"):
    default: bool | None = None
    description: str | None = None
    title: str | None = None


class CacheableResult(_Base, kw_only=True):
    """A result that supports a time-to-live (TTL) hint for client-side caching."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    cache_scope: Literal["private", "public"] = msgspec.field(name="cacheScope")
    result_type: str = msgspec.field(name="resultType")
    ttl_ms: int = msgspec.field(name="ttlMs")


class CallToolRequest(_Base, kw_only=True, tag_field="method", tag="tools/call"):
    """Used by the client to invoke a tool provided by the server."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: CallToolRequestParams


class CallToolRequestParams(_Base, kw_only=True):
    """Parameters for a `tools/call` request."""

    meta: RequestMetaObject = msgspec.field(name="_meta")
    arguments: dict[str, Any] | None = None
    input_responses: InputResponses | None = msgspec.field(default=None, name="inputResponses")
    name: str
    request_state: str | None = msgspec.field(default=None, name="requestState")


class CallToolResult(_Base, kw_only=True):
    """The result returned by the server for a {@link CallToolRequesttools/call} request."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    content: list[ContentBlock]
    is_error: bool | None = msgspec.field(default=None, name="isError")
    result_type: str = msgspec.field(name="resultType")
    structured_content: Any = msgspec.field(default=None, name="structuredContent")


class CallToolResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link CallToolRequesttools/call} request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: CallToolResultResponseResult


class CancelledNotification(_Base, kw_only=True, tag_field="method", tag="notifications/cancelled"):
    """This notification is sent by the client to indicate that it is cancelling a request it previously
    issued.
    """

    jsonrpc: Literal["2.0"]
    params: CancelledNotificationParams


class CancelledNotificationParams(_Base, kw_only=True):
    """Parameters for a `notifications/cancelled` notification."""

    meta: NotificationMetaObject | None = msgspec.field(default=None, name="_meta")
    reason: str | None = None
    request_id: RequestId = msgspec.field(name="requestId")


class ClientCapabilitiesElicitation(_Base, kw_only=True):
    """Present if the client supports elicitation from the server."""

    form: JSONObject | None = None
    url: JSONObject | None = None


class ClientCapabilitiesSampling(_Base, kw_only=True):
    """Present if the client supports sampling from an LLM."""

    context: JSONObject | None = None
    tools: JSONObject | None = None


class ClientCapabilities(_Base, kw_only=True):
    """Capabilities a client may support. Known capabilities are defined here, in this schema, but this is
    not a closed set: any client can define its own, additional capabilities.
    """

    elicitation: ClientCapabilitiesElicitation | None = None
    experimental: dict[str, Any] | None = None
    extensions: dict[str, JSONObject] | None = None
    roots: dict[str, Any] | None = None
    sampling: ClientCapabilitiesSampling | None = None


class ClientNotification(_Base, kw_only=True, tag_field="method", tag="notifications/cancelled"):
    """This notification is sent by the client to indicate that it is cancelling a request it previously
    issued.
    """

    jsonrpc: Literal["2.0"]
    params: CancelledNotificationParams


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

    meta: RequestMetaObject = msgspec.field(name="_meta")
    argument: CompleteRequestParamsArgument
    context: CompleteRequestParamsContext | None = None
    ref: CompleteRequestParamsRef


class CompleteResultCompletion(_Base, kw_only=True):
    has_more: bool | None = msgspec.field(default=None, name="hasMore")
    total: int | None = None
    values: list[str]


class CompleteResult(_Base, kw_only=True):
    """The result returned by the server for a {@link CompleteRequestcompletion/complete} request."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    completion: CompleteResultCompletion
    result_type: str = msgspec.field(name="resultType")


class CompleteResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link CompleteRequestcompletion/complete} request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: CompleteResult


class CreateMessageRequest(_Base, kw_only=True, tag_field="method", tag="sampling/createMessage"):
    """A request from the server to sample an LLM via the client. The client has full discretion over which
    model to select. The client should also inform the user before beginning sampling, to allow them to
    inspect the request (human in the loop) and decide whether to approve it.
    """

    params: CreateMessageRequestParams


class CreateMessageRequestParams(_Base, kw_only=True):
    """Parameters for a `sampling/createMessage` request."""

    include_context: Literal["allServers", "none", "thisServer"] | None = msgspec.field(
        default=None, name="includeContext"
    )
    max_tokens: int = msgspec.field(name="maxTokens")
    messages: list[SamplingMessage]
    metadata: JSONObject | None = None
    model_preferences: ModelPreferences | None = msgspec.field(default=None, name="modelPreferences")
    stop_sequences: list[str] | None = msgspec.field(default=None, name="stopSequences")
    system_prompt: str | None = msgspec.field(default=None, name="systemPrompt")
    temperature: float | None = None
    tool_choice: ToolChoice | None = msgspec.field(default=None, name="toolChoice")
    tools: list[Tool] | None = None


class CreateMessageResult(_Base, kw_only=True):
    """The result returned by the client for a {@link CreateMessageRequestsampling/createMessage} request.
    The client should inform the user before returning the sampled message, to allow them to inspect the
    response (human in the loop) and decide whether to allow the server to see it.
    """

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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


class DiscoverRequest(_Base, kw_only=True, tag_field="method", tag="server/discover"):
    """A request from the client asking the server to advertise its supported protocol versions,
    capabilities, and other metadata. Servers **MUST** implement `server/discover`. Clients **MAY** call
    it but are not required to — version negotiation can also happen inline via per-request `_meta`.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: RequestParams


class DiscoverResult(_Base, kw_only=True):
    """The result returned by the server for a {@link DiscoverRequestserver/discover} request."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    cache_scope: Literal["private", "public"] = msgspec.field(name="cacheScope")
    capabilities: ServerCapabilities
    instructions: str | None = None
    result_type: str = msgspec.field(name="resultType")
    supported_versions: list[str] = msgspec.field(name="supportedVersions")
    ttl_ms: int = msgspec.field(name="ttlMs")


class DiscoverResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link DiscoverRequestserver/discover} request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: DiscoverResult


class ElicitRequest(_Base, kw_only=True, tag_field="method", tag="elicitation/create"):
    """A request from the server to elicit additional information from the user via the client."""

    params: ElicitRequestParams


class ElicitRequestFormParams(_Base, kw_only=True):
    """The parameters for a request to elicit non-sensitive information from the user via a form in the
    client.
    """

    message: str
    mode: Literal["form"] | None = None
    requested_schema: dict[str, Any] = msgspec.field(name="requestedSchema")


class ElicitRequestURLParams(_Base, kw_only=True):
    """The parameters for a request to elicit information from the user via a URL in the client."""

    message: str
    mode: Literal["url"]
    url: str


class ElicitResult(_Base, kw_only=True):
    """The result returned by the client for an {@link ElicitRequestelicitation/create} request."""

    action: Literal["accept", "cancel", "decline"]
    content: dict[str, Any] | None = None


class EmbeddedResource(_Base, kw_only=True, tag_field="type", tag="resource"):
    """The contents of a resource, embedded into a prompt or tool call result."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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

    meta: RequestMetaObject = msgspec.field(name="_meta")
    arguments: dict[str, Any] | None = None
    input_responses: InputResponses | None = msgspec.field(default=None, name="inputResponses")
    name: str
    request_state: str | None = msgspec.field(default=None, name="requestState")


class GetPromptResult(_Base, kw_only=True):
    """The result returned by the server for a {@link GetPromptRequestprompts/get} request."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    description: str | None = None
    messages: list[PromptMessage]
    result_type: str = msgspec.field(name="resultType")


class GetPromptResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link GetPromptRequestprompts/get} request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: GetPromptResultResponseResult


class HeaderMismatchError(_Base, kw_only=True):
    """Returned when a server rejects a request because the values in the HTTP headers do not match the
    corresponding values in the request body, or because required headers are missing or malformed. For
    HTTP, the response status code MUST be `400 Bad Request`.
    """

    error: Any
    id: RequestId | None = None
    jsonrpc: Literal["2.0"]


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

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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


class InputRequiredResult(_Base, kw_only=True):
    """An InputRequiredResult sent by the server to indicate that additional input is needed before the
    request can be completed.
    """

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    input_requests: InputRequests | None = msgspec.field(default=None, name="inputRequests")
    request_state: str | None = msgspec.field(default=None, name="requestState")
    result_type: str = msgspec.field(name="resultType")


class InputResponseRequestParams(_Base, kw_only=True):
    meta: RequestMetaObject = msgspec.field(name="_meta")
    input_responses: InputResponses | None = msgspec.field(default=None, name="inputResponses")
    request_state: str | None = msgspec.field(default=None, name="requestState")


class InternalError(_Base, kw_only=True):
    """A JSON-RPC error indicating that an internal error occurred on the receiver. This error is returned
    when the receiver encounters an unexpected condition that prevents it from fulfilling the request.
    """

    code: Literal[-32603]
    data: Any = None
    message: str


class InvalidParamsError(_Base, kw_only=True):
    """A JSON-RPC error indicating that the method parameters are invalid or malformed."""

    code: Literal[-32602]
    data: Any = None
    message: str


class InvalidRequestError(_Base, kw_only=True):
    """A JSON-RPC error indicating that the request is not a valid request object. This error is returned
    when the message structure does not conform to the JSON-RPC 2.0 specification requirements for a
    request (e.g., missing required fields like `jsonrpc` or `method`, or using invalid types for these
    fields).
    """

    code: Literal[-32600]
    data: Any = None
    message: str


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
    """Use {@link TitledSingleSelectEnumSchema} instead. This interface will be removed in a future
    version.
    """

    default: str | None = None
    description: str | None = None
    enum: list[str]
    enum_names: list[str] | None = msgspec.field(default=None, name="enumNames")
    title: str | None = None


class ListPromptsRequest(_Base, kw_only=True, tag_field="method", tag="prompts/list"):
    """Sent from the client to request a list of prompts and prompt templates the server has."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams


class ListPromptsResult(_Base, kw_only=True):
    """The result returned by the server for a {@link ListPromptsRequestprompts/list} request."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    cache_scope: Literal["private", "public"] = msgspec.field(name="cacheScope")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    prompts: list[Prompt]
    result_type: str = msgspec.field(name="resultType")
    ttl_ms: int = msgspec.field(name="ttlMs")


class ListPromptsResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link ListPromptsRequestprompts/list} request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: ListPromptsResult


class ListResourceTemplatesRequest(_Base, kw_only=True, tag_field="method", tag="resources/templates/list"):
    """Sent from the client to request a list of resource templates the server has."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams


class ListResourceTemplatesResult(_Base, kw_only=True):
    """The result returned by the server for a {@link ListResourceTemplatesRequestresources/templates/list}
    request.
    """

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    cache_scope: Literal["private", "public"] = msgspec.field(name="cacheScope")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    resource_templates: list[ResourceTemplate] = msgspec.field(name="resourceTemplates")
    result_type: str = msgspec.field(name="resultType")
    ttl_ms: int = msgspec.field(name="ttlMs")


class ListResourceTemplatesResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link
    ListResourceTemplatesRequestresources/templates/list} request.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: ListResourceTemplatesResult


class ListResourcesRequest(_Base, kw_only=True, tag_field="method", tag="resources/list"):
    """Sent from the client to request a list of resources the server has."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams


class ListResourcesResult(_Base, kw_only=True):
    """The result returned by the server for a {@link ListResourcesRequestresources/list} request."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    cache_scope: Literal["private", "public"] = msgspec.field(name="cacheScope")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    resources: list[Resource]
    result_type: str = msgspec.field(name="resultType")
    ttl_ms: int = msgspec.field(name="ttlMs")


class ListResourcesResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link ListResourcesRequestresources/list} request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: ListResourcesResult


class ListRootsRequestParams(_Base, kw_only=True):
    meta: MetaObject | None = msgspec.field(default=None, name="_meta")


class ListRootsRequest(_Base, kw_only=True, tag_field="method", tag="roots/list"):
    """Sent from the server to request a list of root URIs from the client. Roots allow servers to ask for
    specific directories or files to operate on. A common example for roots is providing a set of
    repositories or directories a server should operate on.
    """

    params: ListRootsRequestParams | None = None


class ListRootsResult(_Base, kw_only=True):
    """The result returned by the client for a {@link ListRootsRequestroots/list} request. This result
    contains an array of {@link Root} objects, each representing a root directory or file that the
    server can operate on.
    """

    roots: list[Root]


class ListToolsRequest(_Base, kw_only=True, tag_field="method", tag="tools/list"):
    """Sent from the client to request a list of tools the server has."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: PaginatedRequestParams


class ListToolsResult(_Base, kw_only=True):
    """The result returned by the server for a {@link ListToolsRequesttools/list} request."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    cache_scope: Literal["private", "public"] = msgspec.field(name="cacheScope")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    result_type: str = msgspec.field(name="resultType")
    tools: list[Tool]
    ttl_ms: int = msgspec.field(name="ttlMs")


class ListToolsResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link ListToolsRequesttools/list} request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: ListToolsResult


class LoggingMessageNotification(_Base, kw_only=True, tag_field="method", tag="notifications/message"):
    """JSONRPCNotification of a log message passed from server to client. The client opts in by setting
    `"io.modelcontextprotocol/logLevel"` in a request's `_meta`.
    """

    jsonrpc: Literal["2.0"]
    params: LoggingMessageNotificationParams


class LoggingMessageNotificationParams(_Base, kw_only=True):
    """Parameters for a `notifications/message` notification."""

    meta: NotificationMetaObject | None = msgspec.field(default=None, name="_meta")
    data: Any
    level: LoggingLevel
    logger: str | None = None


class MethodNotFoundError(_Base, kw_only=True):
    """A JSON-RPC error indicating that the requested method does not exist or is not available."""

    code: Literal[-32601]
    data: Any = None
    message: str


class MissingRequiredClientCapabilityError(_Base, kw_only=True):
    """Returned when processing a request requires a capability the client did not declare in
    `clientCapabilities`. For HTTP, the response status code MUST be `400 Bad Request`.
    """

    error: Any
    id: RequestId | None = None
    jsonrpc: Literal["2.0"]


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


class NotificationMetaObject(_Base, kw_only=True):
    """Extends {@link MetaObject} with additional notification-specific fields. All key naming rules from
    `MetaObject` apply.
    """

    subscription_id: RequestId | None = msgspec.field(
        default=None, name="io.modelcontextprotocol/subscriptionId"
    )


class NotificationParams(_Base, kw_only=True):
    """Common params for any notification."""

    meta: NotificationMetaObject | None = msgspec.field(default=None, name="_meta")


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
    params: PaginatedRequestParams


class PaginatedRequestParams(_Base, kw_only=True):
    """Common params for paginated requests."""

    meta: RequestMetaObject = msgspec.field(name="_meta")
    cursor: str | None = None


class PaginatedResult(_Base, kw_only=True):
    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    next_cursor: str | None = msgspec.field(default=None, name="nextCursor")
    result_type: str = msgspec.field(name="resultType")


class ParseError(_Base, kw_only=True):
    """A JSON-RPC error indicating that invalid JSON was received by the server. This error is returned
    when the server cannot parse the JSON text of a message.
    """

    code: Literal[-32700]
    data: Any = None
    message: str


class ProgressNotification(_Base, kw_only=True, tag_field="method", tag="notifications/progress"):
    """An out-of-band notification used to inform the receiver of a progress update for a long-running
    request.
    """

    jsonrpc: Literal["2.0"]
    params: ProgressNotificationParams


class ProgressNotificationParams(_Base, kw_only=True):
    """Parameters for a {@link ProgressNotificationnotifications/progress} notification."""

    meta: NotificationMetaObject | None = msgspec.field(default=None, name="_meta")
    message: str | None = None
    progress: float
    progress_token: ProgressToken = msgspec.field(name="progressToken")
    total: float | None = None


class Prompt(_Base, kw_only=True):
    """A prompt or prompt template that the server offers."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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
    offers has changed. This is only delivered on a {@link
    SubscriptionsListenRequestsubscriptions/listen} stream when the client requested it via the
    `promptsListChanged` filter field.
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

    meta: RequestMetaObject = msgspec.field(name="_meta")
    input_responses: InputResponses | None = msgspec.field(default=None, name="inputResponses")
    request_state: str | None = msgspec.field(default=None, name="requestState")
    uri: str


class ReadResourceResult(_Base, kw_only=True):
    """The result returned by the server for a {@link ReadResourceRequestresources/read} request."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    cache_scope: Literal["private", "public"] = msgspec.field(name="cacheScope")
    contents: list[ReadResourceResultContentsItem]
    result_type: str = msgspec.field(name="resultType")
    ttl_ms: int = msgspec.field(name="ttlMs")


class ReadResourceResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link ReadResourceRequestresources/read} request."""

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: ReadResourceResultResponseResult


class Request(_Base, kw_only=True):
    method: str
    params: dict[str, Any] | None = None


class RequestMetaObject(_Base, kw_only=True):
    """Extends {@link MetaObject} with additional request-specific fields. All key naming rules from
    `MetaObject` apply.
    """

    client_capabilities: ClientCapabilities = msgspec.field(name="io.modelcontextprotocol/clientCapabilities")
    client_info: Implementation | None = msgspec.field(
        default=None, name="io.modelcontextprotocol/clientInfo"
    )
    log_level: LoggingLevel | None = msgspec.field(default=None, name="io.modelcontextprotocol/logLevel")
    protocol_version: str = msgspec.field(name="io.modelcontextprotocol/protocolVersion")
    progress_token: ProgressToken | None = msgspec.field(default=None, name="progressToken")


class RequestParams(_Base, kw_only=True):
    """Common params for any request."""

    meta: RequestMetaObject = msgspec.field(name="_meta")


class Resource(_Base, kw_only=True):
    """A known resource that the server is capable of reading."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
    mime_type: str | None = msgspec.field(default=None, name="mimeType")
    uri: str


class ResourceLink(_Base, kw_only=True, tag_field="type", tag="resource_link"):
    """A resource that the server is capable of reading, included in a prompt or tool call result."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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
    can read from has changed. This is only delivered on a {@link
    SubscriptionsListenRequestsubscriptions/listen} stream when the client requested it via the
    `resourcesListChanged` filter field.
    """

    jsonrpc: Literal["2.0"]
    params: NotificationParams | None = None


class ResourceRequestParams(_Base, kw_only=True):
    """Common params for resource-related requests."""

    meta: RequestMetaObject = msgspec.field(name="_meta")
    uri: str


class ResourceTemplate(_Base, kw_only=True):
    """A template description for resources available on the server."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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
    to be read again. This is only sent for resources the client opted in to via the
    `resourceSubscriptions` field of a {@link SubscriptionsListenRequestsubscriptions/listen} request.
    """

    jsonrpc: Literal["2.0"]
    params: ResourceUpdatedNotificationParams


class ResourceUpdatedNotificationParams(_Base, kw_only=True):
    """Parameters for a `notifications/resources/updated` notification."""

    meta: NotificationMetaObject | None = msgspec.field(default=None, name="_meta")
    uri: str


class Result(_Base, kw_only=True):
    """Common result fields."""

    meta: ResultMetaObject | None = msgspec.field(default=None, name="_meta")
    result_type: str = msgspec.field(name="resultType")


class ResultMetaObject(_Base, kw_only=True):
    """Extends {@link MetaObject} with additional result-specific fields. All key naming rules from
    `MetaObject` apply.
    """

    server_info: Implementation | None = msgspec.field(
        default=None, name="io.modelcontextprotocol/serverInfo"
    )


class Root(_Base, kw_only=True):
    """Represents a root directory or file that the server can operate on."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
    name: str | None = None
    uri: str


class SamplingMessage(_Base, kw_only=True):
    """Describes a message issued to or received from an LLM API."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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


class ServerCapabilitiesTools(_Base, kw_only=True):
    """Present if the server offers any tools to call."""

    list_changed: bool | None = msgspec.field(default=None, name="listChanged")


class ServerCapabilities(_Base, kw_only=True):
    """Capabilities that a server may support. Known capabilities are defined here, in this schema, but
    this is not a closed set: any server can define its own, additional capabilities.
    """

    completions: JSONObject | None = None
    experimental: dict[str, Any] | None = None
    extensions: dict[str, JSONObject] | None = None
    logging: JSONObject | None = None
    prompts: ServerCapabilitiesPrompts | None = None
    resources: ServerCapabilitiesResources | None = None
    tools: ServerCapabilitiesTools | None = None


class StringSchema(_Base, kw_only=True, tag_field="type", tag="string"):
    default: str | None = None
    description: str | None = None
    format: Literal["date", "date-time", "email", "uri"] | None = None
    max_length: int | None = msgspec.field(default=None, name="maxLength")
    min_length: int | None = msgspec.field(default=None, name="minLength")
    title: str | None = None


class SubscriptionFilter(_Base, kw_only=True):
    """The set of notification types a client may opt in to on a {@link
    SubscriptionsListenRequestsubscriptions/listen} request.
    """

    prompts_list_changed: bool | None = msgspec.field(default=None, name="promptsListChanged")
    resource_subscriptions: list[str] | None = msgspec.field(default=None, name="resourceSubscriptions")
    resources_list_changed: bool | None = msgspec.field(default=None, name="resourcesListChanged")
    tools_list_changed: bool | None = msgspec.field(default=None, name="toolsListChanged")


class SubscriptionsAcknowledgedNotification(
    _Base, kw_only=True, tag_field="method", tag="notifications/subscriptions/acknowledged"
):
    """Sent by the server to acknowledge that a {@link SubscriptionsListenRequestsubscriptions/listen}
    subscription has been established and to report which notification types it agreed to honor.
    """

    jsonrpc: Literal["2.0"]
    params: SubscriptionsAcknowledgedNotificationParams


class SubscriptionsAcknowledgedNotificationParams(_Base, kw_only=True):
    """Parameters for a {@link
    SubscriptionsAcknowledgedNotificationnotifications/subscriptions/acknowledged} notification.
    """

    meta: NotificationMetaObject | None = msgspec.field(default=None, name="_meta")
    notifications: SubscriptionFilter


class SubscriptionsListenRequest(_Base, kw_only=True, tag_field="method", tag="subscriptions/listen"):
    """Sent from the client to open a long-lived channel for receiving notifications outside the context of
    a specific request. Replaces the previous HTTP GET endpoint and ensures consistent behavior between
    HTTP and STDIO.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    params: SubscriptionsListenRequestParams


class SubscriptionsListenRequestParams(_Base, kw_only=True):
    """Parameters for a {@link SubscriptionsListenRequestsubscriptions/listen} request."""

    meta: RequestMetaObject = msgspec.field(name="_meta")
    notifications: SubscriptionFilter


class SubscriptionsListenResult(_Base, kw_only=True):
    """The response to a {@link SubscriptionsListenRequestsubscriptions/listen} request, signalling that
    the subscription has ended gracefully (for example, during server shutdown). Because the listen
    stream is long-lived, this result is sent only when the server tears the subscription down; an
    abrupt transport close carries no response. The result body is otherwise empty.
    """

    meta: SubscriptionsListenResultMetaObject = msgspec.field(name="_meta")
    result_type: str = msgspec.field(name="resultType")


class SubscriptionsListenResultMetaObject(_Base, kw_only=True):
    """Extends {@link ResultMetaObject} with the subscription-stream identifier carried by a {@link
    SubscriptionsListenResult}. All key naming rules from `MetaObject` apply.
    """

    server_info: Implementation | None = msgspec.field(
        default=None, name="io.modelcontextprotocol/serverInfo"
    )
    subscription_id: RequestId = msgspec.field(name="io.modelcontextprotocol/subscriptionId")


class SubscriptionsListenResultResponse(_Base, kw_only=True):
    """A successful response from the server for a {@link SubscriptionsListenRequestsubscriptions/listen}
    request, sent when the server tears the subscription down gracefully.
    """

    id: RequestId
    jsonrpc: Literal["2.0"]
    result: SubscriptionsListenResult


class TextContent(_Base, kw_only=True, tag_field="type", tag="text"):
    """Text provided to or from an LLM."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
    annotations: Annotations | None = None
    text: str


class TextResourceContents(_Base, kw_only=True):
    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
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

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
    annotations: ToolAnnotations | None = None
    description: str | None = None
    icons: list[Icon] | None = None
    input_schema: dict[str, Any] = msgspec.field(name="inputSchema")
    name: str
    output_schema: dict[str, Any] | None = msgspec.field(default=None, name="outputSchema")
    title: str | None = None


class ToolAnnotations(_Base, kw_only=True):
    """Additional properties describing a {@link Tool} to clients."""

    destructive_hint: bool | None = msgspec.field(default=None, name="destructiveHint")
    idempotent_hint: bool | None = msgspec.field(default=None, name="idempotentHint")
    open_world_hint: bool | None = msgspec.field(default=None, name="openWorldHint")
    read_only_hint: bool | None = msgspec.field(default=None, name="readOnlyHint")
    title: str | None = None


class ToolChoice(_Base, kw_only=True):
    """Controls tool selection behavior for sampling requests."""

    mode: Literal["auto", "none", "required"] | None = None


class ToolListChangedNotification(
    _Base, kw_only=True, tag_field="method", tag="notifications/tools/list_changed"
):
    """An optional notification from the server to the client, informing it that the list of tools it
    offers has changed. This is only delivered on a {@link
    SubscriptionsListenRequestsubscriptions/listen} stream when the client requested it via the
    `toolsListChanged` filter field.
    """

    jsonrpc: Literal["2.0"]
    params: NotificationParams | None = None


class ToolResultContent(_Base, kw_only=True, tag_field="type", tag="tool_result"):
    """The result of a tool use, provided by the user back to the assistant."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
    content: list[ContentBlock]
    is_error: bool | None = msgspec.field(default=None, name="isError")
    structured_content: Any = msgspec.field(default=None, name="structuredContent")
    tool_use_id: str = msgspec.field(name="toolUseId")


class ToolUseContent(_Base, kw_only=True, tag_field="type", tag="tool_use"):
    """A request from the assistant to call a tool."""

    meta: MetaObject | None = msgspec.field(default=None, name="_meta")
    id: str
    input: dict[str, Any]
    name: str


class UnsupportedProtocolVersionError(_Base, kw_only=True):
    """Returned when the request's protocol version is unknown to the server or unsupported (e.g., a known
    experimental or draft version the server has chosen not to implement). For HTTP, the response status
    code MUST be `400 Bad Request`.
    """

    error: Any
    id: RequestId | None = None
    jsonrpc: Literal["2.0"]


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


ClientResult = Result
EmptyResult = Result
CallToolResultResponseResult = Any  # an untagged union msgspec cannot decode: kept as plain JSON
ClientRequest = (
    DiscoverRequest
    | ListResourcesRequest
    | ListResourceTemplatesRequest
    | ReadResourceRequest
    | SubscriptionsListenRequest
    | ListPromptsRequest
    | GetPromptRequest
    | ListToolsRequest
    | CallToolRequest
    | CompleteRequest
)
CompleteRequestParamsRef = PromptReference | ResourceTemplateReference
ContentBlock = TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource
ElicitRequestParams = Any  # an untagged union msgspec cannot decode: kept as plain JSON
EmbeddedResourceResource = Any  # an untagged union msgspec cannot decode: kept as plain JSON
EnumSchema = Any  # an untagged union msgspec cannot decode: kept as plain JSON
GetPromptResultResponseResult = Any  # an untagged union msgspec cannot decode: kept as plain JSON
InputRequest = CreateMessageRequest | ListRootsRequest | ElicitRequest
InputResponse = Any  # an untagged union msgspec cannot decode: kept as plain JSON
JSONRPCMessage = Any  # an untagged union msgspec cannot decode: kept as plain JSON
JSONRPCResponse = Any  # an untagged union msgspec cannot decode: kept as plain JSON
MultiSelectEnumSchema = Any  # an untagged union msgspec cannot decode: kept as plain JSON
PrimitiveSchemaDefinition = Any  # an untagged union msgspec cannot decode: kept as plain JSON
ReadResourceResultContentsItem = Any  # an untagged union msgspec cannot decode: kept as plain JSON
ReadResourceResultResponseResult = Any  # an untagged union msgspec cannot decode: kept as plain JSON
SamplingMessageContentBlock = TextContent | ImageContent | AudioContent | ToolUseContent | ToolResultContent
ServerNotification = (
    CancelledNotification
    | ProgressNotification
    | ResourceListChangedNotification
    | SubscriptionsAcknowledgedNotification
    | ResourceUpdatedNotification
    | PromptListChangedNotification
    | ToolListChangedNotification
    | LoggingMessageNotification
)
ServerResult = Any  # an untagged union msgspec cannot decode: kept as plain JSON
SingleSelectEnumSchema = Any  # an untagged union msgspec cannot decode: kept as plain JSON
InputRequests = dict[str, InputRequest]
InputResponses = dict[str, InputResponse]
JSONArray = list[JSONValue]
JSONObject = dict[str, JSONValue]

CLIENT_REQUESTS: dict[str, type] = {
    "server/discover": DiscoverRequest,
    "resources/list": ListResourcesRequest,
    "resources/templates/list": ListResourceTemplatesRequest,
    "resources/read": ReadResourceRequest,
    "subscriptions/listen": SubscriptionsListenRequest,
    "prompts/list": ListPromptsRequest,
    "prompts/get": GetPromptRequest,
    "tools/list": ListToolsRequest,
    "tools/call": CallToolRequest,
    "completion/complete": CompleteRequest,
}
CLIENT_NOTIFICATIONS: dict[str, type] = {}
SERVER_REQUESTS: dict[str, type] = {}
SERVER_NOTIFICATIONS: dict[str, type] = {
    "notifications/cancelled": CancelledNotification,
    "notifications/progress": ProgressNotification,
    "notifications/resources/list_changed": ResourceListChangedNotification,
    "notifications/subscriptions/acknowledged": SubscriptionsAcknowledgedNotification,
    "notifications/resources/updated": ResourceUpdatedNotification,
    "notifications/prompts/list_changed": PromptListChangedNotification,
    "notifications/tools/list_changed": ToolListChangedNotification,
    "notifications/message": LoggingMessageNotification,
}
PARAMS_TYPES: dict[str, Any] = {
    "server/discover": RequestParams,
    "resources/list": PaginatedRequestParams,
    "resources/templates/list": PaginatedRequestParams,
    "resources/read": ReadResourceRequestParams,
    "subscriptions/listen": SubscriptionsListenRequestParams,
    "prompts/list": PaginatedRequestParams,
    "prompts/get": GetPromptRequestParams,
    "tools/list": PaginatedRequestParams,
    "tools/call": CallToolRequestParams,
    "completion/complete": CompleteRequestParams,
    "notifications/cancelled": CancelledNotificationParams,
    "notifications/progress": ProgressNotificationParams,
    "notifications/resources/list_changed": NotificationParams,
    "notifications/subscriptions/acknowledged": SubscriptionsAcknowledgedNotificationParams,
    "notifications/resources/updated": ResourceUpdatedNotificationParams,
    "notifications/prompts/list_changed": NotificationParams,
    "notifications/tools/list_changed": NotificationParams,
    "notifications/message": LoggingMessageNotificationParams,
}
ClientMessage = (
    DiscoverRequest
    | ListResourcesRequest
    | ListResourceTemplatesRequest
    | ReadResourceRequest
    | SubscriptionsListenRequest
    | ListPromptsRequest
    | GetPromptRequest
    | ListToolsRequest
    | CallToolRequest
    | CompleteRequest
)
ServerMessage = (
    CancelledNotification
    | ProgressNotification
    | ResourceListChangedNotification
    | SubscriptionsAcknowledgedNotification
    | ResourceUpdatedNotification
    | PromptListChangedNotification
    | ToolListChangedNotification
    | LoggingMessageNotification
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
    "CacheableResult",
    "CallToolRequest",
    "CallToolRequestParams",
    "CallToolResult",
    "CallToolResultResponse",
    "CallToolResultResponseResult",
    "CancelledNotification",
    "CancelledNotificationParams",
    "ClientCapabilities",
    "ClientCapabilitiesElicitation",
    "ClientCapabilitiesSampling",
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
    "CompleteResultResponse",
    "ContentBlock",
    "CreateMessageRequest",
    "CreateMessageRequestParams",
    "CreateMessageResult",
    "Cursor",
    "DiscoverRequest",
    "DiscoverResult",
    "DiscoverResultResponse",
    "ElicitRequest",
    "ElicitRequestFormParams",
    "ElicitRequestParams",
    "ElicitRequestURLParams",
    "ElicitResult",
    "EmbeddedResource",
    "EmbeddedResourceResource",
    "EmptyResult",
    "EnumSchema",
    "Error",
    "GetPromptRequest",
    "GetPromptRequestParams",
    "GetPromptResult",
    "GetPromptResultResponse",
    "GetPromptResultResponseResult",
    "HeaderMismatchError",
    "Icon",
    "Icons",
    "ImageContent",
    "Implementation",
    "InputRequest",
    "InputRequests",
    "InputRequiredResult",
    "InputResponse",
    "InputResponseRequestParams",
    "InputResponses",
    "InternalError",
    "InvalidParamsError",
    "InvalidRequestError",
    "JSONArray",
    "JSONObject",
    "JSONRPCErrorResponse",
    "JSONRPCMessage",
    "JSONRPCNotification",
    "JSONRPCRequest",
    "JSONRPCResponse",
    "JSONRPCResultResponse",
    "JSONValue",
    "LegacyTitledEnumSchema",
    "ListPromptsRequest",
    "ListPromptsResult",
    "ListPromptsResultResponse",
    "ListResourceTemplatesRequest",
    "ListResourceTemplatesResult",
    "ListResourceTemplatesResultResponse",
    "ListResourcesRequest",
    "ListResourcesResult",
    "ListResourcesResultResponse",
    "ListRootsRequest",
    "ListRootsRequestParams",
    "ListRootsResult",
    "ListToolsRequest",
    "ListToolsResult",
    "ListToolsResultResponse",
    "LoggingLevel",
    "LoggingMessageNotification",
    "LoggingMessageNotificationParams",
    "MetaObject",
    "MethodNotFoundError",
    "MissingRequiredClientCapabilityError",
    "ModelHint",
    "ModelPreferences",
    "MultiSelectEnumSchema",
    "Notification",
    "NotificationMetaObject",
    "NotificationParams",
    "NumberSchema",
    "PaginatedRequest",
    "PaginatedRequestParams",
    "PaginatedResult",
    "ParseError",
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
    "ReadResourceResultResponse",
    "ReadResourceResultResponseResult",
    "Request",
    "RequestId",
    "RequestMetaObject",
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
    "ResultMetaObject",
    "ResultType",
    "Role",
    "Root",
    "SamplingMessage",
    "SamplingMessageContentBlock",
    "ServerCapabilities",
    "ServerCapabilitiesPrompts",
    "ServerCapabilitiesResources",
    "ServerCapabilitiesTools",
    "ServerMessage",
    "ServerNotification",
    "ServerResult",
    "SingleSelectEnumSchema",
    "StringSchema",
    "SubscriptionFilter",
    "SubscriptionsAcknowledgedNotification",
    "SubscriptionsAcknowledgedNotificationParams",
    "SubscriptionsListenRequest",
    "SubscriptionsListenRequestParams",
    "SubscriptionsListenResult",
    "SubscriptionsListenResultMetaObject",
    "SubscriptionsListenResultResponse",
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
    "ToolListChangedNotification",
    "ToolResultContent",
    "ToolUseContent",
    "UnsupportedProtocolVersionError",
    "UntitledMultiSelectEnumSchema",
    "UntitledMultiSelectEnumSchemaItems",
    "UntitledSingleSelectEnumSchema",
]
