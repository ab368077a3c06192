"""Every limit `mcprt serve --help` offers is in a README limits table, with its default."""

from __future__ import annotations

import argparse
import re

from runtime.cli import build_parser
from runtime.tasks import DEFAULT_MAX_TASKS
from tests.conftest import ROOT

NOT_LIMITS = {"--path", "--allow-origin", "--allow-host"}
# Authorization's settings name things (URLs, scopes, a client): README "Authorization" lists them.
NOT_LIMITS |= {"--auth-issuer", "--auth-audience", "--auth-scopes", "--auth-required-scopes", "--auth-client-id"}
# Flags whose default is computed at start, and how the README says it.
COMPUTED = {
    "--workers": "the usable CPUs",
    "--max-tasks": str(DEFAULT_MAX_TASKS),
    "--grace": "10 s; stdio 5 s",  # None: the transport chooses
}


def _rendered(value: object, flag: str) -> str:
    if value is None:
        return "off"
    if isinstance(value, float):
        return f"{value:g} s"
    assert isinstance(value, int)
    if "bytes" in flag or flag == "--cache-max-value":  # sizes in MiB or KiB, counts as they are
        if value % (1 << 20) == 0:
            return f"{value >> 20} MiB"
        if value % (1 << 10) == 0:
            return f"{value >> 10} KiB"
    return str(value)


def _serve_parser() -> argparse.ArgumentParser:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["serve"]  # type: ignore[no-any-return]


def test_every_limit_flag_is_in_a_readme_table_with_its_default() -> None:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `--")]
    defaults = vars(build_parser().parse_args(["serve"]))
    missing = []
    for action in _serve_parser()._actions:
        flag = next((o for o in action.option_strings if o.startswith("--")), None)
        if flag is None or flag in NOT_LIMITS or action.nargs == 0 or flag == "--http":
            continue
        row = next((r for r in rows if re.search(rf"`{re.escape(flag)}`", r.split("|")[1])), None)
        if row is None:
            missing.append(f"{flag}: no row")
            continue
        default = COMPUTED.get(flag) or _rendered(defaults[action.dest], flag)
        if default not in row.split("|")[2]:
            missing.append(f"{flag}: default {default!r} not in {row.split('|')[2]!r}")
    assert not missing, "\n".join(missing)
