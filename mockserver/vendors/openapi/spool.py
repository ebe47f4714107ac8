"""Export files made once: a file document (`x-mock.file-document`, Stripe's File) states its `size`
before anyone downloads it, and the size is only known by writing the file. So the first time an
export's size is asked, its file is written to disk (in a worker thread) and counted; downloads then
send those very bytes, so `size` is the length served by construction, and the file is generated once
rather than once for the size and again for every download.

The spool is bounded (SPOOL_BYTES; the least recently used files go first) and lives in a temporary
folder removed when the server stops. An export whose file is gone (evicted, another worker, a restart)
is generated again: the file is a pure function of the export, so the bytes and their size are the same.
Sizes (a few bytes each) are remembered longer than files (SIZES_KEPT).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator

SPOOL_BYTES = 1024 * 1024 * 1024  # disk the kept report files may take
SIZES_KEPT = 100_000  # sizes remembered (key → bytes)
CHUNK = 64 * 1024


class Spool:
    def __init__(self, limit: int = SPOOL_BYTES) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._files: OrderedDict[str, tuple[str, int]] = OrderedDict()  # key → (path, size), oldest use first
        self._sizes: OrderedDict[str, int] = OrderedDict()
        self._making: dict[str, threading.Lock] = {}  # key → held while one thread writes that file
        self._kept = 0
        self._dir: str | None = None

    def known_size(self, key: str) -> int | None:
        with self._lock:
            return self._sizes.get(key)

    def size(self, key: str, produce: Callable[[], Iterable[bytes]]) -> int:
        """The byte size of the file `produce` makes, writing it to the spool the first time (blocking:
        run it off the event loop). Asked again while it is being written (a list and a read of the same
        finished export at once), the file is waited for, not written twice."""
        with self._lock:
            if key in self._sizes:
                return self._sizes[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            try:
                with self._lock:
                    if key in self._sizes:  # written while this thread waited
                        return self._sizes[key]
                return self._write(key, produce)
            finally:
                with self._lock:
                    if self._making.get(key) is making:
                        del self._making[key]

    def _write(self, key: str, produce: Callable[[], Iterable[bytes]]) -> int:
        path = os.path.join(self._folder(), hashlib.sha256(key.encode()).hexdigest())
        partial = f"{path}.{threading.get_ident()}.part"
        size = 0
        with open(partial, "wb") as out:
            for chunk in produce():
                out.write(chunk)
                size += len(chunk)
        with self._lock:
            self._sizes[key] = size
            self._sizes.move_to_end(key)
            while len(self._sizes) > SIZES_KEPT:
                self._sizes.popitem(last=False)
            if size > self.limit or key in self._files:
                os.unlink(partial)
                return size
            os.replace(partial, path)
            self._files[key] = (path, size)
            self._kept += size
            while self._kept > self.limit:
                _, (gone, gone_size) = self._files.popitem(last=False)
                self._kept -= gone_size
                _unlink(gone)
        return size

    def chunks(self, key: str) -> Iterator[bytes] | None:
        """The kept file's bytes, chunk by chunk; None when it is not (or no longer) kept."""
        with self._lock:
            kept = self._files.get(key)
            if kept is None:
                return None
            self._files.move_to_end(key)
            try:
                handle = open(kept[0], "rb")  # noqa: SIM115 (closed by the generator below)
            except FileNotFoundError:
                return None

        def read() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return read()

    def _folder(self) -> str:
        with self._lock:
            if self._dir is None:
                self._dir = tempfile.mkdtemp(prefix="mockserver-files-")
                weakref.finalize(self, shutil.rmtree, self._dir, True)
            return self._dir


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
