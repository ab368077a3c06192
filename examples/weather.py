"""A tool with structured output, a resource template, a prompt and its argument completion (the README's
"Writing a server"). Run it with

    mcprt serve examples/weather.py --stdio        # or: --http 127.0.0.1:8000
"""

from typing import Annotated

import msgspec

from runtime import Context, Server, ToolError

server = Server("weather", "1.0.0", instructions="Ask for forecasts by city.")

CITIES = {"Paris": 21.5, "Porto": 24.0, "Prague": 17.0}


class Forecast(msgspec.Struct):
    city: str
    celsius: float


@server.tool()
async def forecast(city: Annotated[str, msgspec.Meta(description="a city name")], ctx: Context) -> Forecast:
    """Tomorrow's forecast for a city."""
    ctx.info(f"looking up {city}")  # notifications/message, honouring logging/setLevel
    if city not in CITIES:
        raise ToolError(f"no forecast for {city}; try one of {', '.join(CITIES)}")  # isError, for the model
    return Forecast(city=city, celsius=CITIES[city])  # structuredContent + outputSchema from the annotation


@server.resource("weather://cities/{city}/today", mime_type="text/plain")
def today(city: str) -> str:
    return f"Sunny in {city}"


@server.prompt()
def plan_trip(city: str, days: str = "3") -> str:
    """Plan a trip."""
    return f"Plan a {days}-day trip to {city}, checking the forecast first."


@server.completion(prompt="plan_trip", argument="city")
def cities(value: str) -> list[str]:
    return [c for c in CITIES if c.lower().startswith(value.lower())]
