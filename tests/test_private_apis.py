"""Where a dependency offers no public API, our one use of its private one fails loudly here if it changes."""

from __future__ import annotations

import pytest

from mockserver.control.generate import matching, parse_regex


def test_the_standard_library_regex_parser_keeps_its_shape():
    """control/generate.py walks `re._parser`'s tree to build a string a pattern accepts."""
    tree = list(parse_regex("a[b-c]+"))
    assert [str(op) for op, _ in tree] == ["LITERAL", "MAX_REPEAT"]
    assert tree[0][1] == ord("a")
    low, high, item = tree[1][1]
    assert (low, str(high)) == (1, "MAXREPEAT") and [str(op) for op, _ in item] == ["IN"]


@pytest.mark.parametrize(("pattern", "text"), [
    ("^aa_[A-Za-z0-9]+$", "aa_A"), ("^[0-9]{3}$", "000"), ("^(x|y)z$", "xz"), ("^[A-Z]{2}-\\d+$", "AA-0")])
def test_matching_builds_the_shortest_string(pattern, text):
    assert matching(pattern) == text


async def test_aiohttp_still_builds_its_server_where_the_vendor_shaped_runner_swaps_its_class():
    """serving.Runner overrides AppRunner._make_server and swaps the web.Server's class so each connection's
    RequestHandler answers HTTP-level errors in the vendor's shape (aiohttp has no public option for it)."""
    from mockserver.app import Settings, create_app
    from mockserver.serving import Runner, _Handler, _Server

    runner = Runner(create_app(Settings()))
    await runner.setup()
    try:
        assert type(runner.server) is _Server
        handler = runner.server()  # what aiohttp calls per connection
        assert isinstance(handler, _Handler) and handler.mock_mounts is not None
    finally:
        await runner.cleanup()
