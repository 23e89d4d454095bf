"""A last line of defence for logs: tokens and secrets are masked even if a library decides to log them.

msal already masks tokens in its DEBUG output and httpx/httpcore log no headers (checked with msal 1.39 and
httpx 0.28), but a verbose run (`-vv`) of a weekly audit ends up in mail and log files, so every handler gets this
filter while a collection runs.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator

_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_.~+/=]{8,}"),
    re.compile(r"eyJ[A-Za-z0-9\-_]{5,}\.[A-Za-z0-9\-_]{5,}\.[A-Za-z0-9\-_]*"),  # JWT
    re.compile(r"(?i)((?:client_secret|client_assertion|refresh_token|access_token|id_token|password)"
               r"[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]{4,}"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with tokens, JWTs and the given secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("idaudit-redact")
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the logging module's problem, not ours
            return True
        clean = redact(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


@contextlib.contextmanager
def redacted_logging(secrets: Iterable[str] = ()) -> Iterator[None]:
    """Attach a RedactingFilter to every handler of the root logger for the duration of the block."""
    filt = RedactingFilter(secrets)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(filt)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(filt)
