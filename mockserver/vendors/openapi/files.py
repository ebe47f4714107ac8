"""An export's file from the engine: its CSV as it is, or its rows as TSV or XLSX; gzipped or in a zip.

The engine (mockserver.data) writes RFC 4180 CSV in chunks (iter_csv) or hands its rows'
cells (iter_rows): a TSV or XLSX file is written from the rows, never from the CSV read
back. Chunk by chunk, so memory stays flat however many rows (it runs off the event
loop, in respond.stream's thread). XLSX is written by xlsxwriter in its constant-memory
mode into a temporary file, then sent from there; every cell is text, never a formula.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ...data.archive import zipped
from ...data.csvout import CHUNK, written
from .annotations import FileFormat

XLSX_ROWS = 1_048_576  # a worksheet's rows, the header's included: an export with more is cut there


def packed(made: Iterable, file: FileFormat, member: str, *, modified: float) -> Iterator[bytes]:
    """The file's bytes in `file`'s format and compression: `made` is the engine's CSV chunks for a CSV
    file (iter_csv), its rows with the header first for any other (iter_rows)."""
    rows = made if file.format == "csv" else _tsv(made) if file.format == "tsv" else _xlsx(made)
    if file.compression == "gzip":
        return _gzip(rows)
    if file.compression == "zip":
        return zipped([(member, rows)], modified=modified)
    return iter(rows)


def _gzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: the gzip wrapper
    for chunk in chunks:
        if data := packer.compress(chunk):
            yield data
    yield packer.flush()


def _xlsx(rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """The rows as one worksheet of text cells."""
    import xlsxwriter  # only for a vendor whose files are XLSX, when one is first written

    with tempfile.TemporaryDirectory(prefix="mockserver-xlsx-") as folder:
        path = Path(folder) / "export.xlsx"
        book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        sheet = book.add_worksheet()
        for number, row in enumerate(rows):
            if number >= XLSX_ROWS:
                break
            sheet.write_row(number, 0, row)
        book.close()
        with path.open("rb") as made:
            while chunk := made.read(CHUNK):
                yield chunk


def _tsv(rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """The rows tab-separated (a cell holding a tab, quote or line break is quoted)."""
    return written(rows, delimiter="\t")
