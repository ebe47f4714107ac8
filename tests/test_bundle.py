"""Our OpenAPI documents stand alone: each schemas/<vendor>/openapi.yaml resolves with standard relative
`$ref`s (no tool needs mockserver's loader), and `mockserver bundle` / `GET /__mock/openapi` give one
document with only local references that maintained tools accept."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename
from openapi_spec_validator.validation import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mockserver import cli
from mockserver.app import Settings, create_app
from mockserver.bundling import bundle
from mockserver.documents import DocumentError, load_document, load_yaml, read_file
from mockserver.spec import bundled_specs, load_spec, schemas_dir

VENDORS = bundled_specs()
SPECS = Path(__file__).resolve().parent / "specs"


# Voucherify documents default `fields` its own fields enums do not list (publication `code`; `status` of
# voucher transactions, left out of the fields the SDK can parse): the mock keeps the documented defaults,
# so a validator that checks defaults against their schema reports exactly these, and nothing else.
KNOWN = {"voucherify": ("'code' is not valid under any of the given schemas", "'status' is not one of ")}


def problems(vendor: str, document: dict, base_uri: str = "") -> list[str]:
    """What openapi-spec-validator finds in the document, less the vendor's KNOWN default values."""
    validator = (
        OpenAPIV31SpecValidator if str(document.get("openapi", "")).startswith("3.1") else OpenAPIV30SpecValidator
    )
    found = [error.message.splitlines()[0] for error in validator(document, base_uri=base_uri).iter_errors()]
    return [message for message in found if not message.startswith(KNOWN.get(vendor, ()))]


def refs(node: Any):
    """Every `$ref` string in a document (discriminator mappings too)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key == "mapping" and isinstance(value, dict):
                yield from (target for target in value.values() if isinstance(target, str) and "/" in target)
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


@cache
def yaml_retriever(uri: str) -> Resource:
    return Resource.from_contents(read_file(Path(uri.removeprefix("file://"))), default_specification=DRAFT202012)


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_file_resolves_with_a_standard_resolver(vendor):
    """jsonschema's `referencing` library, reading files from disk, follows every `$ref` of every file of
    the folder from that file (as an editor or a code generator does), with no help from mockserver."""
    registry = Registry(retrieve=yaml_retriever)
    for path in sorted((schemas_dir() / vendor).glob("*.yaml")):
        document = read_file(path)
        if "overlay" in document:
            continue
        resolver = registry.resolver(base_uri=path.resolve().as_uri())
        for ref in set(refs(document)):
            resolver.lookup(ref)  # raises Unresolvable when a target is missing


@pytest.mark.parametrize("vendor", VENDORS)
def test_openapi_yaml_validates_from_its_path(vendor):
    """openapi-spec-validator on the file as it is (its base URI the file's): the failure Prism showed
    (`MissingPointerError` for a component defined in a sibling file) is gone."""
    path = schemas_dir() / vendor / "openapi.yaml"
    document, base_uri = read_from_filename(str(path))
    assert problems(vendor, document, base_uri) == []


@pytest.mark.parametrize("vendor", VENDORS)
def test_the_bundle_is_local_valid_and_loads_in_schemathesis(vendor):
    import schemathesis

    document = load_document(schemas_dir() / vendor)
    assert all(ref.startswith("#/") for ref in refs(document)), sorted({r for r in refs(document) if r[0] != "#"})
    assert problems(vendor, document) == []
    loaded = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) == len(load_spec(vendor).operations) > 0


def test_the_bundle_is_what_the_files_say(tmp_path):
    """Root components that are `$ref`s are inlined under the root's name (other references to the same
    target become local), path items are inlined, another file's unlisted component is hoisted, an `x-`
    extension's data is inlined, and references into the root stay local."""
    (tmp_path / "openapi.yaml").write_text("""
openapi: 3.0.3
info: {title: t, version: '1'}
x-rows: {$ref: './parts.yaml#/x-rows'}
paths:
  /things/{id}: {$ref: './parts.yaml#/paths/~1things~1%7Bid%7D'}
components:
  schemas:
    Thing: {$ref: './parts.yaml#/components/schemas/Thing'}
    Error: {type: object, properties: {message: {type: string}}}
""")
    (tmp_path / "parts.yaml").write_text("""
x-rows: {thing: Thing}
paths:
  /things/{id}:
    get:
      operationId: get-thing
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
        '404': {description: missing, content: {application/json: {schema: {$ref: './openapi.yaml#/components/schemas/Error'}}}}
components:
  schemas:
    Thing: {type: object, properties: {id: {type: string}, colour: {$ref: '#/components/schemas/Colour'}}}
    Colour: {type: string, enum: [red, blue]}
""")
    document, read = bundle(tmp_path / "openapi.yaml", read_file)
    assert read == ((tmp_path / "parts.yaml").resolve(),)
    assert document["x-rows"] == {"thing": "Thing"}
    responses = document["paths"]["/things/{id}"]["get"]["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Thing"}
    assert responses["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    schemas = document["components"]["schemas"]
    assert schemas["Thing"]["properties"]["colour"] == {"$ref": "#/components/schemas/Colour"}
    assert schemas["Colour"] == {"type": "string", "enum": ["red", "blue"]}
    validate(document)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("Thing: {$ref: './nowhere.yaml#/components/schemas/Thing'}", "nowhere.yaml: no such file"),
        ("Thing: {$ref: './parts.yaml#/components/schemas/Nope'}", "no '/components/schemas/Nope'"),
        ("Thing: {$ref: 'https://example.com/api.yaml#/components/schemas/Thing'}", "not URLs"),
    ],
)
def test_a_bad_reference_is_one_line_naming_the_file(tmp_path, text, problem):
    (tmp_path / "openapi.yaml").write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    " + text + "\n"
    )
    (tmp_path / "parts.yaml").write_text("components: {schemas: {Thing: {type: object}}}\n")
    with pytest.raises(DocumentError, match=problem):
        load_document(tmp_path)


def test_a_file_of_paths_nobody_references_is_refused(tmp_path):
    """The old layout (a sibling file whose paths mockserver merged unasked) would silently lose them."""
    (tmp_path / "openapi.yaml").write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
    (tmp_path / "orders.yaml").write_text("paths:\n  /orders: {get: {responses: {'200': {description: ok}}}}\n")
    with pytest.raises(DocumentError, match=r"orders.yaml: not referenced by openapi.yaml"):
        load_document(tmp_path)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_mock_openapi_serves_the_standalone_bundle(aiohttp_client, vendor):
    client = await aiohttp_client(create_app(Settings(vendors=(vendor,))))
    response = await client.get("/__mock/openapi", params={"vendor": vendor})
    assert response.status == 200
    document = await response.json()
    assert all(ref.startswith("#/") for ref in refs(document))
    assert problems(vendor, document) == []
    assert document == json.loads(json.dumps(load_document(schemas_dir() / vendor)))


@pytest.mark.parametrize("form, suffix", [("yaml", ".yaml"), ("json", ".json")])
def test_bundle_command_writes_one_document(tmp_path, form, suffix, capsys):
    out = tmp_path / f"voucherify{suffix}"
    assert cli.main(["bundle", "voucherify", "-o", str(out)]) == 0
    document = json.loads(out.read_text()) if form == "json" else load_yaml(out.read_text())
    assert "&id" not in out.read_text() and "*id" not in out.read_text()  # no YAML anchors
    assert document == json.loads(json.dumps(load_document(schemas_dir() / "voucherify")))
    assert problems("voucherify", document) == []
    # the format option wins over the suffix; standard output without -o
    assert cli.main(["bundle", str(schemas_dir() / "stripe"), "--format", "json"]) == 0
    assert (
        json.loads(capsys.readouterr().out)["info"]["title"] == load_document(schemas_dir() / "stripe")["info"]["title"]
    )


def test_bundle_command_applies_a_folders_overlay(tmp_path):
    out = tmp_path / "acme.yaml"
    assert cli.main(["bundle", str(SPECS / "acme"), "-o", str(out)]) == 0
    document = load_yaml(out.read_text())
    assert any("x-mock" in json.dumps(item) for item in document["paths"].values())
    validate(document)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_prism_mocks_our_voucherify_document_as_it_is():
    """Prism (@stoplight/prism-cli 5, installed where benchmarks/peers.py installs it) starts on
    schemas/voucherify/openapi.yaml and answers from it: the document needs no mockserver loader."""
    prism = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mockserver-bench/prism"
    entry = prism / "node_modules/.bin/prism"
    if not entry.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed")
        prism.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prism), "@stoplight/prism-cli@5"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            pytest.skip(f"npm could not install Prism: {done.stderr.strip().splitlines()[-1:]}")
    port = _free_port()
    process = subprocess.Popen(
        [str(entry), "mock", "-h", "127.0.0.1", "-p", str(port), str(schemas_dir() / "voucherify" / "openapi.yaml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180  # Prism took 100 s to listen on a loaded 2-core machine
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        assert process.poll() is None, process.stdout.read()
        import urllib.request

        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/exports", headers={"X-App-Id": "a", "X-App-Token": "t"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            assert "exports" in json.loads(response.read())
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def request_schemas(document: dict) -> list[Any]:
    """Every schema a request body of `document` (a bundle: local references only) can reach."""
    found: list[Any] = []
    todo = [
        media.get("schema")
        for item in document.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
        for media in (operation.get("requestBody") or {}).get("content", {}).values()
    ]
    seen: set[str] = set()
    while todo:
        node = todo.pop()
        found.append(node)
        for ref in refs(node):
            if ref not in seen:
                seen.add(ref)
                target: Any = document
                for part in ref.removeprefix("#/").split("/"):
                    target = target[part.replace("~1", "/").replace("~0", "~")]
                todo.append(target)
    return found


def nullable_enums_without_null(node: Any) -> list[list]:
    if isinstance(node, dict):
        here = [node["enum"]] if node.get("nullable") is True and None not in node.get("enum", [None]) else []
        return here + [e for value in node.values() for e in nullable_enums_without_null(value)]
    if isinstance(node, list):
        return [e for item in node for e in nullable_enums_without_null(item)]
    return []


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_nullable_enum_a_client_sends_lists_null(vendor):
    """OpenAPI 3.0.3 takes null for a `nullable` enum only where the enum lists it: schemathesis reads it so
    (and sent `"order": null` as a value the mock must refuse), our loader reads 3.0.0's older words and takes
    null. Listing null makes the two readings one, for what clients send."""
    document = load_document(schemas_dir() / vendor)
    assert [e for schema in request_schemas(document) for e in nullable_enums_without_null(schema)] == []
