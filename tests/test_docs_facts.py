"""The docs say what the code does: option tables and synopses list exactly the options the parsers
take (derived from mockserver/options.py, the vendors' options and each command's parser), every
bundled vendor is named where the docs list them, and figures written twice agree."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mockserver import cli, registry
from mockserver.contract.known import bundled_contracts

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
FLAG = re.compile(r"--[a-z][a-z-]*")


def table_flags(path: Path, heading: str) -> set[str]:
    """The flags in the first column of the first table under `heading`."""
    text = path.read_text(encoding="utf-8").split(f"\n{heading}\n", 1)[1]
    rows = re.match(r"\s*((?:\|.*\n)+)", text).group(1).splitlines()[2:]
    return {flag for row in rows for flag in FLAG.findall(row.split("|")[1])}


def parser_flags(command: str) -> set[str]:
    parser = cli.build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {o for action in sub._actions for o in action.option_strings if o.startswith("--") and o != "--help"}


def test_the_serve_option_table_lists_every_serve_and_vendor_option():
    expected = {option.flag for option in registry.serve_options()}
    expected |= {option.flag for own in registry.vendor_options().values() for option in own}
    expected |= {"--config"}
    assert expected == parser_flags("serve")  # the table's source is the parser's source
    documented = table_flags(ROOT / "docs/serving.md", "## Options")
    assert documented - expected == set(), "rows for options that do not exist"
    assert expected - documented == set(), "options with no row in docs/serving.md"


def test_the_proxy_synopsis_lists_every_proxy_option_and_spec():
    synopsis = (ROOT / "docs/proxy.md").read_text(encoding="utf-8").split("```", 2)[1]
    assert set(FLAG.findall(synopsis)) == parser_flags("proxy")
    named = re.search(r"--spec ([a-z|]+)", synopsis).group(1).split("|")
    assert sorted(named) == sorted(registry.available())


def test_the_contract_spec_row_names_every_bundled_contract():
    text = (ROOT / "docs/contract.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| `--spec "))
    named = set(row.split("`")[1].removeprefix("--spec ").replace("\\", "").split("|"))
    assert set(bundled_contracts()) <= named, row
    assert table_flags(ROOT / "docs/contract.md", "## Options that matter") <= parser_flags("contract")


def test_every_bundled_vendor_is_in_the_package_description_and_the_readme():
    description = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["description"].lower()
    opening = (ROOT / "README.md").read_text(encoding="utf-8").split("\n\n", 2)[1].lower()
    for name in registry.available():
        assert name in description and name in opening, name


def test_the_schemathesis_budget_in_hardening_md_is_the_tests():
    from tests.test_schemathesis_phases import BUDGET

    text = (ROOT / "docs/hardening.md").read_text(encoding="utf-8")
    assert f"with a {BUDGET} s time budget" in text


def test_one_figure_for_the_full_suite():
    """README's suite figure is the one docs/performance.md measured; nothing else states another."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    figure = re.search(r"full test suite on 3 workers.*?\| (\d+) s / (\d+) s", readme)
    performance = (ROOT / "docs/performance.md").read_text(encoding="utf-8")
    assert f"| full suite, 3 workers, now | {figure.group(1)} s" in performance
    assert re.search(rf"quick loop, now .*\| {figure.group(2)} s", performance)
    assert not re.search(r"\d+ min \d+ s", (ROOT / "pyproject.toml").read_text())


def _bench_http():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_http

    return bench_http


def test_the_readme_performance_tables_are_bench_https_output():
    """The figures between the markers are written by `bench_http.py --readme`, not by hand."""
    bench = _bench_http()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(bench.README_BEGIN, 1)[1].split(bench.README_END, 1)[0]
    assert section.strip().startswith("One run of `benchmarks/bench_http.py` on")
    assert "| server | GET an export: req/s / p99 | POST a create: req/s / p99 | peak RSS | start-up |" in section


def test_bench_http_writes_its_figures_between_the_markers_only(tmp_path):
    bench = _bench_http()
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{bench.README_BEGIN}\nold figures\n{bench.README_END}\nafter\n", encoding="utf-8")
    bench.write_readme("new figures", readme)
    assert (
        readme.read_text(encoding="utf-8") == f"before\n{bench.README_BEGIN}\nnew figures\n{bench.README_END}\nafter\n"
    )


@pytest.mark.slow  # bench_csv.py's whole run on a few thousand rows: several seconds of child processes
def test_the_readme_reads_every_csv_figure_bench_csv_prints():
    """bench_http.py --readme builds its CSV rows from bench_csv.py's printed lines: when bench_csv changed
    its wording (a per-CPU-second ratio), every CSV row of the README became "n/a (…)" and nothing failed."""
    bench = _bench_http()
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks/bench_csv.py"), "--rows", "3000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for mode in ("writerows", "offline", "http", "by code", "process"):
        figure = bench.csv_figure(done.stdout, mode)
        assert not figure.startswith("n/a"), (mode, done.stdout)
        assert "rows/s" in figure
