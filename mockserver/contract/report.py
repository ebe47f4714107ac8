"""Say what a contract run found: a text report for people, JUnit XML for CI.

The text lists every operation with its checks (passed, failed, skipped),
then each failure with a curl line that reproduces it and an excerpt of the
response. Tokens appear as shell variables, never as values.
"""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from .results import Results, printable

MARK = {"passed": "ok  ", "failed": "FAIL", "skipped": "SKIPPED", "not run": "-   "}


def render_text(
    results: Results,
    *,
    base_url: str,
    seconds: float,
    invented: dict[str, str] | None = None,
    title: str = "Contract run against",
) -> str:
    """`invented`: shell variable → a token made up for this run (safe to print, needed to re-run a curl line)."""
    lines = [f"{title} {base_url}", ""]
    by_operation: dict[str, list[str]] = defaultdict(list)
    for operation, check in results.pairs():
        outcome = results.outcome(operation, check)
        count = results.passes.get((operation, check), 0)
        detail = f" ({count} passed)" if outcome == "passed" else ""
        if outcome == "passed" and (operation, check) in results.skipped:  # some scenarios could not run
            detail += f"; SKIPPED in part: {results.skipped[(operation, check)]}"
        if outcome == "skipped":
            detail = f": {results.skipped[(operation, check)]}"
        by_operation[operation].append(f"    {MARK[outcome]} {check}{detail}")
    for operation in sorted(by_operation):
        failed = any(line.startswith(f"    {MARK['failed']}") for line in by_operation[operation])
        lines.append(f"{'FAIL' if failed else 'ok  '} {operation}")
        lines += by_operation[operation]
    failures = results.failures
    if failures:
        lines += ["", f"{len(failures)} failure(s):"]
        for number, finding in enumerate(failures, start=1):
            lines += ["", f"{number}. [{finding.check}] {finding.operation}: {finding.title}"]
            if finding.message:
                lines += [f"   {line}" for line in finding.message.strip().splitlines()]
            if finding.curl:
                lines += ["   reproduce:", *[f"     {line}" for line in finding.curl.splitlines()]]
            if finding.status is not None or finding.response:
                lines.append(f"   response {finding.status if finding.status is not None else ''}:")
                lines += [f"     {line}" for line in (finding.response or "(empty body)").splitlines()[:12]]
        lines += _exports(failures, {**(results.variables or LIVE_VARIABLES), **(invented or {})})
    for error in results.errors:
        lines += ["", f"ERROR {error}"]
    checks = {check for _, check in results.pairs()}
    verdict = "PASSED" if results.ok else "FAILED"
    skipped = sum(1 for pair in results.pairs() if results.outcome(*pair) == "skipped")
    lines += [
        "",
        f"{verdict}: {len(by_operation)} operations, {len(checks)} checks, {len(failures)} failure(s), "
        f"{skipped} skipped, {len(results.errors)} error(s) in {seconds:.1f} s",
    ]
    return "\n".join(printable(line) for text in lines for line in text.split("\n")) + "\n"


LIVE_VARIABLES = {"APP_TOKEN": "<your --app-token>", "OTHER_APP_TOKEN": "<the --other-app token>"}


def _exports(failures: list, variables: dict[str, str]) -> list[str]:
    """The `export` line for the shell variables the curl lines use (none used: no line): a token the run
    invented in full, else what to set the variable to."""
    used = [name for name in variables if any(re.search(rf'"\${name}[":]', f.curl) for f in failures)]
    if not used:
        return []
    return [
        "",
        "Tokens in curl lines are shell variables; set them before running the lines in a POSIX shell:",
        "  export "
        + " ".join(
            f"{name}={value}" if value.startswith("<") else f"{name}={shlex.quote(value)}"
            for name, value in ((name, variables[name]) for name in used)
        ),
    ]


def write_junit(results: Results, path: str | Path, *, seconds: float) -> None:
    """One testcase per operation × check; classname is the operation, name the check."""
    suite = ET.Element("testsuite", name="mockserver-contract", time=f"{seconds:.3f}")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for operation, check in results.pairs():
        case = ET.SubElement(suite, "testcase", classname=operation, name=check)
        counts["tests"] += 1
        outcome = results.outcome(operation, check)
        if outcome == "failed":
            counts["failures"] += 1
            for finding in results.findings[(operation, check)]:
                element = ET.SubElement(case, "failure", message=finding.title, type=check)
                element.text = "\n".join(
                    part
                    for part in (
                        finding.message,
                        finding.curl and f"reproduce: {finding.curl}",
                        finding.status is not None and f"response {finding.status}: {finding.response}",
                    )
                    if part
                )
        elif outcome == "skipped":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=results.skipped[(operation, check)])
    for number, error in enumerate(results.errors, start=1):
        case = ET.SubElement(suite, "testcase", classname="run", name=f"error-{number}")
        ET.SubElement(case, "error", message=error.splitlines()[0] if error else "error").text = error
        counts["tests"] += 1
        counts["errors"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
