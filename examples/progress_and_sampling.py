"""A tool that talks back to the client while it runs: progress, log messages, a question to the user
(elicitation) and a request to the client's LLM (sampling). Run it with

    mcprt serve examples/progress_and_sampling.py --stdio     # or: --http 127.0.0.1:8000

The client must offer the elicitation and sampling capabilities (runtime.Client does when given
elicitation_handler= and sampling_handler=).
"""

import asyncio

import msgspec

from runtime import Context, Server
from runtime.protocol import types as t

server = Server("progress-and-sampling", "1.0.0")


class Topic(msgspec.Struct):
    """What the user answers: the restricted JSON Schema of the form comes from these fields."""

    topic: str
    words: int = 50


@server.tool()
async def write_summary(steps: int, ctx: Context) -> str:
    """Ask the user for a topic, report progress while preparing, then have the client's LLM write."""
    answer = await ctx.elicit("What should the summary be about?", Topic)  # elicitation/create
    if answer.action != "accept" or answer.content is None:
        return f"No summary: the user chose {answer.action}."
    choice = msgspec.convert(answer.content, Topic)
    for step in range(1, steps + 1):
        ctx.report_progress(step, steps, f"step {step} of {steps}")  # only if the caller sent a token
        ctx.debug(f"finished step {step}")  # sent if the client set logging/setLevel to debug
        await asyncio.sleep(0.01)
    reply = await ctx.sample(f"Summarize {choice.topic} in {choice.words} words.", max_tokens=200)
    text = reply.content.text if isinstance(reply.content, t.TextContent) else "(not text)"
    ctx.info("summary written")
    return text
