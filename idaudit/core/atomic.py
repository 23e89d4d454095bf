"""Atomic, owner-only file writes: a reader never sees a half-written report, snapshot file or database."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

OWNER_ONLY = 0o600


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], mode: int = OWNER_ONLY) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only if the block succeeds.

    The temporary file lives in the same directory so the final `os.replace` is atomic on POSIX.
    Outputs hold personal data (names, mail addresses), so they are created owner-only.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _signals_held():
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            os.chmod(tmp, mode)
            yield tmp
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C / SIGTERM while a file is written and renamed, then let them through.

    The interrupt (KeyboardInterrupt, raised by Python between any two bytecodes of the main thread) would otherwise
    land between creating the temporary file and the `finally` that removes it, leaving a `.name.xxxx.tmp` with
    personal data beside the snapshot. The write is short; the signal is delivered right after it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_text_atomic(target: str | os.PathLike[str], text: str, mode: int = OWNER_ONLY) -> None:
    with atomic_path(target, mode) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes, mode: int = OWNER_ONLY) -> None:
    with atomic_path(target, mode) as tmp:
        tmp.write_bytes(data)
