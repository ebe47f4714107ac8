"""The other mock servers users choose between, set up to serve bench_http.py's GET and POST.

Each peer comes from a package registry through its ordinary client and runs in
its own normal way:

- Prism (`@stoplight/prism-cli`, npm): `prism mock` on our Voucherify document;
  it validates requests against the schema and answers from its examples.
- WireMock (`wiremock`, npm: the package bundles WireMock's standalone jar; it
  runs on the machine's Java, Debian's `default-jre-headless`): two stub
  mappings, one constant body, no validation, no state.
- Mockoon (`@mockoon/cli`, npm): an environment file with the same two routes
  and the same constant body, no validation, no state.

Each is installed once into $XDG_CACHE_HOME/mockserver-bench/<name> (`--no-install`
prevents it); a peer that cannot be had prints n/a with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NpmTool:
    name: str  # the folder under the cache, and how the table names it
    package: str  # what npm installs, with its major version
    entry: str  # the file to run, relative to the install folder

    def folder(self) -> Path:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cache / "mockserver-bench" / self.name

    def find(self, install: bool) -> tuple[str | None, str]:
        """The installed entry file, or None and why not."""
        found = self.folder() / self.entry
        if found.exists():
            return str(found), ""
        if not install:
            return None, "not installed (drop --no-install to let npm install it once)"
        npm = shutil.which("npm")
        if npm is None:
            return None, "npm is not installed"
        self.folder().mkdir(parents=True, exist_ok=True)
        print(f"installing {self.package} into {self.folder()} (once) …", file=sys.stderr, flush=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(self.folder()), self.package],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if done.returncode != 0 or not found.exists():
            return None, f"npm install failed: {done.stderr.strip().splitlines()[-1:]}"
        return str(found), ""


PRISM = NpmTool("prism", "@stoplight/prism-cli@5", "node_modules/.bin/prism")
WIREMOCK = NpmTool("wiremock", "wiremock@3", "node_modules/wiremock/package.json")
MOCKOON = NpmTool("mockoon", "@mockoon/cli@9", "node_modules/.bin/mockoon-cli")


def wiremock_command(install: bool, port: int, folder: Path, body: str) -> tuple[list[str], str]:
    """`java -jar wiremock-standalone.jar` serving the two stubs; (command, problem)."""
    found, why = WIREMOCK.find(install)
    java = shutil.which("java")
    if found is None:
        return [], why
    if java is None:
        return [], "java is not installed (Debian: default-jre-headless)"
    jars = sorted((Path(found).parent / "build").glob("wiremock-standalone-*.jar"))
    if not jars:
        return [], f"no standalone jar in {Path(found).parent / 'build'}"
    root = folder / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    answer = {"status": 200, "body": body, "headers": {"Content-Type": "application/json"}}
    mappings = [
        {"request": {"method": "GET", "urlPathPattern": "/v1/exports/[^/]+"}, "response": answer},
        {"request": {"method": "POST", "urlPath": "/v1/exports"}, "response": answer},
    ]
    (root / "mappings" / "exports.json").write_text(json.dumps({"mappings": mappings}), encoding="utf-8")
    return [
        java,
        "-jar",
        str(jars[-1]),
        "--port",
        str(port),
        "--bind-address",
        "127.0.0.1",
        "--root-dir",
        str(root),
        "--disable-banner",
    ], ""


def mockoon_command(install: bool, port: int, folder: Path, body: str) -> tuple[list[str], str]:
    """`mockoon-cli start` on an environment with the two routes; (command, problem)."""
    found, why = MOCKOON.find(install)
    if found is None:
        return [], why

    def route(method: str, endpoint: str) -> dict:
        answer = {
            "uuid": str(uuid.uuid4()),
            "body": body,
            "latency": 0,
            "statusCode": 200,
            "label": "",
            "headers": [{"key": "Content-Type", "value": "application/json"}],
            "bodyType": "INLINE",
            "filePath": "",
            "databucketID": "",
            "sendFileAsBody": False,
            "rules": [],
            "rulesOperator": "OR",
            "disableTemplating": True,
            "fallbackTo404": False,
            "default": True,
            "crudKey": "id",
            "callbacks": [],
        }
        return {
            "uuid": str(uuid.uuid4()),
            "type": "http",
            "documentation": "",
            "method": method,
            "endpoint": endpoint,
            "responses": [answer],
            "responseMode": None,
            "streamingMode": None,
            "streamingInterval": 0,
        }

    routes = [route("get", "v1/exports/:id"), route("post", "v1/exports")]
    environment = {
        "uuid": str(uuid.uuid4()),
        "lastMigration": 32,
        "name": "bench",
        "endpointPrefix": "",
        "latency": 0,
        "port": port,
        "hostname": "127.0.0.1",
        "folders": [],
        "routes": routes,
        "rootChildren": [{"type": "route", "uuid": r["uuid"]} for r in routes],
        "proxyMode": False,
        "proxyHost": "",
        "proxyRemovePrefix": False,
        "tlsOptions": {
            "enabled": False,
            "type": "CERT",
            "pfxPath": "",
            "certPath": "",
            "keyPath": "",
            "caPath": "",
            "passphrase": "",
        },
        "cors": False,
        "headers": [],
        "proxyReqHeaders": [],
        "proxyResHeaders": [],
        "data": [],
        "callbacks": [],
    }
    path = folder / "mockoon.json"
    path.write_text(json.dumps(environment), encoding="utf-8")
    return [found, "start", "--data", str(path), "--port", str(port)], ""
