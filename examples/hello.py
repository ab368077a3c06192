"""The smallest mcprt server: one tool. Run it with

    mcprt serve examples/hello.py --stdio          # or: --http 127.0.0.1:8000
"""

from runtime import Server

server = Server("hello", "1.0.0")


@server.tool()
def greet(name: str) -> str:
    """Say hello to someone."""  # the docstring is the tool's description; the type hints its inputSchema
    return f"Hello, {name}!"
