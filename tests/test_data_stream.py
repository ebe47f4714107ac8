"""Determinism, RFC 4180, chunked streaming in bounded memory, stored records, the CLI."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from test_data_helpers import MODEL, NOW, OBJECTS, export

from mockserver.cli import main
from mockserver.data import ExportQuery, iter_csv, load_model
from mockserver.data.csvout import CHUNK, chunked
from mockserver.spec import load_spec
from mockserver.vendors.voucherify import Voucherify

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("obj", OBJECTS)
def test_same_inputs_same_bytes_with_a_fresh_model(obj):
    fields = MODEL.objects[obj].fields
    first = export(obj, fields, rows=300, seed=7)
    fresh = load_model(load_spec("voucherify"), Voucherify.data_recipes)
    again = b"".join(iter_csv(fresh, ExportQuery(obj, fields, rows=300), seed=7, app_id="app", now=NOW))
    assert first == again
    assert export(obj, fields, rows=300, seed=8) != first
    assert export(obj, fields, rows=300, seed=7, app="another") != first


def test_a_row_does_not_depend_on_the_data_set_size():
    small = export("redemption", MODEL.objects["redemption"].fields, rows=70).split(b"\r\n")
    large = export("redemption", MODEL.objects["redemption"].fields, rows=1500).split(b"\r\n")
    assert small[:71] == large[:71]


@pytest.mark.parametrize("obj", OBJECTS)
def test_rows_made_many_blocks_at_a_time_are_the_rows_made_one_block_at_a_time(obj):
    """Blocks are made SPAN at a time for speed; each block still draws from its own generator."""
    from mockserver.data.batches import generate_block, recipe_of
    from mockserver.data.blocks import BLOCK
    from mockserver.data.columns import values

    model = MODEL.objects[obj]
    world = recipe_of(model).world(0, "app", "en_US")
    rows = 2 * BLOCK + 17
    together = generate_block(world, model, 0, rows, span=3)
    apart = [generate_block(world, model, number, rows) for number in range(3)]
    assert together.keys() == apart[0].keys()
    for name in together:
        assert list(values(together[name])) == [v for block in apart for v in values(block[name])], name


def test_a_small_data_sets_block_is_made_once_and_a_large_ones_each_time(monkeypatch):
    """Many reads of one small data set (a tenant's reports, a client polling) make its block once; the
    copy each caller gets is its own; another world, model or size is another block; a large one is never
    held."""
    from mockserver.data import batches
    from mockserver.data.batches import _Kept, generate_block, recipe_of
    from mockserver.data.blocks import BLOCK, Block

    model = MODEL.objects["order"]
    recipe = recipe_of(model)
    made: list[int] = []

    def block(*args) -> Block:
        made.append(Block(*args).n)
        return Block(*args)

    monkeypatch.setattr(batches, "Block", block)
    monkeypatch.setattr(batches, "_KEPT", _Kept())
    world = recipe.world(11, "kept-app", "en_US")
    first = generate_block(world, model, 0, 120)
    first["#extra"] = []  # a caller's own column stays its own
    again = generate_block(world, model, 0, 120)
    assert made == [120] and "#extra" not in again and again.keys() == first.keys() - {"#extra"}
    generate_block(recipe.world(12, "kept-app", "en_US"), model, 0, 120)
    generate_block(world, model, 0, 121)
    generate_block(world, MODEL.objects["voucher"], 0, 120)
    assert len(made) == 4
    generate_block(world, model, 0, BLOCK + 1)
    generate_block(world, model, 0, BLOCK + 1)
    assert made[4:] == [BLOCK, BLOCK]


def test_kept_blocks_are_bounded_by_rows_not_by_count(monkeypatch):
    """However many distinct small data sets are asked for, the rows kept stay within the budget, the least
    recently used dropped first (counted in blocks, 300 distinct 4,000-row customer sets kept 1.3 GB)."""
    from mockserver.data import batches
    from mockserver.data.batches import _Kept, generate_block, recipe_of
    from mockserver.data.blocks import Block

    kept = _Kept()
    monkeypatch.setattr(batches, "_KEPT", kept)
    model = MODEL.objects["order"]
    world = recipe_of(model).world(11, "budget-app", "en_US")
    sizes = [4000 + i for i in range(10)]  # ten blocks, 40,045 rows: more than the budget
    for rows in sizes:
        generate_block(world, model, 0, rows)
    held = [entry[3] for entry in kept._blocks.values()]
    assert kept._rows == sum(held) <= _Kept.BUDGET and held == sizes[-len(held) :]
    made: list[int] = []
    monkeypatch.setattr(batches, "Block", lambda *args: made.append(args[3]) or Block(*args))
    generate_block(world, model, 0, sizes[-1])  # the newest is still kept
    generate_block(world, model, 0, sizes[0])  # the oldest was dropped: made again
    assert made == [sizes[0]]


def test_a_kept_blocks_cells_are_made_once_per_field_and_format(monkeypatch):
    """The second export of a small data set formats no column again, and writes the same bytes."""
    from mockserver.data import batches
    from mockserver.data.batches import Pipeline, _Kept

    monkeypatch.setattr(batches, "_KEPT", _Kept())
    made: list[str] = []
    cells = Pipeline._cells
    monkeypatch.setattr(Pipeline, "_cells", lambda self, *args: made.append(1) or cells(self, *args))
    fields = MODEL.objects["order"].fields
    first = export("order", fields, rows=150, seed=5)
    formatted = len(made)
    assert formatted >= len(fields) and export("order", fields, rows=150, seed=5) == first
    assert len(made) == formatted  # every cell of the second export was kept
    assert export("order", fields[:2], rows=150, seed=6) != first and len(made) == formatted + 2


def run_cli(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "random"}
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "generate", *args],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        **kw,
    )


@pytest.mark.slow
def test_cli_output_is_identical_across_processes_and_matches_the_library(tmp_path):
    args = [
        "customer",
        "--rows",
        "250",
        "--seed",
        "3",
        "--app-id",
        "app",
        "--fields",
        "id,name,email,metadata",
        "--order=-email",
        "--now",
        str(NOW),
    ]
    first, second = run_cli(*args), run_cli(*args, "-o", str(tmp_path / "out.csv"))
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == (tmp_path / "out.csv").read_bytes()
    assert first.stdout == export("customer", ("id", "name", "email", "metadata"), rows=250, seed=3, order="-email")


@pytest.mark.slow
def test_cli_writes_chargebee_rows_with_spec_chargebee(tmp_path):
    out = tmp_path / "orders.csv"
    done = run_cli(
        "orders",
        "--spec",
        "chargebee",
        "--rows",
        "40",
        "--app-id",
        "site",
        "--now",
        str(NOW),
        "--filters",
        '{"status": {"conditions": {"$in": ["delivered"]}}}',
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    model = load_model(load_spec("chargebee"))
    query = ExportQuery(
        "orders",
        model.object("orders").default_fields,
        rows=40,
        filters={"status": {"conditions": {"$in": ["delivered"]}}},
    )
    assert out.read_bytes() == b"".join(iter_csv(model, query, seed=0, app_id="site", now=NOW))
    rows = list(csv.DictReader(io.StringIO(out.read_text(), newline="")))
    assert rows and {row["status"] for row in rows} == {"delivered"}
    assert run_cli("order", "--spec", "chargebee").returncode == 2  # Voucherify's name is not Chargebee's


def generate_in_process(*args: str) -> int:
    return main(["generate", *args])


@pytest.mark.parametrize(
    "args,message",
    [
        (["orderz"], "unknown exported object"),
        (["orderz", "--spec", "chargebee"], "unknown exported object"),
        (["order", "--fields", "id,bogus"], "no field"),
        (["order", "--order", "amount"], "cannot be ordered"),
        (["order", "--filters", "{nope"], "not JSON"),
        (["order", "--filters", "[1]"], "JSON object"),
        (["order", "--rows", "-1"], "--rows"),
        (["order", "--locale", "xx_YY"], "locale"),
    ],
)
def test_cli_rejects_bad_options_with_exit_code_2(args, message, capsys):
    assert generate_in_process(*args) == 2
    out, err = capsys.readouterr()
    assert message in err and out == ""


def test_chunks_are_cut_across_batches_of_any_size():
    """Batches shorter than a chunk, empty, several chunks long, or written buffers (memoryviews): the
    stream is their bytes in order, in chunks of CHUNK but the last."""
    batches = [b"", b"a" * 10, b"b" * (3 * CHUNK + 5), b"", memoryview(b"c" * CHUNK), b"d" * (CHUNK - 13), b"e"]
    chunks = list(chunked("H", iter(batches)))
    assert b"".join(chunks) == b"H\r\n" + b"".join(bytes(batch) for batch in batches)
    assert {len(chunk) for chunk in chunks[:-1]} == {CHUNK} and 0 < len(chunks[-1]) <= CHUNK
    assert list(chunked("H", iter([]))) == [b"H\r\n"]


@pytest.mark.slow
def test_cli_error_exit_code_in_a_real_process():
    done = run_cli("order", "--fields", "id,bogus")
    assert done.returncode == 2
    assert b"no field" in done.stderr and b"Traceback" not in done.stderr and done.stdout == b""


def test_rfc4180_round_trip_with_awkward_values():
    awkward = ["plain", "comma, inside", 'quote " inside', "new\nline", "cr\r\nlf", "", "ünïcødé ✓", '"quoted"']
    records = [
        {"id": f"ord_{n}", "source_id": value, "status": "PAID", "amount": n, "metadata": {"note": value, "n": n}}
        for n, value in enumerate(awkward)
    ]
    fields = ("id", "source_id", "amount", "metadata", "metadata.note")
    raw = b"".join(iter_csv(MODEL, ExportQuery("order", fields, records=records), seed=0, app_id="a", now=NOW))
    assert raw.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert rows[0] == ["ID", "Source ID", "Amount", "Metadata", "metadata.note"]  # labels; metadata keys as named
    assert [row[1] for row in rows[1:]] == awkward
    assert [row[4] for row in rows[1:]] == awkward
    assert [row[2] for row in rows[1:]] == [str(n) for n in range(len(awkward))]


def test_generated_values_round_trip_through_the_csv_module():
    for obj in OBJECTS:
        raw = export(obj, MODEL.objects[obj].fields, rows=200).decode("utf-8")
        rows = list(csv.reader(io.StringIO(raw, newline="")))
        assert len(rows) == 201 and {len(row) for row in rows} == {len(MODEL.objects[obj].fields)}
        assert raw.count("\r\n") >= 201


def test_stored_records_are_filtered_sorted_and_scoped():
    records = [
        {"id": f"ord_{n:03d}", "status": ("PAID", "CREATED")[n % 2], "amount": n * 100, "customer_id": f"cust_{n % 3}"}
        for n in range(50)
    ]
    query = ExportQuery(
        "order",
        ("id", "amount"),
        order="-status",
        records=records,
        filters={"amount": {"conditions": {"$less_than": 2000}}},
        scope={"customer_id": "cust_1"},
    )
    rows = list(csv.reader(io.StringIO(b"".join(iter_csv(MODEL, query, seed=0, app_id="a", now=NOW)).decode())))
    expected = [r for r in records if r["amount"] < 2000 and r["customer_id"] == "cust_1"]
    expected.sort(key=lambda r: r["status"], reverse=True)
    assert rows[1:] == [[r["id"], str(r["amount"])] for r in expected]


def test_header_only_for_an_empty_data_set():
    assert export("order", ("id",), rows=0) == b"ID\r\n"


def test_single_empty_column_rows_are_not_blank_lines():
    raw = export("publication", ("voucher_code",), rows=400).decode()
    assert "\r\n\r\n" not in raw
    assert len(list(csv.reader(io.StringIO(raw, newline="")))) == 401


def test_streams_in_64k_chunks_with_bounded_memory():
    chunks = iter_csv(MODEL, ExportQuery("order", ("id", "status"), rows=100_000), seed=1, app_id="app", now=NOW)
    first = next(chunks)  # pools and tables are built by now
    tracemalloc.start()
    try:
        sizes, lines = [len(first)], first.count(b"\n")
        for chunk in chunks:
            sizes.append(len(chunk))
            lines += chunk.count(b"\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 100_001
    assert set(sizes[:-1]) == {CHUNK} and 0 < sizes[-1] <= CHUNK
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while streaming"


def test_a_download_holds_one_slice_of_text_at_a_time():
    """The writer hands on each slice's text (csvout.SLICE rows, ~0.95 MiB of order rows) before writing the
    next, as the bytes polars made (not copied into a BytesIO: 2.9 MiB at the peak when it was), and the
    chunker lets go of them before asking for the next: a batch's text (16,384 order rows, ~4 MiB) is never
    held whole, nor two of them at once (10 MiB of Python memory at the peak when it was)."""
    fields = MODEL.objects["order"].fields
    chunks = iter_csv(MODEL, ExportQuery("order", fields, rows=100_000), seed=1, app_id="app", now=NOW)
    first = next(chunks)  # pools and tables are built by now
    tracemalloc.start()
    try:
        lines = first.count(b"\n") + sum(chunk.count(b"\n") for chunk in chunks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 100_001
    assert peak < 2.5 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while streaming"


def test_instants_are_written_without_a_python_string_per_second_of_the_day():
    """The engine's clock table (`HH:MM:SS.` for each of 86,400 seconds) is made by polars, at first use; the
    Python list of it (~6 MiB, for the server's lifetime) only when a recipe formats instants one by one, which
    an order export never does. Every second of a day is still written as datetime writes it."""
    script = (
        "import os, tracemalloc, numpy, polars, mockserver.clock\n"
        "threads = len(os.listdir('/proc/self/task'))\n"
        "tracemalloc.start()\n"
        "import mockserver.data.timefmt as t\n"
        "print(tracemalloc.get_traced_memory()[0])\n"
        "print(len(os.listdir('/proc/self/task')) - threads)\n"
        "tracemalloc.stop()\n"  # the import was what it measured: tracing the export too tripled the child's CPU
        "from mockserver.data import ExportQuery, iter_csv, load_model\n"
        "from mockserver.spec import load_spec\n"
        "from mockserver.vendors.voucherify import Voucherify\n"
        "model = load_model(load_spec('voucherify'), Voucherify.data_recipes)\n"
        "query = ExportQuery('order', model.objects['order'].fields, rows=5000)\n"
        "assert sum(len(c) for c in iter_csv(model, query, seed=1, app_id='a', now=1.7e9)) > 0\n"
        "print(t._clock.cache_info().currsize)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    held, started, made = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    assert int(held) < 2 * 1024 * 1024, f"importing timefmt holds {int(held) / 2**20:.1f} MiB"  # 5.7 MiB before
    # nor does the import run a polars query: that starts polars' engine (6 threads, ~10 MiB of a server's RSS
    # that only creates and polls exports); the clock's column is made at the first download that needs it
    assert started == "0", f"importing timefmt started {started} threads"
    assert made == "0"

    from datetime import datetime, timezone

    from mockserver.data.timefmt import iso_ms, iso_ms_series

    day = 1_767_139_200_000  # 2025-12-31T00:00:00Z
    times = np.arange(day, day + 86_400_000, 1000, dtype=np.int64) + np.arange(86_400) % 1000
    written = iso_ms_series(times).to_list()
    assert written == [iso_ms(int(t)) for t in times]
    expected = [
        datetime.fromtimestamp(t / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for t in times
    ]
    assert written == expected


GENERATE_AND_COUNT_ARENAS = """
import ctypes, os, sys
sys.argv = ["mockserver", "generate", "order", "--rows", "50000", "-o", os.devnull]
from mockserver.cli import main
status = main(None if sys.argv and os.environ.get("AS_COMMAND") else sys.argv[1:])
sys.stdout.flush()
ctypes.CDLL(None).malloc_stats()  # glibc's: a paragraph per arena on stderr
"""


@pytest.mark.parametrize("as_command", [True, False])
def test_the_command_keeps_one_malloc_arena_whatever_threads_polars_starts(as_command):
    """The process that is the command (`mockserver serve`, `generate`: main() reading sys.argv) keeps glibc's
    malloc to one arena (tuning.one_malloc_arena), so memory freed by one thread is reused by the others: a
    download's producer thread and polars' writer threads (which make each slice's Python bytes) had an
    arena each, 12 in a 50,000-row `generate`, and a 1M-row download's peak RSS was 3.5 MiB higher. A
    program that calls main() itself (a test, an embedder) keeps its malloc as it was."""
    try:
        os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        pytest.skip("glibc's malloc only")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AS_COMMAND": "1" if as_command else ""}
    done = subprocess.run([sys.executable, "-c", GENERATE_AND_COUNT_ARENAS], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    arenas = sum(line.startswith("Arena ") for line in done.stderr.splitlines())
    assert arenas == 1 if as_command else arenas > 1, done.stderr


def test_a_block_is_let_go_before_the_next_is_made(monkeypatch):
    """A walk drops a block's selected frame once written, before the next block's columns are made:
    otherwise two blocks' rows are alive at once (the download's peak RSS)."""
    import weakref

    from mockserver.data.batches import Pipeline, SyntheticSource

    selected, made, alive = [], SyntheticSource.columns, []
    select = Pipeline.select

    def columns(self, number):
        alive.append(sum(ref() is not None for ref in selected))
        return made(self, number)

    def recorded(self, *args, **kwargs):
        frame = select(self, *args, **kwargs)
        selected.append(weakref.ref(frame))
        return frame

    monkeypatch.setattr(SyntheticSource, "columns", columns)
    monkeypatch.setattr(Pipeline, "select", recorded)
    assert export("order", MODEL.objects["order"].fields, rows=100_000).count(b"\n") == 100_001
    assert len(alive) > 3 and set(alive) == {0}


@pytest.mark.slow
def test_generate_shows_progress_on_a_terminal_and_nothing_in_a_pipe(tmp_path):
    """A big `generate` job draws a bar with its total and ETA on a terminal's stderr; piped, stderr stays empty."""
    import os
    import pty
    import subprocess
    import sys

    argv = [sys.executable, "-m", "mockserver", "generate", "order", "--rows", "30000", "-o", str(tmp_path / "a.csv")]
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    main, child = pty.openpty()
    with subprocess.Popen(argv, stderr=child, stdout=subprocess.DEVNULL, env=env) as process:
        os.close(child)
        drawn = b""
        while True:
            try:
                piece = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not piece:
                break
            drawn += piece
        assert process.wait(timeout=120) == 0
    os.close(main)
    text = drawn.decode(errors="replace")
    assert "generate" in text and "30000" in text and "rows" in text and "ETA" in text
    piped = subprocess.run(argv[:-1] + [str(tmp_path / "b.csv")], capture_output=True, env=env, timeout=120)
    assert piped.returncode == 0 and piped.stderr == b""
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
