"""Connection slots shared by every Graph request of a run, with page reads served before bulk `$batch` posts.

Why: the sections run in concurrent lanes (connectors/microsoft/collectors.py). One lane reads the users pages
with signInActivity, paced to 10 a minute: it is the longest term of the collection, and each page needs the
previous page's nextLink, so any wait it suffers adds to the whole run. Another lane queues about 1,000 `$batch`
posts for the per-user reads at once. Behind a first-come-first-served semaphore a users page waited for that
queue: measured on the 20,000-user benchmark, one page took 11.5 s instead of 0.06 s, and because the pacing
window counts from answers, the delay carried into every later window (107 s against a 90 s floor). Here a
waiting single request or page goes first, so it waits for at most one round trip in flight; the number of
requests in flight stays `slots`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class PrioritySlots:
    """At most `slots` requests in flight; waiters marked `urgent` are served before the others, each group in
    arrival order. Single event loop, no thread safety needed."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"need at least one connection slot, got {slots}")
        self.slots = slots
        self._free = slots
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._bulk: deque[asyncio.Future[None]] = deque()

    @property
    def in_flight(self) -> int:
        return self.slots - self._free

    @contextlib.asynccontextmanager
    async def slot(self, *, urgent: bool = False) -> AsyncIterator[None]:
        if self._free > 0:
            self._free -= 1
        else:
            queue = self._urgent if urgent else self._bulk
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            queue.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():  # handed a slot just as we were cancelled: pass it on
                    self._release()
                else:
                    with contextlib.suppress(ValueError):
                        queue.remove(turn)
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the slot straight to the next waiter (so nobody can overtake it), or free it."""
        for queue in (self._urgent, self._bulk):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._free += 1
