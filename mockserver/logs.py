"""Log lines an operator can trust: what clients send is escaped, and a flood is summarised.

A path, an Origin header or a body property name is the client's text: written raw,
control bytes and ANSI escape sequences reach the operator's terminal (they can
recolour it, rewrite earlier lines or, in some terminals, set the window title), and
a newline forges a log line. `Escape` (a logging filter) writes every control
character of a record's message as `\\xNN` / `\\uNNNN`; the mock's logger carries it
wherever it is used (the `serve` command, an embedding program, pytest).

A contract run or a fuzzer sends thousands of requests that each earn a warning.
`Summary` (the `serve` and `proxy` commands' handler filter) lets the first `FIRST`
records of a kind (one message template) through per `WINDOW` seconds, then holds
the rest back and says how many it held, with the last of them, when the window
ends (at the next record, or when the server stops). The journal
(`GET /__mock/requests`) and the X-Mock-Warning headers still carry every finding.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from . import redact

FIRST = 10  # records of one kind shown per window
WINDOW = 60.0  # seconds
SAYS = "… %(held)d more like this in %(seconds)d s, not shown (the journal keeps them all): %(last)s"
# C0 controls (ESC, BEL, CR, LF, NUL …), DEL, C1 controls (CSI 0x9b …), line/paragraph separators and
# bidirectional overrides (which reorder what the terminal shows)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def escape(text: str) -> str:
    """`text` with every control character written as an escape: safe on one terminal line."""
    return _UNSAFE.sub(_escaped, text)


def _escaped(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class Escape(logging.Filter):
    """Escape a record's message (what clients sent reaches it through the arguments) and mask
    secrets in it (a URL's token, a credential)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it as it would have
            return True
        safe = escape(redact.text(message))
        if safe != message:
            record.msg, record.args = safe, None
        return True


@dataclass
class _Kind:
    start: float
    shown: int = 0
    held: int = 0
    last: str = ""
    level: int = logging.WARNING
    name: str = "mockserver"


class Summary(logging.Filter):
    """A handler's filter: the first `first` records of a kind per `window` seconds; then one line
    saying how many were held back. `emit(record)` writes the summary line (the handler's own)."""

    def __init__(
        self,
        emit: Callable[[logging.LogRecord], Any],
        first: int = FIRST,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
        says: str = SAYS,
    ) -> None:
        super().__init__()
        self.emit, self.first, self.window, self.clock, self.says = emit, first, window, clock, says
        self.kinds: dict[tuple[str, int, str], _Kind] = {}
        self.lock = threading.Lock()  # a server thread and the caller's may log at once

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or getattr(record, "summary", False):
            return True
        decided = record.__dict__.setdefault("_summaries", {})  # one decision a record, however many handlers
        if id(self) not in decided:
            with self.lock:
                decided[id(self)] = self._counted(record)
        return decided[id(self)]

    def _counted(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(getattr(record, "template", record.msg)))
        now = self.clock()
        kind = self.kinds.get(key)
        if kind is not None and now - kind.start >= self.window:
            self._say(kind)
            kind = None
        if kind is None:
            kind = self.kinds[key] = _Kind(start=now, level=record.levelno, name=record.name)
        if kind.shown < self.first:
            kind.shown += 1
            return True
        kind.held += 1
        kind.last = record.getMessage()
        return False

    def flush(self) -> None:
        """Say what is held back (the server is stopping)."""
        with self.lock:
            kinds = list(self.kinds.values())
            self.kinds.clear()
        for kind in kinds:
            self._say(kind)

    def _say(self, kind: _Kind) -> None:
        if not kind.held:
            return
        seconds = max(1, round(self.clock() - kind.start))
        record = logging.LogRecord(
            kind.name,
            kind.level,
            __file__,
            0,
            self.says,
            ({"held": kind.held, "seconds": seconds, "last": escape(kind.last)},),
            None,
        )
        record.summary = True
        kind.held = 0
        self.emit(record)


class _Template(logging.Filter):
    """Keep a record's message template before Escape replaces it (Summary groups by template)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.template = record.msg
        return True


class _Formatter(logging.Formatter):
    """A traceback's lines escaped too (an exception's message may quote the client)."""

    def formatException(self, ei) -> str:  # noqa: N802 (logging's name)
        return "\n".join(escape(line) for line in super().formatException(ei).split("\n"))


def configure(
    fmt: str,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    first: int = FIRST,
    window: float = WINDOW,
) -> logging.Handler:
    """The `serve`/`proxy` commands' logging: INFO and up on stderr, every line escaped, floods summarised.
    Returns the handler (`flush_summaries()` when stopping says what is held back)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_Formatter(fmt))
    summary = Summary(handler.emit, first=first, window=window, clock=clock)
    handler.addFilter(summary)  # first: it groups by the message template, before Escape rewrites it
    handler.addFilter(Escape())  # aiohttp's records too
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return handler


def flush_summaries() -> None:
    """Each configured handler says what it holds back (the server is stopping)."""
    for handler in logging.getLogger().handlers:
        for summary in handler.filters:
            if isinstance(summary, Summary):
                summary.flush()


LOGGERS = ("mockserver", "mockserver.http", "mockserver.access")  # a logger's filters do not reach its children


def install() -> None:
    """The mock's loggers escape every record (its template kept for Summary)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, Escape) for f in logger.filters):
            logger.addFilter(_Template())
            logger.addFilter(Escape())
