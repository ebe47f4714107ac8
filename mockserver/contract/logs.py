"""Repeated log records summarised while a contract run goes on.

A run sends hundreds of generated requests; a mock answering in the same process
(the pytest plugin, tests/) logs a warning for many of them, about 350 lines for
one default run, each saying the same kind of thing. While a run lasts, the first
`SHOWN` records of each kind pass as they are; the rest are counted, and each kind
with more gets one line at the end saying how many. This is the `serve` command's
summariser (mockserver.logs.Summary) with a window as long as the run. The handlers
are filtered, not the loggers, so records of any logger are (a logger's filter would
miss what its children propagate).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager

from ..logs import Summary

SHOWN = 3  # records of one kind shown before the rest are counted
SAYS = "%(held)d more like this during the contract run, not shown: %(last)s"


def _handlers() -> list[logging.Handler]:
    """Every handler a record can reach: the root's and each known logger's."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    return list({id(h): h for logger in loggers for h in logger.handlers}.values())


def _log(record: logging.LogRecord) -> None:
    logging.getLogger(record.name).handle(record)


@contextmanager
def summarised() -> Iterator[None]:
    """Summarise repeated warnings for the duration; then one line per kind that had more than SHOWN."""
    repeats = Summary(_log, first=SHOWN, window=math.inf, says=SAYS)
    handlers = _handlers()
    for handler in handlers:
        handler.addFilter(repeats)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(repeats)
        repeats.flush()
