"""`serve --tls` / `--tls-dir`: HTTPS from a local certificate authority that clients trust with their
checks on; the CA is kept and reused; the certificate covers localhost, 127.0.0.1 and ::1; `--workers`
serve HTTPS too; a directory that cannot hold the CA is one line and exit 2. (The chargebee SDK journey
over HTTPS is in tests/test_sdk_chargebee.py.)"""

from __future__ import annotations

import os
import re
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mockserver.app import Settings
from mockserver.testing import ServerThread
from mockserver.tls import CA_FILE, CA_KEY_FILE, prepare, server_context
from tests.lazy_sdk import one_worker

ROOT = Path(__file__).resolve().parent.parent


def test_the_ca_is_kept_owner_only_and_reused(tmp_path):
    first = prepare(str(tmp_path / "tls"))
    assert first == tmp_path / "tls" / CA_FILE
    key = tmp_path / "tls" / CA_KEY_FILE
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    pem, key_pem = first.read_bytes(), key.read_bytes()
    assert prepare(str(tmp_path / "tls")).read_bytes() == pem and key.read_bytes() == key_pem
    assert prepare(None).read_bytes() != pem  # no directory: a fresh CA in a temporary one


def test_the_certificate_covers_localhost_and_both_loopback_addresses(tmp_path):
    ca = prepare(str(tmp_path))
    with ServerThread(Settings(port=0, tls_dir=str(tmp_path))) as server:
        port = int(server.url.rsplit(":", 1)[1])
        client = ssl.create_default_context(cafile=str(ca))
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with client.wrap_socket(raw, server_hostname="localhost") as tls:
                names = {value.strip() for _, value in tls.getpeercert()["subjectAltName"]}
        assert {"localhost", "127.0.0.1"} <= names and names & {"::1", "0:0:0:0:0:0:0:1"}
        for hostname in ("localhost", "127.0.0.1"):  # checks on, hostname checked
            with (
                socket.create_connection(("127.0.0.1", port)) as raw,
                client.wrap_socket(raw, server_hostname=hostname),
            ):
                pass
        reply = httpx.get(
            server.url + "/v1/exports",
            verify=ssl.create_default_context(cafile=str(ca)),
            headers={"X-App-Id": "tls-app", "X-App-Token": "tls-key"},
        )
        assert reply.status_code == 200 and reply.json()["total"] == 0
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(server.url + "/v1/exports")  # the system's CAs do not know this one


def test_a_server_context_can_be_made_for_any_host(tmp_path):
    prepare(str(tmp_path))
    assert isinstance(server_context(str(tmp_path), "0.0.0.0"), ssl.SSLContext)


def _serve(*args: str) -> tuple[subprocess.Popen, list[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = []
    for _ in range(3):
        line = process.stdout.readline()
        lines.append(line)
        if "listening on" in line or not line:
            break
    return process, lines


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    stderr = process.stderr.read()
    process.stdout.close()
    process.stderr.close()
    return stderr


def test_workers_serve_https_from_the_one_ca(tmp_path):
    process, lines = _serve("--workers", "2", "--tls-dir", str(tmp_path / "certs"))
    try:
        assert f"certificate authority {tmp_path / 'certs' / CA_FILE}" in lines[0]
        url = re.search(r"listening on (https://\S+)", lines[-1]).group(1)
        ca = ssl.create_default_context(cafile=str(tmp_path / "certs" / CA_FILE))
        pids = {httpx.get(url + "/__mock/health", verify=ca).json()["pid"] for _ in range(40)}
        assert len(pids) == 2  # both workers answer, each with a certificate of the same CA
    finally:
        assert "Traceback" not in _stop(process)


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda d: (d / "file").write_text("x") and str(d / "file"), "cannot be a folder"),
        (lambda d: (d / CA_FILE).write_text("x") and str(d), f"only one of {CA_FILE}"),
        (
            lambda d: ((d / CA_FILE).write_text("x"), (d / CA_KEY_FILE).write_text("y")) and str(d),
            "not a certificate authority",
        ),
    ],
)
def test_a_directory_that_cannot_hold_a_ca_is_one_line_and_exit_2(tmp_path, make, fragment):
    directory = make(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--tls-dir", directory],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 3 and "Traceback" not in done.stderr


@one_worker("voucherify")
def test_the_python_sdks_trust_the_ca_the_way_the_docs_say(tmp_path, monkeypatch):
    """docs/sdk-clients.md's table, checks on: voucherify's `ssl_ca_cert`, stripe's `ca_bundle_path`,
    hubspot-api-client's `ssl_ca_cert`."""
    voucherify = pytest.importorskip("voucherify")
    stripe = pytest.importorskip("stripe")
    key = "sk_test_51Htls0mockserver"
    with ServerThread(
        Settings(port=0, tls_dir=str(tmp_path), lifecycle="instant", vendor_options={"stripe": {"keys": [key]}})
    ) as server:
        config = voucherify.Configuration(
            host=server.url, ssl_ca_cert=server.ca_file, api_key={"X-App-Id": "tls-app", "X-App-Token": "tls-key"}
        )
        exports = voucherify.ExportsApi(voucherify.ApiClient(config))
        created = exports.create_export(voucherify.ExportsCreateRequestBody.from_dict({"exported_object": "order"}))
        assert exports.get_export(created.id).result.url.startswith(server.url)
        monkeypatch.setattr(stripe, "ca_bundle_path", server.ca_file)
        client = stripe.StripeClient(
            key, base_addresses={"api": server.url, "files": server.url}, max_network_retries=0
        )
        assert client.v1.reporting.report_types.retrieve("balance.summary.1").id == "balance.summary.1"
        hubspot = pytest.importorskip("hubspot")  # its client passes ssl_ca_cert on to each API's Configuration
        from hubspot.crm.exports import PublicExportViewRequest

        exports = hubspot.Client.create(
            access_token="tls-token", host=server.url, ssl_ca_cert=server.ca_file
        ).crm.exports.public_exports_api
        task = exports.start(
            public_export_request=PublicExportViewRequest(
                export_type="VIEW",
                format="CSV",
                export_name="TLS",
                object_properties=["email"],
                object_type="CONTACT",
                language="EN",
            )
        )
        assert exports.get_status(task_id=task.id).status == "COMPLETE"
