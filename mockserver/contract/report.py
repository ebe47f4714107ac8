"""Say what a contract run found: a text report for people, JUnit XML for CI.

The text lists every operation with its checks (passed, failed, skipped),
then each failure with a curl line that reproduces it and an excerpt of the
response. Tokens appear as shell variables, never as values.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path
from typing import TextIO

from .results import Results

MARK = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip", "not run": "-   "}


def render_text(results: Results, *, base_url: str, seconds: float) -> str:
    lines = [f"Contract run against {base_url}", ""]
    by_operation: dict[str, list[str]] = defaultdict(list)
    for operation, check in results.pairs():
        outcome = results.outcome(operation, check)
        count = results.passes.get((operation, check), 0)
        detail = f" ({count} passed)" if outcome == "passed" else ""
        if outcome == "skipped":
            detail = f" ({results.skipped[(operation, check)]})"
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
        lines += ["", "Tokens in curl lines are shell variables: export APP_TOKEN=<your --app-token> "
                  "(and OTHER_APP_TOKEN for the second app) before running them."]
    for error in results.errors:
        lines += ["", f"ERROR {error}"]
    checks = {check for _, check in results.pairs()}
    verdict = "PASSED" if results.ok else "FAILED"
    lines += ["", f"{verdict}: {len(by_operation)} operations, {len(checks)} checks, {len(failures)} failure(s), "
              f"{len(results.errors)} error(s) in {seconds:.1f} s"]
    return "\n".join(lines) + "\n"


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
                element.text = "\n".join(part for part in (
                    finding.message, finding.curl and f"reproduce: {finding.curl}",
                    finding.status is not None and f"response {finding.status}: {finding.response}") if part)
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


class Progress:
    """One overwritten status line on a terminal; silent when output is piped or in CI logs."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.count = 0

    def __call__(self, message: str) -> None:
        if not self.active:
            return
        self.count += 1
        self.stream.write(f"\r\x1b[2K[{self.count}] {message[:100]}")
        self.stream.flush()

    def done(self) -> None:
        if self.active and self.count:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
