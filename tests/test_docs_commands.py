"""Every command the README and docs/ show is run, against a live mock.

The fenced ```sh / ```console / ```python blocks of README.md and docs/*.md are found and run, so a
page cannot drift from the product again. Rules a page follows:

- Shell blocks run in bash with `set -euo pipefail`; `http://127.0.0.1:8080` means the mock this module
  starts (`mockserver serve` on a free port, the README's defaults).
- `curl` fails the block on any answer of 400 or more, unless the command says which it expects: a
  trailing `# → NNN …` comment, or a `Prefer: code=NNN` header.
- A `mockserver serve …` line (foreground, or with `&`) starts that server on a free port, waits (bounded)
  until it listens, and is stopped by its pid when the next one starts or the block ends; the block's URLs
  then mean that server.
- ```python blocks run with this interpreter; a block marked `<!-- doc-test: pytest -->` is a test file,
  run with pytest.
- `<!-- doc-test: skip (reason) -->` right before a block skips it; the reason says what is absent.
- Every block finds the shared mock as new (`POST /__mock/reset` before it: no exports, apps, faults or
  journal entries of earlier blocks), so it passes whatever ran before it, in any order or split over workers.

The README's two opening commands install into a fresh venv, so the suite does not run them: the first
test below checks that .ci/run runs exactly the README's test command, and
`DOC_TEST_FRESH_VENV=1` runs both on a copy of the tree (slow, opt-in).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = ("sh", "bash", "shell", "console", "python")
DEFAULT_URL = "http://127.0.0.1:8080"
BLOCK_TIMEOUT = 600  # a default contract run on a loaded 2-core machine takes minutes

FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
DIRECTIVE = re.compile(r"<!--\s*doc-test:\s*([^\n]*?)\s*-->\s*\Z")
EXPECT = re.compile(r"#\s*→\s*(\d{3})\b")
BACKGROUND_SERVE = re.compile(r"^(\s*mockserver serve\b[^#\n]*?)\s*&(\s*(#.*)?)$", re.M)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    text: str
    directive: str

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        match = re.fullmatch(r"skip\s*\((.+)\)", self.directive)
        return match.group(1) if match else None


def blocks() -> list[Block]:
    found = []
    for page in PAGES:
        source = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(source):
            lang = match.group(1).lower()
            if lang not in RUN:
                continue
            before = source[: match.start()].rstrip()
            directive = DIRECTIVE.search(before)
            found.append(
                Block(
                    page,
                    source.count("\n", 0, match.start()) + 1,
                    lang,
                    match.group(2),
                    directive.group(1) if directive else "",
                )
            )
    return found


BLOCKS = blocks()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ running a block
PREAMBLE = r"""
set -euo pipefail
_doc_stop() {
    if [ -n "${DOC_SERVER_PID:-}" ]; then
        kill "$DOC_SERVER_PID" 2>/dev/null || true
        wait "$DOC_SERVER_PID" 2>/dev/null || true
        DOC_SERVER_PID=
    fi
}
trap _doc_stop EXIT
trap 'exit 1' TERM
_doc_fail() {  # also from a pipeline or a loop's condition: the whole block fails, at once
    echo "doc-test: $*" >&2
    kill -TERM $$
    return 1
}
mockserver() {
    if [ "${1:-}" != serve ]; then command mockserver "$@"; return; fi
    shift
    _doc_stop
    : >"$DOC_TMP/serve.log"
    command mockserver serve "$@" --port "$DOC_PORT" >"$DOC_TMP/serve.log" 2>&1 &
    DOC_SERVER_PID=$!
    local waited=0
    until grep -q 'listening on' "$DOC_TMP/serve.log"; do
        if ! kill -0 "$DOC_SERVER_PID" 2>/dev/null || [ "$waited" -ge 600 ]; then
            cat "$DOC_TMP/serve.log" >&2; _doc_fail "mockserver serve $* did not start"
        fi
        sleep 0.1; waited=$((waited + 1))
    done
    until command curl -s -o /dev/null "http://127.0.0.1:$DOC_PORT/__mock/health" \
            || command curl -sk -o /dev/null "https://127.0.0.1:$DOC_PORT/__mock/health"; do  # --workers, --tls
        [ "$waited" -lt 600 ] || _doc_fail "mockserver serve $* does not answer"
        sleep 0.1; waited=$((waited + 1))
    done
}
curl() {
    local rc=0 status expect="${DOC_EXPECT:-}" arg
    command curl -sS --write-out '%{stderr}DOC-STATUS:%{http_code}\n' "$@" 2>"$DOC_TMP/curl.err" || rc=$?
    grep -v '^DOC-STATUS:' "$DOC_TMP/curl.err" >&2 || true
    status=$(sed -n 's/^DOC-STATUS://p' "$DOC_TMP/curl.err" | tail -n 1)
    [ "$rc" -eq 0 ] || { _doc_fail "curl $* exited $rc"; return "$rc"; }
    for arg in "$@"; do
        case "$arg" in *'Prefer: code='*) [ -n "$expect" ] || expect=$(sed 's/.*code=\([0-9]*\).*/\1/' <<<"$arg");; esac
    done
    if [ -n "$expect" ]; then
        [ "$status" = "$expect" ] || _doc_fail "curl $* answered $status, the page says $expect"
    elif [ -n "$status" ] && [ "$status" -ge 400 ]; then
        _doc_fail "curl $* answered $status"
    fi
}
"""


def shell_script(block: Block, url: str) -> str:
    """The block as bash: console prompts stripped, expectations attached, the test's URL in."""
    lines = block.text.splitlines()
    if block.lang == "console":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    text = BACKGROUND_SERVE.sub(r"\1\2", "\n".join(lines))
    commands, current = [], []
    for line in text.splitlines():  # a command is its lines up to one that does not end with a backslash
        current.append(line)
        if not line.rstrip().endswith("\\"):
            commands.append(current)
            current = []
    if current:
        commands.append(current)
    out = []
    for command in commands:
        expect = EXPECT.search(command[-1])
        if expect and command[0].strip():
            indent = len(command[0]) - len(command[0].lstrip())
            command[0] = f"{command[0][:indent]}DOC_EXPECT={expect.group(1)} {command[0][indent:]}"
        out.extend(command)
    script = "\n".join(out).replace(DEFAULT_URL, url)
    return PREAMBLE + script.replace(DEFAULT_URL.replace("http:", "https:"), url.replace("http:", "https:")) + "\n"


def environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DOC_TMP"] = str(tmp)
    env["NO_COLOR"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_block(block: Block, url: str, workdir: Path) -> subprocess.CompletedProcess:
    """Runs one block in `workdir` (which holds links to the tree's fixtures/ and schemas/)."""
    env = environment(workdir)
    has_server = block.lang != "python" and re.search(r"^\s*(\$ )?mockserver serve\b", block.text, re.M)
    port = free_port()
    env["DOC_PORT"] = str(port)
    target = f"http://127.0.0.1:{port}" if has_server else url
    if block.lang == "python":
        source = block.text.replace(DEFAULT_URL, target)
        if block.directive == "pytest":
            (workdir / "test_doc_example.py").write_text(source)
            argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_doc_example.py"]
        else:
            argv = [sys.executable, "-c", source]
    else:
        argv = ["bash", "-c", shell_script(block, target)]
    return subprocess.run(
        argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT, start_new_session=False
    )


@pytest.fixture(scope="module")
def live_mock(tmp_path_factory):
    """`mockserver serve` with the README's defaults, on a free port."""
    workdir = tmp_path_factory.mktemp("docs-server")
    log = (workdir / "serve.log").open("w")  # a file, not a pipe: a full pipe would block the server's logging
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0"],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment(workdir),
    )
    try:
        deadline = time.monotonic() + 120
        url = None
        while time.monotonic() < deadline and url is None and process.poll() is None:
            match = re.search(r"listening on (http://\S+)", (workdir / "serve.log").read_text())
            url = match.group(1) if match else time.sleep(0.1)
        assert url, "mockserver serve did not start"
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def run_documented(block: Block, url: str, workdir: Path) -> subprocess.CompletedProcess:
    """A page's block against the shared mock `url`, reset first: what earlier blocks left (exports, bound
    app keys, journal entries such as the README's `Prefer: code=429`) is not this block's starting point."""
    reply = requests.post(url + "/__mock/reset", json={}, timeout=30)  # the admin API takes JSON
    assert reply.status_code == 200, reply.text
    workdir.mkdir(parents=True, exist_ok=True)
    return run_block(block, url, workdir_for(workdir))


def workdir_for(base: Path) -> Path:
    for name in ("fixtures", "schemas", "benchmarks"):
        (base / name).symlink_to(ROOT / name, target_is_directory=True)
    return base


# ------------------------------------------------------------------ the tests
def readme_commands() -> list[str]:
    readme = [block for block in BLOCKS if block.page.name == "README.md"]
    return [readme[0].text.strip(), readme[1].text.strip()]


def test_ci_runs_exactly_the_readme_test_command():
    """The README's second command is what CI runs (its first line of work after the system packages)."""
    serve_command, test_command = readme_commands()
    assert serve_command.startswith("python3 -m venv .venv && .venv/bin/pip install -e . &&")
    assert serve_command.endswith("mockserver serve")
    ci = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert test_command in lines, f"{test_command!r} is not a line of .ci/run"


@pytest.mark.skipif(os.environ.get("DOC_TEST_FRESH_VENV") != "1", reason="slow: set DOC_TEST_FRESH_VENV=1")
def test_the_readme_commands_work_in_a_fresh_venv(tmp_path):
    """Both opening commands, as written, on a copy of the tree with no venv (installs: minutes)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / name)
    serve_command, test_command = readme_commands()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "DOC_TEST", "PYTEST"))}
    server = subprocess.Popen(
        ["bash", "-c", serve_command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output = []
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            output.append(line)
            if "listening on http://127.0.0.1:8080" in line or (not line and server.poll() is not None):
                break
        assert any("listening on" in line for line in output), "".join(output)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)
    result = subprocess.run(
        ["bash", "-c", test_command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=3600
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_blocks_are_found_and_every_skip_says_why(capsys):
    """The pages have runnable blocks, and each skipped one names what it needs."""
    assert sum(block.page.name == "README.md" for block in BLOCKS) >= 5
    skipped = [block for block in BLOCKS if block.directive.startswith("skip")]
    for block in skipped:
        assert block.skip_reason and len(block.skip_reason) > 10, f"{block.id}: a skip must say why"
    unknown = [
        block.id for block in BLOCKS if block.directive and not block.skip_reason and block.directive != "pytest"
    ]
    assert not unknown, f"unknown doc-test directives at {unknown}"
    with capsys.disabled():
        print(f"\ndoc blocks: {len(BLOCKS)} found, {len(BLOCKS) - len(skipped)} run, {len(skipped)} skipped:")
        for block in skipped:
            print(f"  {block.id}: {block.skip_reason}")


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_documented_block_runs(block, live_mock, tmp_path):
    if block.skip_reason:
        pytest.skip(block.skip_reason)
    result = run_documented(block, live_mock, tmp_path)
    assert result.returncode == 0, (
        f"{block.id} ({block.lang}) exited {result.returncode}\n"
        f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


def _block(page: str, text: str) -> Block:
    return next(block for block in BLOCKS if block.id.startswith(page + ":") and text in block.text)


@pytest.mark.slow
def test_a_block_passes_whatever_ran_before_it(live_mock, tmp_path):
    """After the README's tour asked for a 429 (`Prefer: code=429`), docs/contract.md's
    `--from-journal` block failed on the mock that had answered it. In both orders, on one mock, both pass."""
    steer, recorded = _block("README.md", "Prefer: code=429"), _block("docs/contract.md", "--from-journal")
    for number, order in enumerate(((steer, recorded), (recorded, steer))):
        for block in order:
            result = run_documented(block, live_mock, tmp_path / f"{number}-{block.line}")
            assert result.returncode == 0, (block.id, result.stdout[-3000:], result.stderr[-3000:])


@pytest.mark.slow
def test_a_broken_command_fails_its_block(live_mock, tmp_path):
    """The harness is not a rubber stamp: a wrong path, a wrong expectation and a bad flag each fail."""
    broken = [
        "curl -s http://127.0.0.1:8080/v1/exportz -H 'X-App-Id: a' -H 'X-App-Token: b'",
        "curl -s http://127.0.0.1:8080/v1/exports -H 'X-App-Id: a' -H 'X-App-Token: b'   # → 404",
        "until curl -s http://127.0.0.1:8080/v1/exportz | grep -q DONE; do sleep 1; done",  # fails, not loops
        "mockserver serve --no-such-flag",
        "mockserver generate order --rows 2 --fields id,nope",
    ]
    for text in broken:
        block = Block(ROOT / "README.md", 0, "sh", text + "\n", "")
        assert run_block(block, live_mock, tmp_path).returncode != 0, text
    fine = Block(
        ROOT / "README.md",
        0,
        "sh",
        "curl -s http://127.0.0.1:8080/v1/exports -H 'X-App-Id: a' -H 'X-App-Token: b'   # → 200\n",
        "",
    )
    assert run_block(fine, live_mock, tmp_path).returncode == 0


@pytest.mark.slow
def test_serve_help_says_what_pinning_an_app_does():
    """`--app` pins apps: others get 401 (docs/serving.md runs that), and the help says so, not 'bound'."""
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=True,
    )
    help_text = " ".join(result.stdout.split())
    assert "other app ids then get 401" in help_text
    assert "bound to their first token" not in help_text
