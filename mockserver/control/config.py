"""The optional config file: `mockserver.yaml` in the working directory, or
`--config FILE`. Its keys are the `serve` flags' names (`error-rate` or
`error_rate`), its values what the flags take. The file is turned into flags
placed before the command line's, so argparse checks both the same way and the
command line wins (repeatable flags such as `app` add up). An unknown key is
an error, so a typo is never ignored.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DEFAULT_FILE = "mockserver.yaml"


def config_args(path: str | Path | None, flags: set[str]) -> list[str]:
    """The file's settings as command-line arguments; [] when there is no file.

    `path` None means "mockserver.yaml if it exists"; a named file must exist.
    `flags` are the long options the command knows, e.g. {"--port", "--stateless"}.
    """
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return []
        path = DEFAULT_FILE
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ValueError(f"config file {path} must be a mapping of option: value")
    flags = {flag for flag in flags if flag.startswith("--") and flag not in ("--config", "--help")}
    args: list[str] = []
    for key, value in data.items():
        flag = "--" + str(key).replace("_", "-")
        if flag not in flags:
            allowed = ", ".join(sorted(f[2:] for f in flags))
            raise ValueError(f"config file {path}: unknown key {key!r}; allowed: {allowed}")
        if isinstance(value, dict):  # e.g. app: {my-app: my-token}
            value = [f"{k}:{v}" for k, v in value.items()]
        for item in value if isinstance(value, list) else [value]:
            if item is True:
                args.append(flag)
            elif item is not False and item is not None:
                args += [flag, str(item)]
    return args


def config_error(path: str | Path | None, message: str) -> str:
    """argparse's "argument --error-rate: …" about a value that came from the file, by its key."""
    flag, sep, problem = message.removeprefix("argument ").partition(": ")
    where = f"config file {path or DEFAULT_FILE}"
    if sep and flag.startswith("--"):
        return f"{where}: {flag[2:]}: {problem}"
    return f"{where}: {message}"
