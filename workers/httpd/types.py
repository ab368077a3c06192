"""What the HTTP layer hands to a handler: the request, and the limits it enforces."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec

from runtime.protocol.scan import DEFAULT_MAX_MESSAGE_BYTES

if TYPE_CHECKING:
    from workers.httpd.protocol import Responder


class HttpRequest(msgspec.Struct, gc=False):
    """One request. A Struct, not a plain class: msgspec builds it in C (it is made once per request)."""

    method: str
    path: str
    query: str
    headers: dict[str, bytes]  # lower-case names; raw values (decode the few you need)
    body: bytes
    keep_alive: bool
    client: tuple[str, int] | None
    principal: Any = None  # runtime.auth.Principal, set by the authorization guard when one is in front


# A coroutine (not any awaitable): the server runs it as a task.
Handler = Callable[[HttpRequest, "Responder"], Coroutine[Any, Any, None] | None]


@dataclass
class HttpLimits:
    """Every limit of the HTTP layer, with its default. Each answers with the status the RFCs name."""

    max_body_bytes: int = DEFAULT_MAX_MESSAGE_BYTES  # 413 Content Too Large
    max_header_bytes: int = 64 * 1024  # request line + headers; 431
    max_headers: int = 100  # 431
    header_timeout: float = 10.0  # to receive a request's headers; 408, then close
    body_timeout: float = 30.0  # to receive the body after the headers; 408, then close
    keep_alive_timeout: float = 5.0  # an idle connection is closed after this
    max_pipelined: int = 32  # queued requests per connection before reading pauses
    write_high_water: int = 256 * 1024  # transport buffer limits (flow control)
    write_low_water: int = 64 * 1024
    # After an error response that closes the connection (e.g. 413 before the body is read), the server
    # half-closes and reads on, discarding up to this many bytes for up to this long, so that the client,
    # still sending, can read the response instead of getting a connection reset.
    drain_max_bytes: int = 16 * 1024 * 1024
    drain_timeout: float = 5.0
