"""Protocol revisions this runtime speaks and how a version is negotiated.

A `Revision` names what differs between protocol revisions that the session core must know about. The
2026-07-28 (stateless) revision will be added as another `Revision` with `stateful=False`; the core asks the
revision, not the version string, so adding it needs no rewrite of the session logic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Revision:
    version: str
    stateful: bool = True  # initialize handshake and sessions
    has_tasks: bool = False  # tasks/* and task-augmented requests (2025-11-25)
    has_elicitation: bool = False  # elicitation/create (2025-06-18)
    has_structured_output: bool = False  # outputSchema / structuredContent (2025-06-18)
    has_url_elicitation: bool = False  # elicitation URL mode (2025-11-25)


REVISIONS: dict[str, Revision] = {
    "2025-11-25": Revision(
        "2025-11-25",
        has_tasks=True,
        has_elicitation=True,
        has_structured_output=True,
        has_url_elicitation=True,
    ),
    "2025-06-18": Revision("2025-06-18", has_elicitation=True, has_structured_output=True),
    "2025-03-26": Revision("2025-03-26"),
    "2024-11-05": Revision("2024-11-05"),
}

LATEST = "2025-11-25"
SUPPORTED_VERSIONS: tuple[str, ...] = tuple(REVISIONS)
# What a Streamable HTTP request without MCP-Protocol-Version is assumed to speak (transports.mdx).
HTTP_DEFAULT_VERSION = "2025-03-26"


def negotiate(requested: str) -> str:
    """The version the server answers with: the requested one if supported, otherwise the latest."""
    return requested if requested in REVISIONS else LATEST


def revision(version: str) -> Revision:
    return REVISIONS.get(version) or REVISIONS[LATEST]
