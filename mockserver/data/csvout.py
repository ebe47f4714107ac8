"""RFC 4180 CSV through polars' CSV writer (Rust): cells quoted when they hold a comma, quote, CR or LF,
quotes doubled, CRLF line ends, empty cells empty; bytes streamed in chunks of CHUNK. The quoting is done
before (columns.cells: a pool's text once, ids and instants never), so the writer copies cells as they are.

Writing cells one by one in Python (the csv module, or str joins) costs a
microsecond or more per row of 13 fields; a block written by polars costs a
small fraction of that (docs/performance.md, "CSV engine").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a frame is written: writing rows (written()) needs no polars
    import polars as pl

CHUNK = 64 * 1024
SLICE = 4096  # rows polars writes at a time: its buffers hold a slice, not the whole batch
EOL = "\r\n"
SPECIAL = r'[",\r\n]'  # a text cell holding one of these is quoted
_SPECIAL = re.compile(SPECIAL).search


def quote(text: str) -> str:
    """A text cell, quoted when RFC 4180 needs it (the header line)."""
    if _SPECIAL(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def write(frame: pl.DataFrame) -> Iterator[bytes]:
    """The frame's rows as CSV lines (no header), SLICE rows a buffer, its cells written as they are: text
    already quoted where RFC 4180 needs it (columns.cells), so polars' writer looks for no special character.
    Empty and null cells are empty; a row of one empty cell is `""` (an empty line would read as no row at
    all, as the csv module knows). The bytes polars made per slice, handed on before the next is written: the
    batch's text is never held whole (16,384 order rows: 4 MiB; docs/performance.md, "Memory of a download")."""
    if not frame.height:
        return
    if frame.width == 1:
        import polars as pl  # loaded already (the frame is one)

        (name,) = frame.columns
        text = pl.col(name).cast(pl.String)
        frame = frame.select(pl.when(text.is_null() | (text == "")).then(pl.lit('""')).otherwise(text).alias(name))
    out = _Written()
    for part in frame.iter_slices(SLICE):
        part.write_csv(out, include_header=False, line_terminator=EOL, quote_style="never")
        yield from out.take()


class _Written(io.RawIOBase):
    """Where polars writes: it hands over a slice's text as one bytes object, kept as it is and handed on,
    not copied into a BytesIO's buffer (a second megabyte per 4,096 order rows)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self.parts.append(data if type(data) is bytes else bytes(data))
        return len(data)

    def take(self) -> list[bytes]:
        parts, self.parts = self.parts, []
        return parts


def chunked(header: str, batches: Iterable[bytes | memoryview]) -> Iterator[bytes]:
    """UTF-8 bytes in chunks of CHUNK (the last may be shorter), cut from each batch where it lies: only a
    batch's last partial chunk is carried over, so a batch's megabytes are not copied once more."""
    pending = bytearray((header + EOL).encode())
    for batch in batches:
        with memoryview(batch) as view:  # released at the end of this batch, not once the next one is made
            del batch
            start = 0
            if pending:
                start = CHUNK - len(pending)
                pending += view[:start]
                if len(pending) < CHUNK:
                    continue
                yield bytes(pending)
                pending = bytearray()
            end = start + (len(view) - start) // CHUNK * CHUNK
            for offset in range(start, end, CHUNK):
                yield bytes(view[offset : offset + CHUNK])
            pending += view[end:]
    if pending:
        yield bytes(pending)


def written(rows: Iterable[Sequence[str]], delimiter: str = ",") -> Iterator[bytes]:
    """Rows of text cells written by the csv module (quoted where needed, CRLF line ends) as UTF-8 chunks
    of about CHUNK: for files made row by row rather than from the engine's frames."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=EOL)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()
