"""A worker joining the cluster its supervisor prepared: pin the CPU, attach the shared segments, and build
the Streamable HTTP endpoint on the shared session table, event log and task store."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from ipc.cache import SharedCache
from ipc.claims import ClaimTables
from ipc.eventlog import SharedEventLog
from ipc.table import SharedTable
from workers.cluster import config as names
from workers.cluster.config import ClusterConfig
from workers.cluster.inflight import InflightRegistry, SharedInflight
from workers.cluster.node import ClusterNode
from workers.cluster.sessions import SharedSessions
from workers.cluster.tasks import SharedTaskStore
from workers.streamable.transport import StreamableHttp, StreamableSettings

if TYPE_CHECKING:
    from runtime.server.app import Server


class Member:
    def __init__(self, app: Server, settings: StreamableSettings, config: ClusterConfig) -> None:
        if config.cpu is not None:
            try:
                os.sched_setaffinity(0, {config.cpu})
            except OSError as exc:
                print(f"mcprt: worker {config.slot}: cannot pin to CPU {config.cpu}: {exc}", file=sys.stderr)
        prefix = config.prefix
        self.tables = [
            SharedTable.attach(names.sessions_name(prefix)),
            SharedTable.attach(names.tasks_name(prefix)),
            SharedTable.attach(names.workers_name(prefix)),
        ]
        sessions_table, tasks_table, workers_table = self.tables
        self.inflight_table = ClaimTables.attach(names.inflight_name(prefix))
        self.events = SharedEventLog.attach(
            names.events_name(prefix), settings.event_store_ttl, settings.event_store_stream_bytes
        )
        app.tasks.store = SharedTaskStore(tasks_table)
        self.sessions = SharedSessions(
            sessions_table, lambda: app.profile, settings.idle_timeout, settings.max_sessions
        )
        self.endpoint = StreamableHttp(app, settings, sessions=self.sessions, events=self.events)
        self.cache: SharedCache | None = None
        if config.cache:
            self.cache = SharedCache.attach(names.cache_name(prefix))
            self.cache.lane = config.slot  # this worker's hit/miss counters
            app.cache = self.cache
        self.node = ClusterNode(app, self.endpoint, self.sessions, workers_table, config)
        # After the node's first heartbeat, which names this worker's nonce: entries of dead workers go.
        self.inflight = InflightRegistry(self.inflight_table, config.slot, self.node.nonce, workers_table)
        self.inflight.sweep()
        self.sessions.inflight_for = lambda session_id: SharedInflight(self.inflight, session_id)

    def start(self) -> None:
        self.node.ready = True
        self.node.heartbeat()

    def close(self) -> None:
        self.node.close()
        self.events.close()
        if self.cache is not None:
            self.cache.close()
        for table in self.tables:
            table.close()
        self.inflight_table.close()


def join_cluster(app: Server, settings: StreamableSettings, config: ClusterConfig) -> Member:
    return Member(app, settings, config)
