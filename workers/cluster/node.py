"""One worker's membership of the cluster: it plugs into the `Server` (runtime.server.app.Cluster) and the
Streamable HTTP endpoint, carries their cross-worker messages over the bus, and beats its heartbeat.

Messages (msgpack lists, first item the kind):
- ["event", "resource_updated", uri] / ["event", "list_changed", kind]: a server-wide event raised in another
  worker; this worker tells the sessions whose standalone stream it holds.
- ["notify", session_id, data]: a message for the session's standalone stream, sent to the worker its
  record names (`SessionState.stream_worker`).
- ["answer", session_id, request_id, result, error]: the client's answer to a request this worker sent
  (result and error as JSON bytes: the client's values may hold integers msgpack cannot).
- ["cancel", session_id, request_id, reason]: notifications/cancelled, for whichever worker runs it (the
  client's request id as JSON bytes, for the same reason).
- ["task_cancel", task_id]: tasks/cancel of a task running here.
- ["task", ...]: a task's messages for a tasks/result stream on another worker (runtime.tasks, `on_relayed`).
- ["end", session_id]: the session was deleted or expired through another worker.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from typing import TYPE_CHECKING, Any

import msgspec

from ipc.table import SharedTable
from runtime.protocol.core import Answer, ServerSession
from workers.cluster.bus import Bus
from workers.cluster.config import MAX_SLOTS, ClusterConfig, worker_key
from workers.cluster.follow import Follower

if TYPE_CHECKING:
    from runtime.server.app import Server
    from workers.cluster.sessions import SharedSessions
    from workers.httpd.protocol import ResponseStream
    from workers.streamable.transport import StreamableHttp


class ClusterNode:
    def __init__(
        self,
        server: Server,
        endpoint: StreamableHttp,
        sessions: SharedSessions,
        workers: SharedTable,
        config: ClusterConfig,
    ) -> None:
        self.server = server
        self.endpoint = endpoint
        self.sessions = sessions
        self.workers = workers
        self.config = config
        self.slot = config.slot
        self.loop = asyncio.get_running_loop()
        self.bus = Bus(config, self.loop, self._on_message)
        self.ready = False
        self._beat: asyncio.TimerHandle | None = None
        self._supervisor = os.getppid()
        ServerSession.ID_STRIDE = MAX_SLOTS
        ServerSession.ID_OFFSET = config.slot
        server.cluster = self
        server.tasks.worker = config.slot
        server.tasks.remote_cancel = lambda task_id: self.bus.broadcast(("task_cancel", task_id))
        server.tasks.relay = self._relay_task
        endpoint.forward_notify = self._forward_notify
        endpoint.on_get_stream = self._claim_stream
        # A POST stream's id ends with "-<slot>-<nonce>": a worker following it elsewhere knows when its
        # writer is gone (the heartbeat record of that slot names another process, or none).
        self.nonce = secrets.token_hex(4)
        endpoint.stream_tag = f"-{self.slot}-{self.nonce}"
        endpoint.follow_stream = self._follow
        endpoint.on_session_end = lambda session_id: self.bus.broadcast(("end", session_id))
        failed = server.tasks.fail_orphans(config.slot)  # left running by a previous worker of this slot
        if failed:
            print(f"mcprt: worker {self.slot}: {failed} task(s) of a stopped worker failed", file=sys.stderr)
        self.heartbeat()

    # -- runtime.server.app.Cluster ------------------------------------------------------------------------

    def publish(self, event: tuple[Any, ...]) -> None:
        self.bus.broadcast(("event", *event))

    def reachable(self, session: ServerSession) -> bool:
        """Whether this worker delivers the session's unrelated messages: it holds the GET stream the
        session's record names (a session may hold GET streams on several workers; one delivers)."""
        if session.state.session_id not in self.endpoint._get_streams:
            return False
        self.sessions.refresh(session)  # e.g. a subscription made through another worker
        return session.state.stream_worker in (self.slot, -1)

    def _claim_stream(self, session_id: str) -> None:
        """A GET stream opened here: this worker now carries the session's unrelated messages."""
        session = self.sessions.local(session_id)
        if session is not None:
            self.sessions.refresh(session)
            session.state.stream_worker = self.slot
            self.sessions.commit(session)

    def _follow(self, session_id: str, stream_id: str, conn: ResponseStream, last_event_id: str) -> None:
        events = self.endpoint.events
        limit = self.endpoint.settings.event_store_ttl
        Follower(events, session_id, conn, last_event_id, limit, lambda: self._writer_alive(stream_id))

    def _writer_alive(self, stream_id: str) -> bool:
        parts = stream_id.rsplit("-", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return True  # not a tagged stream: followed until it ends or idles out
        record = self.workers.get(worker_key(int(parts[1])))
        return record is not None and msgspec.msgpack.decode(record).get("nonce") == parts[2]

    def _forward_notify(self, session_id: str, data: bytes) -> bool:
        """A message for a session whose GET stream this worker does not hold: to the worker that does.
        False: no worker holds one."""
        session = self.sessions.local(session_id)
        if session is None:
            return False
        self.sessions.refresh(session)
        target = session.state.stream_worker
        if target >= 0 and target != self.slot:
            self.bus.send(target, ("notify", session_id, data))
            return True
        return False

    def forward_answer(self, session: ServerSession, answer: Answer) -> None:
        request_id = answer.request_id
        if type(request_id) is not int or not 0 <= request_id < 2**63 or request_id % MAX_SLOTS == self.slot:
            return  # ours (late or unknown), or not an id a worker of this server made
        result, error = _json(answer.result), _json(answer.error)
        self.bus.send(request_id % MAX_SLOTS, ("answer", session.state.session_id, request_id, result, error))

    def _relay_task(self, slot: int, message: tuple[Any, ...]) -> bool:
        """A task's message to the worker of `slot`; False when no worker runs there (it stays here)."""
        if self.workers.get(worker_key(slot)) is None:
            return False
        return self.bus.send(slot, ("task", *message))

    def forward_cancel(self, session: ServerSession, request_id: Any, reason: str | None) -> None:
        self.bus.broadcast(("cancel", session.state.session_id, _json(request_id), reason))

    # -- inbound -------------------------------------------------------------------------------------------

    def _on_message(self, message: list[Any]) -> None:
        kind = message[0]
        if kind == "event":
            if message[1] == "resource_updated":
                self.server.deliver_resource_updated(message[2])
            elif message[1] == "list_changed":
                self.server.deliver_list_changed(message[2])
        elif kind == "notify":
            stream = self.endpoint._get_streams.get(message[1])
            if stream is not None:
                stream.send(message[2])
        elif kind == "answer":
            session = self.sessions.local(message[1])
            if session is not None:
                result, error = _unjson(message[3]), _unjson(message[4])
                self.server.on_answer(session, Answer(message[2], result, error))
        elif kind == "cancel":
            session = self.sessions.local(message[1])
            handle = session.inflight.get(_unjson(message[2])) if session is not None else None
            if handle is not None:
                handle.cancel()
        elif kind == "task_cancel":
            self.server.tasks.cancel_local(message[1])
        elif kind == "task":
            self.server.tasks.on_relayed(message[1:])
        elif kind == "end":
            session = self.sessions.forget(message[1])
            self.endpoint._end_session(message[1], session, announce=False)

    # -- heartbeat -----------------------------------------------------------------------------------------

    def heartbeat(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
        if os.getppid() != self._supervisor:
            # The supervisor is gone (killed): a worker alone would hold the port and stale segments.
            print(f"mcprt: worker {self.slot}: the supervisor exited; stopping", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        record = {
            "pid": os.getpid(),
            "beat": time.time(),
            "ready": self.ready,
            "nonce": self.nonce,
            "name": self.server.info["name"],
            "sessions": sum(1 for _ in self.sessions),
        }
        self.workers.put(worker_key(self.slot), msgspec.msgpack.encode(record))
        self._beat = self.loop.call_later(self.config.heartbeat_seconds, self.heartbeat)

    def close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
        self.server.tasks.fail_orphans(self.slot)
        self.workers.remove(worker_key(self.slot))
        self.bus.close()


def _json(value: Any) -> bytes | None:
    return None if value is None else msgspec.json.encode(value)


def _unjson(data: bytes | None) -> Any:
    return None if data is None else msgspec.json.decode(data)
