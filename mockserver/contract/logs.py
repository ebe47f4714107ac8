"""Repeated log records summarised while a contract run goes on.

A run sends hundreds of generated requests; a mock answering in the same process
(the pytest plugin, tests/) logs a warning for many of them, about 350 lines for
one default run, each saying the same kind of thing. While a run lasts, the first
`SHOWN` records of each kind (logger, level, message template) pass as they are;
the rest are counted, and each kind with more gets one line at the end saying how
many. Only records of WARNING and above: what reaches a console by default.
The handlers are filtered, not the loggers, so records of any logger are (a
logger's filter would miss what its children propagate).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

SHOWN = 3  # records of one kind shown before the rest are counted


class _Repeats(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.seen: Counter[tuple[str, int, str]] = Counter()
        self.first: dict[tuple[str, int, str], str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        decided = getattr(record, "_contract_shown", None)  # one decision per record, however many handlers
        if decided is None:
            key = (record.name, record.levelno, str(record.msg))
            with self.lock:
                self.seen[key] += 1
                self.first.setdefault(key, record.getMessage())
                decided = self.seen[key] <= SHOWN
            record._contract_shown = decided
        return decided


def _handlers() -> list[logging.Handler]:
    """Every handler a record can reach: the root's and each known logger's."""
    loggers = [logging.getLogger()] + [logger for logger in logging.Logger.manager.loggerDict.values()
                                       if isinstance(logger, logging.Logger)]
    return list({id(h): h for logger in loggers for h in logger.handlers}.values())


@contextmanager
def summarised() -> Iterator[None]:
    """Summarise repeated warnings for the duration; then one line per kind that had more than SHOWN."""
    repeats = _Repeats()
    handlers = _handlers()
    for handler in handlers:
        handler.addFilter(repeats)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(repeats)
        for (name, level, _), count in sorted(repeats.seen.items()):
            if count > SHOWN:
                logging.getLogger(name).log(level, "%d more like this during the contract run, not shown: %s",
                                            count - SHOWN, repeats.first[(name, level, _)])
