"""Authorization (basic/authorization.mdx): mcprt as an OAuth 2.1 resource server.

`Principal` is who a verified access token speaks for; a `TokenVerifier` turns a bearer token into one or
refuses it. The HTTP transport asks the verifier before any MCP processing; the rest of the runtime sees
only the `Principal` (in `Context.principal`, in the scope checks, in the session's binding).
"""

from runtime.auth.principal import InvalidToken, Principal, TokenVerifier, VerifierUnavailable

__all__ = ["InvalidToken", "Principal", "TokenVerifier", "VerifierUnavailable"]
