"""Stripe's form bodies: bracketed names decoded to nested dicts and lists.

    report_type=balance.summary.1&parameters[interval_start]=1700000000
    &parameters[columns][0]=category&parameters[columns][1]=net_amount
    → {"report_type": "balance.summary.1",
       "parameters": {"interval_start": "1700000000", "columns": ["category", "net_amount"]}}

Arrays come indexed (`[0]`, `[1]` …, as the official SDKs send them) or with
empty brackets repeated (`[columns][]=a&[columns][]=b`). The decoding itself is
the shared one (mockserver.vendors.forms); this is Stripe's list style.
"""

from __future__ import annotations

from typing import Any

from ..forms import ListStyle
from ..forms import decode_form as decode

STYLE = ListStyle(indexed=True, empty_brackets=True, extra_chars=".-", example="parameters[interval_start]")


def decode_form(raw: bytes) -> dict[str, Any]:
    """The nested parameters of a form body; Invalid (400) for any malformed part."""
    return decode(raw, STYLE)
