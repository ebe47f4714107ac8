"""A zip file written while it is sent (exports that are zips of CSV files, e.g. Chargebee's).

`zipfile` writes to any object with `write()`; on one that cannot seek it
puts each member's sizes after its data, so the archive can leave in pieces
as the CSV is generated and memory stays flat however many rows there are.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterable, Iterator


class _Outbox:
    """A write-only sink whose content is handed out and forgotten piece by piece."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def write(self, data: bytes) -> int:
        self._pending += data
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = bytes(self._pending)
        self._pending.clear()
        return data


def zipped(files: Iterable[tuple[str, Iterable[bytes]]], *, modified: float | None = None) -> Iterator[bytes]:
    """The bytes of a deflated zip holding each (name, chunks) file, as they are made."""
    outbox = _Outbox()
    stamp = time.gmtime(modified if modified is not None else time.time())[:6]
    with zipfile.ZipFile(outbox, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in files:
            member = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, "w", force_zip64=True) as out:  # sizes unknown up front
                for chunk in chunks:
                    out.write(chunk)
                    if data := outbox.take():
                        yield data
    if data := outbox.take():
        yield data
