"""A stdio app whose code writes to stdout every way it can: nothing of it may reach the protocol stream."""

import logging
import subprocess
import sys

from runtime import Server

print("printed at import time")
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
log = logging.getLogger("noisy")

server = Server("noisy-test", "1.0.0")


@server.tool()
def printing() -> str:
    print("printed by a tool")
    sys.__stdout__.write("written to sys.__stdout__\n")  # type: ignore[union-attr]
    sys.__stdout__.flush()  # type: ignore[union-attr]
    return "printed"


@server.tool()
def child() -> str:
    subprocess.run(["echo", "echoed by a child"], check=True)
    subprocess.run(["cat"], check=True)  # reads the tool's stdin: must not swallow the client's messages
    return "child ran"


@server.tool()
def logs() -> str:
    log.info("logged to stdout")
    return "logged"
