"""The README's tool search example (README "Tool search"), served by perf/tool_search_bench.py."""

from runtime import Server

server = Server("catalog", tool_search=True)  # or tool_search=ToolSearch(deferred=True, pinned=[...])


@server.tool()
def read_file(path: str) -> str:
    """Read the contents of a text file."""
    with open(path) as f:
        return f.read()


@server.tool()
def send_slack_message(channel: str, text: str) -> str:
    """Send a message to a Slack channel."""
    return f"sent to {channel}"


@server.tool()
def weather_forecast(city: str) -> str:
    """Tomorrow's weather forecast for a city."""
    return f"sunny in {city}"
