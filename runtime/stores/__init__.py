"""The store and bus interfaces the runtime is written against, and the helpers their implementations share:

- `sessions.SessionStore`: HTTP sessions (workers/streamable/sessions.py, workers/cluster/sessions.py);
- `events.EventStore`: the SSE events kept for resumption (workers/streamable/events.py, ipc/eventlog.py);
- `tasks.TaskStore`: task records (runtime/tasks.py, workers/cluster/tasks.py);
- `bus.MessageBus`: messages between worker processes (workers/cluster/bus.py; in one process: memory_bus.py).

Each interface states its contract (what is atomic, what may be lost, the bounds) and how a networked
implementation (Redis) would fit; tests/test_store_contracts.py runs the same checks on every implementation.
Neutral ground: this package imports only runtime.protocol (tests/unit/test_layering.py), so that the
in-process and the shared-memory implementations depend on it and not on each other.
"""
