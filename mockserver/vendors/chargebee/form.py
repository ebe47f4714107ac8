"""Chargebee's form bodies: bracketed names and list values, decoded to nested dicts.

    order[status][in]=['queued', 'complete']&total[gte]=1000
    → {"order": {"status": {"in": ["queued", "complete"]}}, "total": {"gte": "1000"}}

The list operators (in, not_in, between) take a list written as a JSON array or
as the Python repr the official SDK sends; or item by item, as OpenAPI's
deepObject style renders one: indexed (`order[status][in][0]=queued&…[1]=complete`)
or repeated (`total[between]=100&total[between]=900`). The decoding itself is
the shared one (mockserver.vendors.forms); this is Chargebee's list style.
"""

from __future__ import annotations

from typing import Any

from ..forms import ListStyle
from ..forms import decode_form as decode

LIST_OPERATORS = ("in", "not_in", "between")
STYLE = ListStyle(operators=LIST_OPERATORS, example="order[status][in]")


def decode_form(raw: bytes) -> dict[str, Any]:
    """The nested parameters of a form body; Invalid (400) for any malformed part."""
    return decode(raw, STYLE)
