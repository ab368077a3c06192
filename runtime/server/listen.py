"""`subscriptions/listen` (2026-07-28 basic/patterns/subscriptions.mdx): a modern client's long-lived stream
of the change notifications it opted in to, in place of the legacy GET stream and resources/subscribe.

The request stays in flight for as long as the stream is open: its handler acknowledges the filter, then
waits until it is cancelled (the client closes the stream, or sends notifications/cancelled on stdio).
Every notification on it names the subscription (the listen request's id) in `_meta`. With several workers
each worker tells its own listeners: the server already hands every change to every worker.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from runtime.protocol.jsonrpc import notification_message
from runtime.protocol.modern import META_SUBSCRIPTION

if TYPE_CHECKING:
    from runtime.server.context import Context

# Filter fields by the kind of list whose change they follow.
_LIST_FIELDS = {
    "tools": "toolsListChanged",
    "prompts": "promptsListChanged",
    "resources": "resourcesListChanged",
}


class _Listener:
    __slots__ = ("ctx", "lists", "subscription", "uris")

    def __init__(self, ctx: Context, lists: set[str], uris: set[str]) -> None:
        self.ctx = ctx
        self.subscription = ctx.request_id
        self.lists = lists
        self.uris = uris

    def send(self, method: str, params: dict[str, Any]) -> None:
        self.ctx.send_raw(
            notification_message(method, {"_meta": {META_SUBSCRIPTION: self.subscription}, **params})
        )


class Subscriptions:
    """The open listen streams of this process."""

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: set[_Listener] = set()

    def __len__(self) -> int:
        return len(self._listeners)

    async def listen(self, ctx: Context, params: Any) -> None:
        wanted = params.notifications
        capabilities = ctx._session.profile.capabilities
        honoured: dict[str, Any] = {}
        lists = set()
        for kind, field in _LIST_FIELDS.items():
            if getattr(wanted, _snake(field)) and kind in capabilities:
                honoured[field] = True
                lists.add(kind)
        uris: set[str] = set()
        if wanted.resource_subscriptions and capabilities.get("resources", {}).get("subscribe"):
            uris = set(wanted.resource_subscriptions)
            honoured["resourceSubscriptions"] = sorted(uris)
        listener = _Listener(ctx, lists, uris)
        listener.send("notifications/subscriptions/acknowledged", {"notifications": honoured})
        self._listeners.add(listener)
        try:
            await asyncio.get_running_loop().create_future()  # until the stream ends (cancellation)
        finally:
            self._listeners.discard(listener)

    def list_changed(self, kind: str) -> None:
        for listener in list(self._listeners):
            if kind in listener.lists:
                listener.send(f"notifications/{kind}/list_changed", {})

    def resource_updated(self, uri: str) -> None:
        for listener in list(self._listeners):
            if uri in listener.uris:
                listener.send("notifications/resources/updated", {"uri": uri})


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)
