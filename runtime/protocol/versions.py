"""Protocol revisions this runtime speaks and how a version is negotiated.

A `Revision` answers every question about what one protocol revision has: the session core, the transports
and the result shaping (runtime/protocol/downgrade.py) ask the negotiated revision, never compare version
strings. The flags come from the spec's changelogs (docs/specification/<version>/changelog.mdx) and its
schemas (schema/<version>/schema.json).

Two eras (2026-07-28 basic/versioning.mdx): *legacy* revisions (`stateful`) open a session with the
initialize handshake; *modern* ones (2026-07-28) carry version and client capabilities in every request's
`_meta` and keep nothing between requests. Both are served on one endpoint: initialize negotiates among the
legacy ones only, a request naming a modern version is served by runtime/protocol/modern.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Revision:
    version: str
    stateful: bool = True  # initialize handshake and sessions
    # -- base protocol and transports
    has_batches: bool = False  # JSON-RPC batches (added 2025-03-26, removed 2025-06-18)
    has_streamable_http: bool = False  # Streamable HTTP replaced HTTP+SSE (2025-03-26)
    has_resumable_streams: bool = False  # SSE event ids and GET with Last-Event-ID (2025-03-26)
    has_version_header: bool = False  # MCP-Protocol-Version on every HTTP request (2025-06-18)
    has_sse_polling: bool = False  # priming events; servers may close SSE streams at will (2025-11-25)
    has_progress_message: bool = False  # notifications/progress `message` (2025-03-26)
    has_item_meta: bool = False  # `_meta` on tools, resources, prompts and content blocks (2025-06-18)
    # -- server features
    has_completions: bool = False  # the `completions` capability and completion/complete (2025-03-26)
    has_tool_annotations: bool = False  # Tool.annotations (2025-03-26)
    has_audio_content: bool = False  # AudioContent blocks (2025-03-26)
    has_titles: bool = False  # `title` on tools, resources, prompts, arguments, serverInfo (2025-06-18)
    has_structured_output: bool = False  # outputSchema / structuredContent (2025-06-18)
    has_resource_links: bool = False  # resource_link content blocks in tool results (2025-06-18)
    has_last_modified: bool = False  # Annotations.lastModified (2025-06-18)
    has_icons: bool = False  # icons; serverInfo description and websiteUrl (2025-11-25)
    has_tool_execution: bool = False  # Tool.execution (taskSupport) (2025-11-25)
    has_tasks: bool = False  # tasks/* and task-augmented requests (2025-11-25)
    # -- client features (requests the server sends)
    has_elicitation: bool = False  # elicitation/create (2025-06-18)
    has_url_elicitation: bool = False  # elicitation modes: "form" named, "url" added (2025-11-25)
    has_sampling_tools: bool = False  # sampling/createMessage `tools` and `toolChoice` (2025-11-25)
    # -- the modern era (2026-07-28 changelog)
    has_result_type: bool = False  # `resultType` on every result; `_meta` serverInfo on results
    has_cacheable_results: bool = False  # `ttlMs`/`cacheScope` on lists, resources/read and server/discover
    has_method_headers: bool = False  # Mcp-Method, Mcp-Name and Mcp-Param-* on HTTP POSTs, checked
    has_input_requests: bool = False  # server-to-client requests only as InputRequiredResult (MRTR)
    resource_not_found: int = -32002  # the error code of resources/read of an unknown URI (-32602 from 2026)
    # Client methods this revision does not have (answered "Method not found") and those only it has.
    removed_methods: frozenset[str] = frozenset()
    added_methods: frozenset[str] = frozenset()

    def has_method(self, method: str) -> bool:
        return method not in self.removed_methods and (
            method not in _ERA_METHODS or method in self.added_methods
        )

    @property
    def has_everything(self) -> bool:
        """Whether results need no shaping for this revision (what the server builds is its shape): the
        latest legacy revision, and the modern one, whose content types are the same."""
        return self is _LATEST_REVISION or self is _MODERN_REVISION


# Each revision is its predecessor plus what its changelog adds (and minus what it removes).
_V2024_11_05 = Revision("2024-11-05")
_V2025_03_26 = replace(
    _V2024_11_05,
    version="2025-03-26",
    has_batches=True,
    has_streamable_http=True,
    has_resumable_streams=True,
    has_progress_message=True,
    has_completions=True,
    has_tool_annotations=True,
    has_audio_content=True,
)
_V2025_06_18 = replace(
    _V2025_03_26,
    version="2025-06-18",
    has_batches=False,
    has_version_header=True,
    has_item_meta=True,
    has_titles=True,
    has_structured_output=True,
    has_resource_links=True,
    has_last_modified=True,
    has_elicitation=True,
)
_V2025_11_25 = replace(
    _V2025_06_18,
    version="2025-11-25",
    has_sse_polling=True,
    has_icons=True,
    has_tool_execution=True,
    has_tasks=True,
    has_url_elicitation=True,
    has_sampling_tools=True,
)
# Methods that exist from 2026-07-28 only: a legacy session does not have them.
_ERA_METHODS = frozenset({"server/discover", "subscriptions/listen", "tasks/update"})
_V2026_07_28 = replace(
    _V2025_11_25,
    version="2026-07-28",
    stateful=False,
    has_resumable_streams=False,  # no SSE event ids, no GET stream
    has_sse_polling=False,
    has_tasks=False,  # an extension now (io.modelcontextprotocol/tasks), not the core
    has_tool_execution=False,
    has_url_elicitation=True,
    has_result_type=True,
    has_cacheable_results=True,
    has_method_headers=True,
    has_input_requests=True,
    resource_not_found=-32602,
    removed_methods=frozenset(
        {
            "initialize",
            "ping",
            "logging/setLevel",
            "resources/subscribe",
            "resources/unsubscribe",
            "tasks/result",  # tasks/get and tasks/cancel come back with the tasks extension
            "tasks/list",
            "notifications/initialized",
            "notifications/roots/list_changed",
        }
    ),
    added_methods=_ERA_METHODS,
)
_MODERN_REVISION = _V2026_07_28
_LATEST_REVISION = _V2025_11_25  # the latest legacy revision: what initialize negotiates at best
MODERN = _V2026_07_28.version

REVISIONS: dict[str, Revision] = {
    r.version: r for r in (_V2026_07_28, _V2025_11_25, _V2025_06_18, _V2025_03_26, _V2024_11_05)
}
LEGACY_VERSIONS: tuple[str, ...] = tuple(v for v, r in REVISIONS.items() if r.stateful)

LATEST = _LATEST_REVISION.version
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(REVISIONS)
# What a Streamable HTTP request without MCP-Protocol-Version is assumed to speak (transports.mdx).
HTTP_DEFAULT_VERSION = "2025-03-26"


def negotiate(requested: str) -> str:
    """The version initialize answers with: the requested one if it is a supported legacy revision,
    otherwise the latest legacy one (a modern revision has no handshake to negotiate)."""
    return requested if requested in LEGACY_VERSIONS else LATEST


def revision(version: str) -> Revision:
    return REVISIONS.get(version) or REVISIONS[LATEST]
