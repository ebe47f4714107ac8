"""A progress bar with total and ETA for long jobs (contract runs, big `generate` jobs).

Drawn by rich on a terminal; silent when the stream is not a TTY (pipes, CI
logs), so output meant for machines stays clean. rich is imported only when a
bar is actually shown, to keep `mockserver --help` fast.

    with Progress("generate", total=rows, unit="rows") as progress:
        for chunk in chunks:
            ...
            progress.advance(len(chunk))
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


class Progress:
    """`advance(n, detail)` moves the bar; `grow(n)` adds work discovered on the way."""

    def __init__(
        self,
        description: str,
        total: float | None = None,
        *,
        unit: str = "steps",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self.description = description
        self.total = total
        self.unit = unit
        self.completed = 0.0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[detail]}"),
                console=Console(file=self.stream),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total, detail="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def advance(self, amount: float = 1, detail: str = "") -> None:
        self.completed += amount
        if self._bar is not None:
            self._bar.update(self._task, advance=amount, detail=detail[:60])

    def grow(self, amount: float) -> None:
        self.total = (self.total or 0) + amount
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
