"""Command line: `idaudit <command>`. Each command lives in its own module with `register(subparsers)`.

Only this layer turns exceptions into exit codes (see idaudit.core.exitcodes).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from idaudit.core import exitcodes
from idaudit.core.errors import IdauditError
from idaudit.core.version import __version__

# Modules under idaudit.cli that add a sub-command; a missing module (feature not installed) is skipped.
COMMAND_MODULES = ("demo", "check", "checks_cmd", "collect", "audit", "diff", "schedule", "simulate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idaudit",
        description="MFA and identity-hygiene audit for Microsoft 365 / Entra ID and Google Workspace: finds the "
                    "gaps (no MFA, forwarding rules, consented apps) that let stolen credentials exfiltrate mail.",
        epilog=exitcodes.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"idaudit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"idaudit.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"idaudit.cli.{name}":
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_SafeFormatter(handler.formatter))
    previous_term = _term_as_interrupt()
    try:
        code: int = args.func(args)
        return code
    except IdauditError as exc:
        from idaudit.cli.common import terminal_line  # lazy: start-up time

        print(f"idaudit: error: {terminal_line(exc, 1000)}", file=sys.stderr)
        return exitcodes.ERROR
    except KeyboardInterrupt:
        print("idaudit: interrupted", file=sys.stderr)
        return exitcodes.INTERRUPTED
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


class _SafeFormatter(logging.Formatter):
    """Log lines quote untrusted text (tenant, user and rule names in error details): escape sequences and control
    characters are shown as visible markers so a log read on a terminal cannot be rewritten by an attacker."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        import copy

        from reports.textsafe import clean_text, truncate  # lazy: start-up time

        safe = copy.copy(record)
        # the message is cut (a 10,000-character rule name helps nobody); a traceback below it is kept whole
        safe.msg, safe.args = truncate(clean_text(record.getMessage(), keep_newlines=False), 2000), None
        return clean_text(self.inner.format(safe))


def _term_as_interrupt() -> Callable[[int, FrameType | None], Any] | int | None:
    """SIGTERM (systemd stopping a unit, `kill`, a CI timeout) takes the same path as Ctrl-C.

    By default SIGTERM kills Python on the spot: no `complete: false` manifest written last, no lock released, no
    message, exit -15. Re-raising it as SIGINT goes through whatever SIGINT handler is active (asyncio.run's cancels
    the running collection cleanly; otherwise KeyboardInterrupt), so both signals end with exit 130. Returns the
    previous handler, or None when not in the main thread (a library caller's own thread: left alone).
    """
    try:
        previous = signal.signal(signal.SIGTERM, lambda _sig, _frame: signal.raise_signal(signal.SIGINT))
    except ValueError:  # signal only works in the main thread
        return None
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # Started as a shell's background job (`idaudit audit &`, some schedulers' wrappers): SIGINT arrives
        # ignored, and SIGTERM re-raised as SIGINT would do nothing, the run carrying on to exit 0 as if complete.
        # An explicit SIGINT or SIGTERM stops idaudit however it was started.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return previous


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
