"""Progress of a collection: a tqdm bar per section (and per-user fan-out) on a terminal, nothing under cron.

A weekly audit runs from cron or a systemd timer: its output is mailed or logged, so a bar that redraws itself
would only fill the log with carriage returns. The bars therefore appear only when stderr is a terminal.
"""

from __future__ import annotations

import sys
from typing import IO, Any


class SilentProgress:
    """Does nothing: used under cron, in tests, and when the caller asks for no progress."""

    def section_started(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def section_finished(self, name: str, status: str) -> None:
        pass

    def close(self) -> None:
        pass


class TqdmProgress:
    """One overall bar counting sections, and a second bar for a section that fans out per user or per key."""

    def __init__(self, total_sections: int, *, stream: IO[str] | None = None, provider: str = "") -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._stream = stream or sys.stderr
        self._overall: Any = tqdm(total=total_sections, desc=f"collect {provider}".strip(), unit="section",
                                  file=self._stream, position=0, leave=True)
        self._inner: Any = None
        self._inner_name = ""  # the section the second bar counts (sections of concurrent lanes interleave)

    def section_started(self, name: str, total: int | None = None) -> None:
        self._overall.set_postfix_str(name, refresh=True)
        if total:  # a section without a fan-out (read concurrently) leaves a running fan-out's bar alone
            self._close_inner()
            self._inner_name = name
            self._inner = self._tqdm(total=total, desc=f"  {name}", unit="item", file=self._stream,
                                     position=1, leave=False)

    def advance(self, n: int = 1) -> None:
        if self._inner is not None:
            self._inner.update(n)

    def section_finished(self, name: str, status: str) -> None:
        if name == self._inner_name:
            self._close_inner()
        self._overall.update(1)

    def close(self) -> None:
        self._close_inner()
        self._overall.close()

    def _close_inner(self) -> None:
        if self._inner is not None:
            self._inner.close()
            self._inner = None
            self._inner_name = ""


def make_progress(enabled: bool, total_sections: int, *, provider: str = "",
                  stream: IO[str] | None = None) -> SilentProgress | TqdmProgress:
    """A terminal bar when `enabled` and the stream is a TTY; otherwise silence (cron, pipes, log files)."""
    out = stream or sys.stderr
    if enabled and hasattr(out, "isatty") and out.isatty():
        return TqdmProgress(total_sections, stream=out, provider=provider)
    return SilentProgress()
