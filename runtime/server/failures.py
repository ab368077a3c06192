"""What a peer learns of an unexpected exception: a generic message and an opaque reference. The exception
itself (its text may hold paths, queries, secrets) goes to this process's log under the same reference."""

from __future__ import annotations

import contextlib
import secrets
import sys
import traceback

from runtime.protocol import jsonrpc as rpc


class ToolError(RuntimeError):
    """Raise it in a tool to tell the model what went wrong: its message is the `isError` result's text.
    Any other exception's text stays in the server log; the result then names only a reference."""


def report(where: str, exc: BaseException) -> str:
    """Log `exc` with its traceback under a new reference; returns the reference."""
    reference = secrets.token_hex(6)
    trace = "".join(traceback.format_exception(exc)).rstrip()
    with contextlib.suppress(OSError, ValueError):  # a closed stderr must not turn one failure into a crash
        print(f"mcprt: error {reference} in {where}:\n{trace}", file=sys.stderr, flush=True)
    return reference


def internal_error(method: str, exc: BaseException) -> rpc.McpError:
    """The -32603 answer to a request whose handler raised `exc`."""
    reference = report(f"handler of {method}", exc)
    message = f"Internal error (reference {reference})"
    return rpc.McpError(rpc.INTERNAL_ERROR, message, {"reference": reference})


def hidden(where: str, exc: BaseException) -> str:
    """A model- or peer-visible text for `exc`: a `ToolError`'s own message, else a reference to the log."""
    if isinstance(exc, ToolError):
        return str(exc) or type(exc).__name__
    return f"internal error (reference {report(where, exc)})"
