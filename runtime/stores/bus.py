"""The cross-worker bus's interface: small messages between the worker processes of one server instance."""

from __future__ import annotations

from typing import Any, Protocol


class MessageBus(Protocol):
    """Messages between worker slots. Implementations: workers.cluster.bus.Bus (a shared-memory ring per slot
    as its inbox and a pipe per slot to wake its event loop) and runtime.stores.memory_bus.MemoryBus (slots
    within one process). A message is a tuple of msgpack-able values
    whose first item names its kind (workers/cluster/node.py lists them); the receiver's `on_message`
    callback, given when the bus is made, gets it as a list (tuples arrive as lists), on its event loop.

    Contract:
    - `send` never blocks and never raises for a full or absent receiver: it returns False and the message
      is lost (the inbox is bounded; senders treat every message as droppable and recover by timeouts,
      re-reads of the shared stores or a later message). A message to this worker's own slot is handled at
      once, before `send` returns.
    - Messages from one sender to one receiver arrive in the order sent, each whole or not at all; there is
      no order between different senders.
    - A message for a slot with no live worker stays in its inbox (while there is room) for the slot's next
      worker, which `drain`s it at start.
    - `on_message` errors are the receiver's: one bad message is reported and the next ones are handled.

    Async: `send` is called from the event loop of request handlers and must stay synchronous and cheap
    (one shared-memory write and one byte to a pipe). A Redis bus (a list or stream per slot, BLPOP/XREAD on
    a reader task, or pub/sub for `broadcast`) would queue sends locally and push them from a task, `send`
    returning True when queued (loss is then reported by the queue's bound), and deliver on the loop by
    `call_soon_threadsafe` or from an asyncio reader; `drain` would be that reader's step.
    """

    def send(self, slot: int, message: tuple[Any, ...]) -> bool:
        """Deliver to the worker of `slot`; False when the message was dropped."""
        ...

    def broadcast(self, message: tuple[Any, ...]) -> None:
        """`send` to every other slot (a drop is counted and logged, not returned)."""
        ...

    def drain(self) -> None:
        """Handle every message waiting in this slot's inbox (the bus calls it when woken)."""
        ...

    def close(self) -> None:
        """Stop receiving and release this worker's side of the bus."""
        ...
