"""One document from a multi-file OpenAPI document: relative `$ref`s resolved the standard way.

Our schema folders (schemas/<vendor>/) are standard multi-file documents: `openapi.yaml` lists every
path and component, most as a `$ref` to a sibling file (`./orders.yaml#/paths/~1orders`,
`./orders.yaml#/components/schemas/Order`), so Prism, schemathesis, code generators and editors read
them as they are. The bundle is what mockserver serves and validates against, and what `mockserver
bundle` writes: one document with only local (`#/...`) references.

- A component the root lists as a `$ref` to another file is inlined there, under the root's name;
  every other reference to the same target becomes a local reference to that name.
- A reference to another file's component the root does not list is hoisted into the root's
  components under its own name (a clash with a different target is an error).
- Any other external reference (a path item, an `x-` extension's data) is inlined in place.
- References into the root file stay as they are.

Only relative file references are followed (no URLs): a bundled document never reaches the network.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

__all__ = ["BundleError", "bundle"]


class BundleError(ValueError):
    """A reference that cannot be followed; the message names the file and the reference."""


Target = tuple[str, str]  # (the file's resolved path, a JSON pointer)


def bundle(root: Path, read: Callable[[Path], Any]) -> tuple[dict[str, Any], tuple[Path, ...]]:
    """The document at `root` with every external `$ref` resolved, and the other files it read.

    `read(path)` parses one file (the caller's reader, so its errors name the file and it may cache)."""
    root_path = root.resolve()
    root = str(root_path)
    files: dict[str, Any] = {}
    targets: dict[tuple[str, str], Target] = {}  # resolving a file's path is most of the cost: once per $ref

    def load(path: str) -> Any:
        if path not in files:
            if not Path(path).is_file():
                raise BundleError(f"{path}: no such file")
            files[path] = read(Path(path))
        return files[path]

    def target_of(base: str, ref: str) -> Target:
        key = (base, ref)
        if key not in targets:
            targets[key] = _target(base, ref)
        return targets[key]

    document = load(root)
    if not isinstance(document, dict):
        raise BundleError(f"{root}: not a mapping")
    local: dict[Target, str] = {}  # a target -> the local reference that names it in the bundle
    listed: list[tuple[str, str, Any]] = []
    for section, entries in (document.get("components") or {}).items():
        for name, value in (entries or {}).items():
            pointer = f"/components/{_escape(section)}/{_escape(name)}"
            local[(root, pointer)] = "#" + pointer
            listed.append((section, name, value))
    for section, name, value in listed:
        if _external(value):
            local.setdefault(target_of(root, value["$ref"]), f"#/components/{_escape(section)}/{_escape(name)}")

    hoisted: dict[str, dict[str, Any]] = {}
    inlining: list[Target] = []

    def lookup(target: Target) -> Any:
        path, pointer = target
        node = load(path)
        for part in pointer.split("/")[1:] if pointer else ():
            key = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(key)] if isinstance(node, list) else node[key]
            except (KeyError, IndexError, ValueError, TypeError):
                raise BundleError(f"{path}: no {pointer!r} (a $ref points there)") from None
        return node

    def inline(target: Target) -> Any:
        if target in inlining:
            raise BundleError(f"{target[0]}: recursive $ref to #{target[1]}")
        inlining.append(target)
        try:
            return walk(lookup(target), target[0])
        finally:
            inlining.pop()

    def reference(base: str, ref: str) -> str | None:
        """The local reference a `$ref` string becomes, or None when its target is to be inlined."""
        target = target_of(base, ref)
        if target in local:
            return local[target]
        if target[0] == root:
            return "#" + target[1]
        parts = target[1].split("/")
        if len(parts) == 4 and parts[1] == "components":  # another file's component the root does not list
            section, name = parts[2], parts[3]
            here = f"#/components/{section}/{name}"
            if any(value == here for value in local.values()):
                raise BundleError(f"{target[0]}: component {name!r} clashes with another of the same name")
            local[target] = here
            hoisted.setdefault(unquote(section).replace("~1", "/").replace("~0", "~"), {})[
                unquote(name).replace("~1", "/").replace("~0", "~")
            ] = inline(target)
            return here
        return None

    def walk(node: Any, base: str) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                named = reference(base, ref)
                if named is None:
                    resolved = inline(target_of(base, ref))
                    extra = {key: walk(value, base) for key, value in node.items() if key != "$ref"}
                    return {**resolved, **extra} if extra and isinstance(resolved, dict) else resolved
                return {key: (named if key == "$ref" else walk(value, base)) for key, value in node.items()}
            out = {}
            for key, value in node.items():
                if key == "discriminator" and isinstance(value, dict) and isinstance(value.get("mapping"), dict):
                    value = {
                        **value,
                        "mapping": {tag: _mapped(reference, base, target) for tag, target in value["mapping"].items()},
                    }
                out[key] = walk(value, base)
            return out
        if isinstance(node, list):
            return [walk(item, base) for item in node]
        return node

    out: dict[str, Any] = {}
    for key, value in document.items():
        if key != "components":
            out[key] = walk(value, root)
            continue
        components: dict[str, Any] = {}
        for section, entries in (value or {}).items():
            components[section] = {
                name: inline(target_of(root, item["$ref"])) if _external(item) else walk(item, root)
                for name, item in (entries or {}).items()
            }
        out[key] = components
    for section, entries in hoisted.items():
        out.setdefault("components", {}).setdefault(section, {}).update(entries)
    return out, tuple(Path(path) for path in files if path != root)


def _mapped(reference: Callable[[str, str], str | None], base: str, target: Any) -> Any:
    """A discriminator mapping's value: a schema name stays, a reference is made local like a `$ref`."""
    if not isinstance(target, str) or "#" not in target and "/" not in target:
        return target
    return reference(base, target) or target


def _external(node: Any) -> bool:
    return isinstance(node, dict) and isinstance(node.get("$ref"), str) and not node["$ref"].startswith("#")


def _target(base: str, ref: str) -> Target:
    location, _, fragment = ref.partition("#")
    if "://" in location or location.startswith("//"):
        raise BundleError(f"{base}: $ref {ref!r}: only references to files beside it are followed, not URLs")
    path = str((Path(base).parent / unquote(location)).resolve()) if location else base
    return path, unquote(fragment)


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
