"""Answers straight from the spec, without behaviour: what `Prefer: code=…`,
`example=…`, `dynamic=true` and the `--stateless` mode send.

Everything is looked up at start-up, per operation: each documented status,
its media types, its named examples, its default example and a generated body.
A request only picks one.

Statuses any real API can answer whatever its document says (a rate limit, an
outage: 429, 500, 502, 503, 504) can be asked for on every operation, so a
client can rehearse them on one request; undocumented, they come in the
vendor's error shape, 429 and 503 with Retry-After.
"""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from ..errors import ApiError
from ..respond import json_response, no_content
from ..spec import Operation
from .generate import generate
from .prefer import Prefer, invalid_prefer

JSON = "application/json"
RETRY_AFTER_SECONDS = "1"
ALWAYS = {  # status → (key, message, headers): what any API may answer, documented or not
    429: ("too_many_requests", "Too Many Requests", {"Retry-After": RETRY_AFTER_SECONDS}),
    500: ("internal_error", "Internal Server Error", {}),
    502: ("bad_gateway", "Bad Gateway", {}),
    503: ("service_unavailable", "Service Unavailable", {"Retry-After": RETRY_AFTER_SECONDS}),
    504: ("gateway_timeout", "Gateway Timeout", {}),
}

_MADE: weakref.WeakKeyDictionary[Operation, SpecAnswers] = weakref.WeakKeyDictionary()


@dataclass
class _Media:
    examples: dict[str, Any]  # name → value
    default: Any  # the `example`, or the first named one, or a generated body
    generated: Any
    has_example: bool


@dataclass
class _Status:
    media: dict[str, _Media] = field(default_factory=dict)  # media type → answers; empty: no body


class SpecAnswers:
    """The canned answers of one operation."""

    @classmethod
    def of(cls, operation: Operation) -> SpecAnswers:
        """The operation's answers, made once and shared by every app built on its Spec (they are only read;
        generating the bodies the spec has no example for took about 2 ms of each app built)."""
        if operation not in _MADE:
            _MADE[operation] = cls(operation)
        return _MADE[operation]

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        self.statuses: dict[int, _Status] = {}
        for status, response in (operation.raw.get("responses") or {}).items():
            if not str(status).isdigit():
                continue  # `default` documents no particular status
            answers = _Status()
            for media_type, media in (response.get("content") or {}).items():
                examples = {name: ex.get("value") for name, ex in (media.get("examples") or {}).items()}
                generated = generate(media.get("schema") or {})
                if "example" in media:
                    default, has = media["example"], True
                elif examples:
                    default, has = next(iter(examples.values())), True
                else:
                    default, has = generated, False
                answers.media[media_type] = _Media(examples, default, generated, has)
            self.statuses[int(status)] = answers
        successes = sorted(s for s in self.statuses if 200 <= s < 300)
        self.success = successes[0] if successes else min(self.statuses)

    def check(self, prefer: Prefer) -> None:
        """Refuse (400) a code or example this operation does not document."""
        if prefer.code is not None and prefer.code not in self.statuses and prefer.code not in ALWAYS:
            documented = ", ".join(map(str, sorted(self.statuses)))
            always = ", ".join(map(str, sorted(ALWAYS)))
            raise invalid_prefer(
                f"{self.operation.operation_id} documents status {documented}, not {prefer.code} "
                f"(and every operation takes {always})"
            )
        if prefer.example is not None:
            status = prefer.code or self.success
            if status not in self.statuses:
                raise invalid_prefer(f"{self.operation.operation_id} documents no examples for status {status}")
            names = sorted({name for media in self.statuses[status].media.values() for name in media.examples})
            if prefer.example not in names:
                allowed = f"one of: {', '.join(names)}" if names else "none are documented"
                raise invalid_prefer(
                    f"{self.operation.operation_id} has no example {prefer.example!r} "
                    f"for status {status}; named examples: {allowed}"
                )

    def respond(self, prefer: Prefer, accept: str = "") -> web.Response:
        status = prefer.code or self.success
        if status not in self.statuses:  # one of ALWAYS that this operation does not document
            key, message, headers = ALWAYS[status]
            raise ApiError(status, key, message, f"Status {status} as the Prefer header asked", headers=dict(headers))
        answers = self.statuses[status]
        headers = ALWAYS.get(status, (None, None, {}))[2]
        if not answers.media:
            return no_content() if status == 204 else web.Response(status=status, headers=headers)
        media_type = next((m for m in answers.media if m in accept), next(iter(answers.media)))
        media = answers.media[media_type]
        if prefer.example is not None and prefer.example in media.examples:
            body = media.examples[prefer.example]
        elif prefer.dynamic:
            body = media.generated
        elif status >= 400 and not media.has_example:
            # the vendor's own error shape, with a real request id
            key, message, _ = ALWAYS.get(status, ("mocked_error", "Mocked error", {}))
            raise ApiError(status, key, message, f"Status {status} as the Prefer header asked", headers=dict(headers))
        else:
            body = media.default
        if media_type == JSON or media_type.endswith("+json"):
            return json_response(body, status=status, headers=headers)
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(text=text, status=status, content_type=media_type, headers=headers)
