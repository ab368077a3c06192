"""One worker's membership of the cluster: it plugs into the `Server` (runtime.server.app.Cluster) and the
Streamable HTTP endpoint, carries their cross-worker messages over the bus, and beats its heartbeat.

Messages (msgpack lists, first item the kind):
- ["event", "resource_updated", uri, time] / ["event", "list_changed", kind, time]: a server-wide event
  raised in another worker at `time`; this worker tells the sessions whose standalone stream it held then.
- ["notify", session_id, data]: a message for the session's standalone stream, sent to the worker its
  record names (`SessionState.stream_worker`).
- ["release", session_id, stream_id]: another worker took over that GET stream (the client resumed there).
- ["answer", session_id, request_id, result, error]: the client's answer to a request this worker sent
  (result and error as JSON bytes: the client's values may hold integers msgpack cannot).
- ["cancel", session_id, request_id, reason]: notifications/cancelled, for whichever worker runs it (the
  client's request id as JSON bytes, for the same reason).
- ["task_cancel", task_id]: tasks/cancel of a task running here.
- ["task", ...]: a task's messages for a tasks/result stream on another worker (runtime.tasks, `on_relayed`).
- ["end", session_id]: the session was deleted or expired through another worker.

A worker killed with GET streams loses nothing raised for them meanwhile: a message for a stream whose
holder is gone goes to the shared event log under the stream's id (the client's resumption replays it); the
frames left in the dead worker's inbox are read by its successor in the same slot, which also delivers the
server-wide events of its predecessor's sessions until the client resumes elsewhere.
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
from runtime.protocol.state import SessionState
from workers.cluster.bus import Bus
from workers.cluster.config import MAX_SLOTS, ClusterConfig, worker_key
from workers.cluster.follow import Follower

if TYPE_CHECKING:
    from runtime.server.app import Server
    from workers.cluster.sessions import SharedSessions
    from workers.httpd.protocol import ResponseStream
    from workers.streamable.transport import StreamableHttp


CATCH_UP_AFTER = 0.5  # seconds after a GET stream is taken over: a last look for what was routed late
# Seconds after another worker took a GET stream over during which an event published before that, still
# on its way through an inbox, may reach this worker (then the stream's, until the takeover, it delivers).
HELD_AFTER = 10.0


def _holder_at(state: SessionState, when: float) -> tuple[int, str] | None:
    """(slot, nonce) of the worker that held the session's GET stream at `when`, if one did."""
    if state.stream_worker < 0:
        return None
    if when >= state.stream_since:
        return state.stream_worker, state.stream_nonce
    slot, _, nonce = state.stream_before.partition("-")
    return (int(slot), nonce) if slot.isdigit() else None


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
        endpoint.forward_notify = self._route
        endpoint.on_get_stream = self._claim_stream
        endpoint.shared_get_streams = True
        # A POST stream's id ends with "-<slot>-<nonce>": a worker following it elsewhere knows when its
        # writer is gone (the heartbeat record of that slot names another process, or none).
        self.nonce = secrets.token_hex(4)
        endpoint.stream_tag = f"-{self.slot}-{self.nonce}"
        endpoint.follow_stream = self._follow
        endpoint.on_session_end = lambda session_id: self.bus.broadcast(("end", session_id))
        failed = server.tasks.fail_orphans(config.slot)  # left running by a previous worker of this slot
        if failed:
            print(f"mcprt: worker {self.slot}: {failed} task(s) of a stopped worker failed", file=sys.stderr)
        self._event_time = 0.0  # when the server-wide event being delivered was published
        self._held: set[str] = set()  # sessions whose GET stream this worker (or its predecessor) held
        self._adopt_predecessor()
        self.heartbeat()
        self.loop.call_soon(self.bus.drain)  # what was sent to this slot while it had no worker

    def _adopt_predecessor(self) -> None:
        """Load the sessions whose GET stream a previous worker of this slot held: this worker delivers
        their server-wide events (to the event log) until their client resumes the stream."""
        held = self.sessions.held_by(self.slot)
        self._held.update(session.state.session_id for session in held)
        if held:
            print(
                f"mcprt: worker {self.slot}: {len(held)} GET stream(s) of a stopped worker", file=sys.stderr
            )

    # -- runtime.server.app.Cluster ------------------------------------------------------------------------

    def publish(self, event: tuple[Any, ...]) -> None:
        self._event_time = time.time()  # then this worker delivers it (runtime.server.app)
        self.bus.broadcast(("event", *event, self._event_time))

    def reachable(self, session: ServerSession) -> bool:
        """Whether this worker delivers the server-wide event being delivered to the session: its record
        named this slot's worker as the GET stream's holder when the event was published (a session may
        hold GET streams on several workers; one delivers). A predecessor's stream: to the event log."""
        session_id = session.state.session_id
        if session_id not in self._held:
            return False  # the common case: another worker holds (or held) this session's stream
        self.sessions.refresh(session)  # e.g. a subscription made through another worker
        state = session.state
        if state.stream_worker != self.slot and self._event_time > state.stream_since + HELD_AFTER:
            self._held.discard(session_id)  # taken over long ago: no later event is this worker's
            return False
        holder = _holder_at(state, self._event_time)
        return holder is not None and holder[0] == self.slot

    def _claim_stream(self, session_id: str) -> None:
        """A GET stream opened or taken over here: this worker now carries the session's unrelated
        messages. The record is claimed by compare-and-set; the previous holder, if it runs, lets go."""
        stream = self.endpoint._get_streams.get(session_id)
        if stream is None:
            return
        before = self.sessions.claim_stream(session_id, self.slot, self.nonce, stream.stream_id)
        if before is None:
            return
        self._held.add(session_id)
        previous = (before.stream_worker, before.stream_nonce)
        if before.stream_id == stream.stream_id and previous != (self.slot, self.nonce):
            if self._alive(*previous):
                self.bus.send(previous[0], ("release", session_id, stream.stream_id))
            # What others wrote to the log for it before they saw the claim goes out now, and once more
            # after any message in flight to the previous holder was routed on.
            stream.catch_up()
            self.loop.call_later(CATCH_UP_AFTER, stream.catch_up)

    def _alive(self, slot: int, nonce: str) -> bool:
        """Whether the worker of `slot` with `nonce` still runs (a restarted one has another nonce)."""
        if slot == self.slot:
            return nonce == self.nonce
        record = self.workers.get(worker_key(slot)) if 0 <= slot < self.config.slots else None
        return record is not None and msgspec.msgpack.decode(record).get("nonce") == nonce

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

    def _route(self, session_id: str, data: bytes) -> bool:
        """A message for the session's GET stream, to wherever that stream is now: this worker's, the
        running worker holding it, or (its holder is gone) the shared event log under the stream's id,
        for the client's resumption. False: the session has no GET stream."""
        state = self.sessions.current(session_id)
        if state is None or state.stream_worker < 0:
            return False
        holder = (state.stream_worker, state.stream_nonce)
        if holder == (self.slot, self.nonce):
            stream = self.endpoint._get_streams.get(session_id)
            if stream is None or stream.stream_id != state.stream_id:
                return False
            stream.send(data)
            return True
        if self._alive(*holder):
            return self.bus.send(holder[0], ("notify", session_id, data))
        if not state.stream_id:
            return False
        self.endpoint.events.append(session_id, state.stream_id, data)
        return True

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
            self._event_time = message[3] if len(message) > 3 else time.time()
            if message[1] == "resource_updated":
                self.server.hub.deliver_resource_updated(message[2])
            elif message[1] == "list_changed":
                self.server.hub.deliver_list_changed(message[2])
        elif kind == "notify":
            self._route(message[1], message[2])
        elif kind == "release":
            stream = self.endpoint._get_streams.get(message[1])
            if stream is not None and stream.stream_id == message[2]:
                stream.release()
        elif kind == "answer":
            session = self.sessions.local(message[1])
            if session is not None:
                result, error = _unjson(message[3]), _unjson(message[4])
                self.server.hub.on_answer(session, Answer(message[2], result, error))
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
