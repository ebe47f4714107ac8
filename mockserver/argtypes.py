"""argparse `type=` functions shared by the commands: a bad value is refused while
parsing, so the user sees one line (`mockserver serve: error: argument --port:
…`) and exit status 2, never a traceback from deep inside start-up.

Each raises argparse.ArgumentTypeError with a message that says what the
option takes; argparse prefixes the option's name.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Bad = argparse.ArgumentTypeError


class Parser(argparse.ArgumentParser):
    """Errors as one line (no usage block): `mockserver serve: error: --port: …`, exit status 2.
    Sub-commands' parsers are made of the same class."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message.removeprefix('argument ')} (see {self.prog} --help)\n")


# options users reach for that are named otherwise here: what they likely meant
SYNONYMS = {
    "--schema": "--spec",
    "--openapi": "--spec",
    "--contract": "--spec",
    "--url": "--base-url",
    "--target": "--base-url",
    "--server": "--base-url",
    "--base": "--base-url",
    "--key": "--app-token",
    "--token": "--app-token",
}


def unrecognized(extras: list[str], parser: argparse.ArgumentParser) -> str:
    """The error for arguments no option takes, naming the option meant when one is close."""
    import difflib

    known = [option for action in parser._actions for option in action.option_strings if option.startswith("--")]
    for extra in extras:
        name = extra.split("=", 1)[0]
        if not name.startswith("--"):
            continue
        meant = SYNONYMS.get(name)
        meant = meant if meant in known else next(iter(difflib.get_close_matches(name, known, n=1)), None)
        if meant:
            return f"unrecognized argument {name}: did you mean {meant}?"
    return f"unrecognized arguments: {' '.join(extras)}"


_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")


def whole(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise Bad(f"takes a whole number, not {text!r}") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise Bad(f"takes {_bounds(low, high)}, not {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(
    low: float | None = None, high: float | None = None, *, above: float | None = None
) -> Callable[[str], float]:
    """A finite number in [low, high] (or greater than `above`)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise Bad(f"takes a number, not {text!r}") from None
        if not math.isfinite(value):
            raise Bad(f"takes a finite number, not {text!r}")
        if above is not None and value <= above:
            raise Bad(f"takes a number greater than {above:g}, not {text}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise Bad(f"takes {_bounds(low, high, 'a number')}, not {text}")
        return value

    parse.__name__ = "number"
    return parse


def _bounds(low: float | None, high: float | None, what: str = "a whole number") -> str:
    if low is not None and high is not None:
        return f"{what} from {low:g} to {high:g}"
    return f"{what} of {low:g} or more" if low is not None else f"{what} of {high:g} or less"


PORT = whole(0, 65535)


def host(text: str) -> str:
    """An IP address or a host name (checked for form only: nothing is looked up)."""
    try:
        ipaddress.ip_address(text.strip("[]"))
        return text.strip("[]")
    except ValueError:
        pass
    if not _HOSTNAME.match(text):
        raise Bad(f"takes an IP address or a host name, not {text!r}")
    return text


def allowed_host(text: str) -> str:
    """A Host name the admin API answers for (`host`'s forms), or * for any."""
    return "*" if text.strip() == "*" else host(text.strip())


def text(text: str) -> str:
    """Any non-empty text."""
    if not text.strip():
        raise Bad("must not be empty")
    return text


def pair(text: str) -> tuple[str, str]:
    """ID:TOKEN."""
    first, sep, second = text.partition(":")
    if not sep or not first or not second:
        raise Bad(f"takes ID:TOKEN, not {text!r}")
    return first, second


def from_parser(parse: Callable[[str], Any]) -> Callable[[str], str]:
    """A check that raises ValueError (e.g. faults.parse_latency) as a type: the text passes through."""

    def check(text: str) -> str:
        try:
            parse(text)
        except ValueError as exc:
            raise Bad(str(exc)) from None
        return text

    check.__name__ = getattr(parse, "__name__", "value")
    return check


def existing_dir(text: str) -> str:
    if not Path(text).is_dir():
        raise Bad(f"{text!r} is not a folder")
    return text


def creatable_dir(text: str) -> str:
    """A folder, or one that can be made: nothing that is not a folder stands in its way."""
    path = Path(text)
    while not path.exists() and path != path.parent:
        path = path.parent
    if not text or not path.is_dir():
        raise Bad(f"{text!r} cannot be a folder: {str(path)!r} is a file")
    return text


def existing_file(text: str) -> str:
    if not Path(text).is_file():
        raise Bad(f"{text!r} is not a file")
    return text


def writable_file(text: str) -> str:
    """A file that can be created: its folder exists and it is not a folder itself."""
    path = Path(text)
    if not text or path.is_dir():
        raise Bad(f"{text!r} is a folder, not a file")
    if not path.parent.is_dir():
        raise Bad(f"{text!r}: there is no folder {str(path.parent)!r}")
    return text


def _split(text: str):
    """urlsplit, refusing a port out of range (urlsplit raises for it only when asked)."""
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018
    except ValueError:
        raise Bad(f"{text!r} has a bad port") from None
    return parts


def http_url(text: str) -> str:
    parts = _split(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Bad(f"takes an http:// or https:// URL, not {text!r}")
    return text


def state(text: str) -> str:
    """A SQLite file to create or open, or redis://host:port/db."""
    if "://" in text:
        parts = _split(text)
        if parts.scheme not in ("redis", "rediss", "unix") or (parts.scheme != "unix" and not parts.hostname):
            raise Bad(f"takes a SQLite file or redis://host:port/db, not {text!r}")
        return text
    return writable_file(text)


def locale(text: str) -> str:
    from faker.config import AVAILABLE_LOCALES  # Faker is imported only when the option is given

    if text not in AVAILABLE_LOCALES:
        raise Bad(f"{text!r} is not a Faker locale, e.g. en_US, de_DE, fr_FR")
    return text


def origin(text: str) -> str:
    """A browser origin (scheme://host[:port]) or *."""
    if text == "*":
        return text
    parts = _split(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise Bad(f"takes an origin such as http://localhost:3000 (or *), not {text!r}")
    return text
