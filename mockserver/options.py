"""The `serve` options, defined once: the command-line flags, the keys of
`mockserver.yaml` and the fields of `Settings` all come from the `Option`
rows below, and each vendor adds its own rows (`Vendor.options`, e.g. a flag
that pins its credentials).

The config file is read as data, not replayed as flags: each key must name
an option (`error-rate` or `error_rate`), each value is checked by the same
parser the flag uses, and an error names the file and the key. The command
line wins over the file; repeatable options (`app`, `cors-origin` …) add up.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from . import argtypes
from .control import faults
from .lifecycle import MODES

DEFAULT_FILE = "mockserver.yaml"


@dataclass(frozen=True)
class Option:
    """One option: `--NAME` on the command line, `NAME` in mockserver.yaml, `dest` in Settings
    (or, for a vendor's option, the keyword its constructor takes)."""

    name: str
    help: str
    parse: Callable[[str], Any] | None = None  # None: an on/off switch
    default: Any = None
    repeatable: bool = False
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    dest: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name

    @property
    def key(self) -> str:
        return self.dest or self.name.replace("-", "_")

    def value(self, raw: Any) -> Any:
        """A value from the config file (YAML: text, numbers, booleans, lists, mappings), checked as
        the flag's text would be; ValueError says what the option takes."""
        if self.parse is None:
            if not isinstance(raw, bool):
                raise ValueError(f"takes true or false, not {raw!r}")
            return raw
        if self.repeatable:
            items = [f"{k}:{v}" for k, v in raw.items()] if isinstance(raw, Mapping) else raw
            items = items if isinstance(items, list) else [items]
            return [self._one(item) for item in items]
        if isinstance(raw, list):  # a list for a comma-separated option (vendors: [a, b])
            raw = ",".join(str(item) for item in raw)
        return self._one(raw)

    def _one(self, raw: Any) -> Any:
        if isinstance(raw, (dict, list)) or raw is None:
            raise ValueError(f"takes one value, not {raw!r}")
        text = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if self.choices is not None and text not in self.choices:
            raise ValueError(f"invalid choice: {text!r} (choose from {', '.join(self.choices)})")
        try:
            return self.parse(text)  # type: ignore[misc]
        except (argparse.ArgumentTypeError, ValueError) as exc:
            raise ValueError(str(exc)) from None


@dataclass
class Settings:
    """Run-wide options (the serve options map onto these one to one; vendors' under vendor_options)."""

    host: str = "127.0.0.1"
    port: int = 8080
    seed: int = 0
    lifecycle: str = "time"
    scheduled_seconds: float = 1.0
    running_seconds: float = 2.0
    rows: int = 100
    locale: str = "en_US"
    vendors: tuple[str, ...] | None = None  # which vendors are served (None: every installed one)
    specs: list[str] = field(default_factory=list)  # folders of an OpenAPI document + overlay served (--spec)
    spec_keys: list[str] = field(default_factory=list)  # credentials pinned for those (--spec-key)
    vendor_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # vendor → its options' values
    # the control plane (mockserver.control)
    stateless: bool = False  # answer from the spec's examples; store nothing
    state: str | None = None  # SQLite file that keeps the store across restarts, or redis://host:port/db
    cors_origins: list[str] = field(default_factory=list)  # [] = any localhost origin, "*" = any
    latency: str | None = None  # ms, "50-200" (random in range) or "100"
    error_rate: float = 0.0  # share of requests that fail with a 500 or 503
    rate_limit: str | None = None  # "10/s" per app; over it → 429 + Retry-After
    journal_size: int = 500  # requests kept for GET /__mock/requests
    allow_hosts: list[str] = field(default_factory=list)  # Host names the admin API answers beyond loopback
    admin_token: str | None = None  # the admin API then needs Authorization: Bearer <it>
    fixtures: str | None = None  # folder of data sets stored at start-up (Vendor.load_fixtures)
    # scale-out and limits (mockserver.workers)
    workers: int = 1  # processes serving one port, sharing the store
    max_exports: int = 1000  # per app; creating one more deletes the app's oldest export
    strict: bool = False  # findings (unknown properties, filter fields, coerced values) become 400s
    access_log: bool = False  # one line per request on stderr (mockserver.control.accesslog)
    config_file: str | None = None  # the mockserver.yaml read, if any (said by the banner and GET /)
    # slow clients (docs/hardening.md): a connection without a complete request, a download nobody reads
    idle_timeout: float = 60.0  # seconds; serving.listen closes the connection
    send_timeout: float = 60.0  # seconds a download waits for its client to take a chunk (respond.stream)
    # HTTPS from a local certificate authority (mockserver.tls); a tls_dir alone turns it on
    tls: bool = False
    tls_dir: str | None = None  # keeps ca.pem (what clients trust) and its key across restarts

    def __post_init__(self) -> None:
        if self.lifecycle not in MODES:
            raise ValueError(f"lifecycle must be one of {', '.join(MODES)}")
        if self.rows < 0:
            raise ValueError("rows must be 0 or more")
        faults.parse_latency(self.latency)
        faults.parse_rate_limit(self.rate_limit)
        faults.check_error_rate(self.error_rate)
        if self.stateless and self.state:
            raise ValueError("--stateless stores nothing, so it cannot take --state")
        if self.journal_size < 1:
            raise ValueError("journal size must be 1 or more")
        if self.workers < 1:
            raise ValueError("workers must be 1 or more")
        if self.max_exports < 1:
            raise ValueError("max exports must be 1 or more")
        if not (self.idle_timeout > 0 and self.send_timeout > 0):
            raise ValueError("timeouts must be greater than 0")
        if self.tls_dir:
            self.tls = True


_D = Settings()
SPEC_KEY = Option(
    "spec-key",
    "pin a credential of the --spec APIs (repeatable; id:token for two schemes); others "
    "then get 401 (default: any credentials are a tenant of their own)",
    argtypes.text,
    repeatable=True,
    metavar="KEY",
    dest="spec_keys",
)
SERVE: tuple[Option, ...] = (
    Option("host", "address to listen on", argtypes.host, _D.host),
    Option("port", "port, 0 for any free one", argtypes.PORT, _D.port),
    Option("seed", "seed for ids and data", argtypes.whole(), _D.seed),
    Option(
        "lifecycle", "what moves exports on: time, poll (one step per GET) or instant", str, _D.lifecycle, choices=MODES
    ),
    Option(
        "scheduled-seconds", "time mode: seconds an export stays scheduled", argtypes.number(0), _D.scheduled_seconds
    ),
    Option("running-seconds", "time mode: seconds an export stays in progress", argtypes.number(0), _D.running_seconds),
    Option("rows", "rows in each synthetic data set", argtypes.whole(0), _D.rows),
    Option("locale", "Faker locale of the data", argtypes.locale, _D.locale),
    SPEC_KEY,
    Option("stateless", "answer every request from the spec's examples (Prism-style); store nothing"),
    Option(
        "state",
        "keep what clients create in this SQLite file across restarts, or in Redis: "
        "redis://host:port/db (replicas on several hosts share it)",
        argtypes.state,
        metavar="FILE|URL",
    ),
    Option(
        "workers",
        "serve with N processes on one port, sharing the store (--state, or a temporary SQLite file)",
        argtypes.whole(1),
        _D.workers,
        metavar="N",
    ),
    Option(
        "max-exports",
        "exports kept per app; creating one more deletes the app's oldest",
        argtypes.whole(1),
        _D.max_exports,
        metavar="N",
    ),
    Option(
        "cors-origin",
        "allow this browser origin (repeatable; * for any; default: any localhost origin)",
        argtypes.origin,
        repeatable=True,
        metavar="ORIGIN",
        dest="cors_origins",
    ),
    Option(
        "latency",
        "delay every answer: 50-200 (random in range) or 100",
        argtypes.from_parser(faults.parse_latency),
        metavar="MS",
    ),
    Option(
        "error-rate",
        "share of requests (0-1) that fail with a 500 or 503",
        argtypes.number(0, 1),
        _D.error_rate,
        metavar="SHARE",
    ),
    Option(
        "rate-limit",
        "requests per second per app before 429 + Retry-After",
        argtypes.from_parser(faults.parse_rate_limit),
        metavar="N/s",
    ),
    Option(
        "idle-timeout",
        "close a connection that sends no complete request for this many seconds (an idle "
        "keep-alive, headers that never end)",
        argtypes.number(above=0),
        _D.idle_timeout,
        metavar="SECONDS",
    ),
    Option(
        "send-timeout",
        "drop a download whose client takes none of it for this many seconds",
        argtypes.number(above=0),
        _D.send_timeout,
        metavar="SECONDS",
    ),
    Option("journal-size", "requests kept for GET /__mock/requests", argtypes.whole(1), _D.journal_size, metavar="N"),
    Option(
        "allow-host",
        "let the admin API (/__mock/) answer requests for this Host name too, beside "
        "localhost, 127.x, [::1] and --host (repeatable; * for any)",
        argtypes.allowed_host,
        repeatable=True,
        metavar="NAME",
        dest="allow_hosts",
    ),
    Option(
        "admin-token", "require Authorization: Bearer TOKEN on every admin API call", argtypes.text, metavar="TOKEN"
    ),
    Option(
        "fixtures",
        "store the data sets of DIR's YAML/JSON files (vendors that take fixtures)",
        argtypes.existing_dir,
        metavar="DIR",
    ),
    Option(
        "strict",
        "refuse (400, in the vendor's error shape) what is otherwise answered with an "
        "X-Mock-Warning header: unknown properties and filter fields, coerced values",
    ),
    Option("access-log", "log one line per request (method, path, status, time; no credentials or tokens)"),
    Option(
        "tls",
        "serve HTTPS with a certificate from a local certificate authority (its ca.pem is printed; "
        "clients trust that file, with certificate checks on)",
    ),
    Option(
        "tls-dir",
        "keep the certificate authority as DIR/ca.pem (and its key) and reuse it on the next start; implies --tls",
        argtypes.creatable_dir,
        metavar="DIR",
    ),
)
del _D


def add_arguments(parser: argparse.ArgumentParser, options: Iterable[Option], group: str | None = None) -> None:
    """The options as flags (a vendor's in an argument group of its own, named `vendor.key` in the
    namespace). Defaults are left out of the namespace (SUPPRESS), so what the command line gave can
    be told from what it did not, and layered over the config file's values."""
    target = parser if group is None else parser.add_argument_group(f"{group} options")
    for option in options:
        shown = f" (default {option.default})" if option.default not in (None, [], ()) else ""
        kwargs: dict[str, Any] = {
            "default": argparse.SUPPRESS,
            "help": option.help + shown,
            "dest": _dest(group, option),
        }
        if option.parse is None:
            target.add_argument(option.flag, action="store_true", **kwargs)
            continue
        kwargs["type"] = option.parse
        if option.metavar:
            kwargs["metavar"] = option.metavar
        if option.choices:
            kwargs["choices"] = option.choices
        target.add_argument(option.flag, action="append" if option.repeatable else "store", **kwargs)


def read_config(path: str | Path | None) -> tuple[Path | None, dict[str, Any]]:
    """The config file's mapping; `path` None means "mockserver.yaml if it exists" (a named file must)."""
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return None, {}
        path = DEFAULT_FILE
    path = Path(path)
    import yaml  # only when there is a file to read: a run without one starts without it

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:  # its text spans lines; the mark says where, the problem what
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or "syntax error").split())
        raise ValueError(f"config file {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        return path, {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must be a mapping of option: value")
    return path, data


def config_values(
    path: Path | None, data: Mapping[str, Any], groups: Mapping[str | None, Iterable[Option]]
) -> dict[str | None, dict[str, Any]]:
    """The file's values by group (None: the serve options, else a vendor's name) and option key."""
    by_name = {option.name: (group, option) for group, options in groups.items() for option in options}
    values: dict[str | None, dict[str, Any]] = {}
    for key, raw in data.items():
        name = str(key).replace("_", "-")
        if name not in by_name:
            raise ValueError(f"config file {path}: unknown key {key!r}; allowed: {', '.join(sorted(by_name))}")
        if raw is None:
            continue
        group, option = by_name[name]
        try:
            values.setdefault(group, {})[option.key] = option.value(raw)
        except ValueError as exc:
            raise ValueError(f"config file {path}: {name}: {exc}") from None
    return values


def settings_from(
    groups: Mapping[str | None, Iterable[Option]],
    config: Mapping[str | None, Mapping[str, Any]],
    given: argparse.Namespace,
) -> Settings:
    """Settings from the config file's values and the command line's (which wins; lists add up)."""
    chosen: dict[str | None, dict[str, Any]] = {}
    for group, options in groups.items():
        for option in options:
            from_file = config.get(group, {}).get(option.key)
            from_line = getattr(given, _dest(group, option), None)
            if option.repeatable:
                value = [*(from_file or []), *(from_line or [])]
            else:
                value = from_line if from_line is not None else from_file
            if value is not None and (value != [] or group is None):
                chosen.setdefault(group, {})[option.key] = value
    serve = chosen.pop(None, {})
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in serve.items() if k in known}, vendor_options=chosen)


def _dest(group: str | None, option: Option) -> str:
    return option.key if group is None else f"{group}.{option.key}"
