"""Every option of every command, given a bad value, exits 2 with one line on stderr.

The options come from the parsers themselves: an option added without a row in
BAD fails test_every_option_has_a_row, so none can slip back to a traceback.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver import cli, registry

SPECS = Path(__file__).resolve().parent / "specs"
# what each command needs besides the option under test
BASE = {
    "serve": [],
    "generate": ["order"],
    "contract": ["--base-url", "http://127.0.0.1:9"],
    "proxy": ["--upstream", "http://127.0.0.1:9"],
}
# (command, option) → bad arguments (each replaces BASE when it names the option BASE gives)
BAD: dict[tuple[str, str], list[list[str]]] = {
    ("serve", "--host"): [["--host", "not a host!"], ["--host", ""]],
    ("serve", "--port"): [["--port", "99999"], ["--port", "-1"], ["--port", "http"]],
    ("serve", "--seed"): [["--seed", "1.5"]],
    ("serve", "--lifecycle"): [["--lifecycle", "fast"]],
    ("serve", "--scheduled-seconds"): [["--scheduled-seconds", "-1"], ["--scheduled-seconds", "nan"]],
    ("serve", "--running-seconds"): [["--running-seconds", "inf"], ["--running-seconds", "soon"]],
    ("serve", "--rows"): [["--rows", "-1"], ["--rows", "many"]],
    ("serve", "--locale"): [["--locale", "xx_XX"]],
    ("serve", "--vendors"): [["--vendors", "nope"], ["--vendors", ","], ["--vendors", "voucherify,nope"]],
    ("serve", "--spec"): [
        ["--spec", "/nonexistent/api"],
        ["--spec", str(SPECS / "exports-swagger2.yaml")],
        ["--spec", str(SPECS)],
    ],  # a file, not a folder; a folder of several documents
    ("serve", "--spec-key"): [["--spec-key", ""]],
    ("serve", "--app"): [["--app", "no-token"], ["--app", ":token"]],
    ("serve", "--chargebee-key"): [["--chargebee-key", ""]],
    ("serve", "--config"): [["--config", "/nonexistent/mockserver.yaml"]],
    ("serve", "--stateless"): [["--stateless=yes"], ["--stateless", "--state", "x.db"]],
    ("serve", "--state"): [["--state", "/nonexistent/state.db"], ["--state", "redis://"]],
    ("serve", "--workers"): [["--workers", "0"]],
    ("serve", "--max-exports"): [["--max-exports", "0"]],
    ("serve", "--max-orders"): [["--max-orders", "0"], ["--max-orders", "many"]],
    ("serve", "--cors-origin"): [["--cors-origin", "ftp://example.com"], ["--cors-origin", "localhost:3000"]],
    ("serve", "--latency"): [["--latency", "200-50"], ["--latency", "slow"]],
    ("serve", "--error-rate"): [["--error-rate", "1.5"], ["--error-rate", "nan"]],
    ("serve", "--rate-limit"): [["--rate-limit", "0/s"], ["--rate-limit", "fast"]],
    ("serve", "--journal-size"): [["--journal-size", "0"]],
    ("serve", "--idle-timeout"): [["--idle-timeout", "0"], ["--idle-timeout", "soon"]],
    ("serve", "--send-timeout"): [["--send-timeout", "-1"], ["--send-timeout", "inf"]],
    ("serve", "--allow-host"): [["--allow-host", "not a host"], ["--allow-host", "a/b"]],
    ("serve", "--admin-token"): [["--admin-token", " "]],
    ("serve", "--fixtures"): [["--fixtures", "/nonexistent/fixtures"]],
    ("serve", "--strict"): [["--strict=no"]],
    ("serve", "--access-log"): [["--access-log=yes"]],
    ("serve", "--tls"): [["--tls=yes"]],
    ("serve", "--tls-dir"): [["--tls-dir", "/etc/hostname/tls"]],
    ("generate", "exported_object"): [["nope"]],
    ("generate", "--spec"): [
        ["order", "--spec", "stripe"],
        ["orders", "--spec", "chargebee", "--fields", "nope"],
        ["orders", "--spec", "/nonexistent/api"],
        ["invoices", "--spec", str(SPECS / "acme")],
    ],
    ("generate", "--rows"): [["order", "--rows", "-1"]],
    ("generate", "--fields"): [["order", "--fields", "nope"], ["order", "--fields", ""]],
    ("generate", "--order"): [["order", "--order", "nope"]],
    ("generate", "--filters"): [
        ["order", "--filters", "{"],
        ["order", "--filters", "[1]"],
        ["order", "--filters", '{"status": {"conditions": {"$inn": ["PAID"]}}}'],
    ],
    ("generate", "--seed"): [["order", "--seed", "x"]],
    ("generate", "--app-id"): [["order", "--app-id", ""]],
    ("generate", "--locale"): [["order", "--locale", "xx_XX"]],
    ("generate", "--now"): [["order", "--now", "nan"], ["order", "--now", "today"]],
    ("generate", "--output"): [["order", "--output", "/nonexistent/out.csv"], ["order", "-o", "/"]],
    ("generate", "--strict"): [
        ["order", "--strict", "--filters", '{"stauts": {"conditions": {"$in": ["PAID"]}}}'],
        ["order", "--strict=yes"],
    ],
    ("contract", "--base-url"): [["--base-url", "ftp://example.com"], ["--base-url", "http://127.0.0.1:99999"]],
    ("contract", "--spec"): [["--spec", "/nonexistent/spec"]],
    ("contract", "--from-har"): [["--from-har", "/nonexistent/traffic.har"], ["--from-har", "/"]],
    ("contract", "--from-journal"): [["--from-journal", "ftp://example.com"], ["--from-journal", "http://127.0.0.1:9"]],
    ("contract", "--app-id"): [["--app-id", "only-the-id"], ["--app-id", ""]],
    ("contract", "--app-token"): [["--app-token", "only-the-token"], ["--app-token", ""]],
    ("contract", "--other-app"): [["--other-app", "no-token"]],
    ("contract", "--max-examples"): [["--max-examples", "0"]],
    ("contract", "--checks"): [["--checks", "no_such_check"]],
    ("contract", "--operation"): [["--operation", "no-such-operation"]],
    ("contract", "--junit"): [["--junit", "/nonexistent/junit.xml"]],
    ("contract", "--seed"): [["--seed", "x"]],
    ("contract", "--workers"): [["--workers", "0"]],
    ("contract", "--coverage"): [["--coverage=yes"]],
    ("contract", "--poll-timeout"): [["--poll-timeout", "0"], ["--poll-timeout", "inf"]],
    ("proxy", "--upstream"): [["--upstream", "ftp://example.com"]],
    ("proxy", "--spec"): [["--spec", "nope"]],
    ("proxy", "--host"): [["--host", "not a host!"]],
    ("proxy", "--port"): [["--port", "65536"]],
    ("proxy", "--record"): [["--record", "/etc/hostname/fixtures"]],
    ("proxy", "--journal-size"): [["--journal-size", "0"]],
    ("proxy", "--cors-origin"): [["--cors-origin", "ftp://example.com"]],
    ("proxy", "--allow-host"): [["--allow-host", "not a host"]],
    ("proxy", "--admin-token"): [["--admin-token", ""]],
    ("bundle", "vendor"): [["nope"], [str(SPECS)], [str(SPECS / "exports-swagger2.yaml")]],
    ("bundle", "--output"): [["voucherify", "-o", "/nonexistent/out.yaml"], ["voucherify", "-o", "/"]],
    ("bundle", "--format"): [["voucherify", "--format", "xml"]],
}


def options() -> set[tuple[str, str]]:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = set()
    for name, sub in commands.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            long = [o for o in action.option_strings if o.startswith("--")]
            found.add((name, long[0] if long else action.dest))
    return found


def vendor_options() -> set[tuple[str, str]]:
    """The serve flags installed vendors contribute (Vendor.options)."""
    return {("serve", option.flag) for own in registry.vendor_options().values() for option in own}


def test_every_option_has_a_row():
    """Vendors' own options may have no row: then an empty value is their bad value (see ROWS)."""
    assert options() - vendor_options() == set(BAD) - vendor_options()


# every row, plus each installed vendor's option that has none: an empty value must be refused
ROWS = {
    **BAD,
    **{key: [[key[1], ""]] for key in sorted(vendor_options() - set(BAD))},
}  # sorted: xdist workers must collect one order


def argv_for(command: str, bad: list[str]) -> list[str]:
    given = set(bad) & {"--base-url", "--upstream"}
    base = [] if given or command in ("generate", "bundle") else BASE[command]
    return [command, *base, *bad]


CASES = [
    pytest.param(argv_for(command, bad), id=" ".join(argv_for(command, bad))[:80])
    for (command, _option), rows in ROWS.items()
    for bad in rows
]


@pytest.fixture(autouse=True)
def nothing_runs(monkeypatch, tmp_path):
    """A value that wrongly passes must fail the test, not start a server or a contract run."""

    def started(*args, **kwargs):
        raise AssertionError("the command started instead of refusing its options")

    monkeypatch.setattr("mockserver.serving.serve_until_stopped", started)
    monkeypatch.setattr("mockserver.workers.serve", started)
    monkeypatch.chdir(tmp_path)  # no ./mockserver.yaml of the caller's


@pytest.mark.parametrize("argv", CASES)
def test_bad_value_is_one_line_and_exit_2(argv, capsys):
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"mockserver {argv[0]}: error: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("port", "99999", "config file mockserver.yaml: port: takes a whole number from 0 to 65535, not 99999"),
        ("error_rate", "2", "config file mockserver.yaml: error-rate: takes a number from 0 to 1, not 2"),
        ("portt", "1", "config file mockserver.yaml: unknown key 'portt'"),
    ],
)
def test_bad_config_value_names_its_key(key, value, message, tmp_path, capsys):
    (tmp_path / "mockserver.yaml").write_text(f"{key}: {value}\n")
    status = cli.main(["serve"])
    err = capsys.readouterr().err
    assert status == 2
    assert len(err.strip().splitlines()) == 1, err
    assert message in err, err


# -- the first hour: what a newcomer meets before any option is wrong -----------------------------------
def test_help_lists_every_command_and_loads_none_of_them():
    """`mockserver --help` builds no command's parser, so no vendor or engine is imported (start-up cost
    is measured by a benchmark, not timed here)."""
    code = (
        "import sys\nfrom mockserver import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith(('mockserver.vendors', 'mockserver.data',"
        " 'mockserver.contract', 'aiohttp', 'polars', 'schemathesis'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    out, loaded = done.stdout.split("LOADED ")
    for name, (line, _add) in cli.COMMANDS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(line.split()[0])}", out, re.M), out
    assert list(cli.COMMANDS) == ["serve", "contract", "proxy", "generate", "bundle"]
    assert loaded.strip() == "[]", loaded


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_no_command_help_loads_the_data_engine(command):
    """Every command's --help starts without numpy, polars and faker (the data engine's libraries load
    with the first rows made): they were most of the second each --help took. The commands whose options
    name no vendor (generate, bundle) load no vendor, hence no aiohttp, either."""
    unneeded = {"numpy", "polars", "faker", "schemathesis"} | (
        {"aiohttp"} if command in ("generate", "bundle") else set()
    )
    code = (
        f"import sys\nfrom mockserver import cli\ntry:\n    cli.main([{command!r}, '--help'])\nexcept SystemExit:\n"
        f"    pass\nprint('LOADED', sorted(set({sorted(unneeded)!r}) & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    out, loaded = done.stdout.split("LOADED ")
    assert f"usage: mockserver {command}" in out
    assert loaded.strip() == "[]", loaded


def test_the_help_lines_are_the_commands_own():
    full = cli.build_parser()
    commands = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    own = {choice.dest: choice.help for choice in commands._choices_actions}
    assert own == {name: line for name, (line, _add) in cli.COMMANDS.items()}


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path, capsys):
    (tmp_path / "mockserver.yaml").write_text("port: 0\nlifecycle: [poll\nseed: 1\n")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "config file mockserver.yaml is not valid YAML, line 3" in err, err


def test_a_busy_port_suggests_another(capsys):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        port = holder.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.close()
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "address already in use" in lines[0] and "--port" in lines[0], done.stderr


@pytest.mark.parametrize(
    "argv, meant",
    [
        (["contract", "--schema", "x.yaml"], "--spec"),
        (["contract", "--base-url", "http://127.0.0.1:9", "--max-exmaples", "3"], "--max-examples"),
        (["serve", "--latnecy", "50"], "--latency"),
    ],
)
def test_an_unknown_option_names_the_one_meant(argv, meant, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith(f"mockserver {argv[0]}: error: ") and f"did you mean {meant}?" in err, err


def test_an_unreachable_base_url_gets_one_short_line(capsys):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert cli.main(["contract", "--base-url", f"http://127.0.0.1:{port}", "--checks", "export_lifecycle"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 200, captured.err
    assert f"cannot reach http://127.0.0.1:{port}" in lines[0] and "connection refused" in lines[0], lines
    assert not captured.out.strip()


def test_generate_says_that_filters_pick_from_the_rows_generated(tmp_path, capsys):
    out = tmp_path / "orders.csv"
    status = cli.main(
        [
            "generate",
            "order",
            "--rows",
            "5",
            "--fields",
            "id,status",
            "-o",
            str(out),
            "--filters",
            '{"status": {"conditions": {"$in": ["CANCELED"]}}}',
        ]
    )
    assert status == 0
    err = capsys.readouterr().err
    assert "--filters keep the matching rows of the 5 generated (--rows)" in err, err
    assert len(out.read_text().splitlines()) <= 6
