"""The store and bus interfaces the runtime is written against, and the helpers their implementations share.

Neutral ground: this package imports only runtime.protocol, so that both the in-process implementations
(workers/streamable, runtime/tasks.py) and the shared-memory ones (ipc/, workers/cluster) can depend on it
without depending on each other.
"""
