"""Run a connector's coroutine to completion from synchronous code, also inside Jupyter's running event loop.

asyncio.run refuses to start inside a running loop (a notebook cell), so there the coroutine runs in a worker
thread of its own, and whatever it raised is raised again in the caller's thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coro: Coroutine[Any, Any, T], *, thread_name: str = "idaudit-collect") -> T:
    """asyncio.run, or, when an event loop already runs in this thread, asyncio.run in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=worker, name=thread_name, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    result: T = box["value"]
    return result
