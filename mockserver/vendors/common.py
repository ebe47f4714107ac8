"""Helpers vendors share and the pipeline does not need: credentials in
Authorization headers, the bracketed parameter names of form-encoded APIs, and
wording a pattern mismatch by what the pattern stands for (`x-reads-as`).
Vendor-neutral: each vendor words its own errors with them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..spec import Spec
from ..validation import Invalid
from .forms import python_literal

_UNEXPECTED = re.compile(r"'([^']+)' (?:was|were) unexpected")
_REQUIRED = re.compile(r"^'([^']+)' is a required property$")
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


# -- credentials ------------------------------------------------------------------------------------
def bearer_token(header: str) -> str:
    """The token of `Authorization: Bearer <token>`; "" for any other scheme."""
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def basic_user(header: str) -> str:
    """The user name of `Authorization: Basic base64(user:password)` (APIs that take a key as the
    user name ignore the password); "" for any other scheme or a malformed value."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0].strip()


def basic_header(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def same(expected: str, given: str) -> bool:
    """Constant-time comparison; header values may carry undecodable bytes (as surrogates)."""
    return hmac.compare_digest(expected.encode("utf-8", "surrogateescape"), given.encode("utf-8", "surrogateescape"))


# -- form parameters --------------------------------------------------------------------------------
def param_name(parts: Sequence[str | int]) -> str:
    """("parameters", "columns", 0) → parameters[columns]: how form APIs name a parameter."""
    names = [str(part) for part in parts if not isinstance(part, int)]
    return names[0] + "".join(f"[{name}]" for name in names[1:]) if names else ""


@dataclass(frozen=True)
class FormProblem:
    """What a body problem is about, in form parameter names."""

    param: str  # the parameter at the problem's path ("" for the body as a whole)
    unknown: str  # a parameter the operation does not take ("" if that is not the problem)
    missing: str  # a required parameter that is absent ("" if that is not the problem)


def form_problem(problem: Invalid) -> FormProblem:
    parts: list[str | int] = [name or int(index) for name, index in _PATH_PART.findall(problem.path)]
    unexpected = _UNEXPECTED.search(problem.message)
    required = _REQUIRED.match(problem.message)
    return FormProblem(
        param_name(parts),
        param_name([*parts, unexpected.group(1)]) if unexpected else "",
        param_name([*parts, required.group(1)]) if required else "",
    )


class PatternWords:
    """jsonschema says "'x' does not match '^[0-9]{1,10}$'": say what the pattern stands for instead,
    from the `x-reads-as` next to each `pattern` of the spec's component schemas."""

    def __init__(self, spec: Spec) -> None:
        self.reads_as = {
            schema["pattern"]: schema["x-reads-as"]
            for schema in (spec.resolved.get("components") or {}).get("schemas", {}).values()
            if "pattern" in schema and "x-reads-as" in schema
        }

    def __call__(self, message: str) -> str:
        value, _, pattern = message.partition(" does not match ")
        try:
            pattern = python_literal(pattern)  # jsonschema writes the pattern's repr: '^[^\\[]'
        except (ValueError, SyntaxError):
            pattern = pattern.strip("'")
        reads_as = self.reads_as.get(pattern)
        return f"{value} must be {reads_as}" if pattern and reads_as else message
