"""HTTPS for `serve --tls`: a local certificate authority and a server certificate it signs.

Official SDKs check certificates unless told not to, and some can only be told class-wide (chargebee's
`Chargebee.verify_ca_certs = False` also turns the checks off for a real Chargebee client in the same
process). With a CA the client trusts instead (`Chargebee.ca_cert_path`, `SSL_CERT_FILE`,
`NODE_EXTRA_CA_CERTS` …: docs/sdk-clients.md), checks stay on.

The CA is made with trustme (python-trio's test CA library: keys and certificates through `cryptography`,
nothing hand-rolled). `--tls-dir DIR` keeps it as DIR/ca.pem (what clients trust) and DIR/ca-key.pem
(owner-only), reused on the next start, so a client configured once keeps working; without it the CA goes
to a fresh temporary directory. Each process issues its own server certificate from the CA at start-up,
for localhost, 127.0.0.1, ::1 and the host served on; `--workers` processes all load the same CA.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import tempfile
from pathlib import Path

CA_FILE = "ca.pem"  # the certificate clients trust
CA_KEY_FILE = "ca-key.pem"  # its private key: owner-only, never served
NAMES = ("localhost", "127.0.0.1", "::1")  # what the server certificate covers, besides the host served on


def prepare(tls_dir: str | None) -> Path:
    """The CA file for `serve --tls`: made in `tls_dir` (or a new temporary directory), or the one already
    there. Raises ValueError (one line for the CLI) for a directory that cannot hold it or a broken CA."""
    directory = Path(tls_dir) if tls_dir else Path(tempfile.mkdtemp(prefix="mockserver-tls-"))
    cert, key = directory / CA_FILE, directory / CA_KEY_FILE
    try:
        if cert.exists() and key.exists():
            _load(directory)  # check now, not in every worker
            return cert
        if cert.exists() or key.exists():
            raise ValueError(f"{directory} has only one of {CA_FILE} and {CA_KEY_FILE}; remove it or add the other")
        import trustme

        ca = trustme.CA(organization_name="mockserver local CA")
        directory.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(ca.private_key_pem.bytes())
        cert.write_bytes(ca.cert_pem.bytes())
    except OSError as exc:
        raise ValueError(f"cannot keep the TLS certificate authority in {directory}: {exc.strerror or exc}") from None
    return cert


def context_for(settings) -> ssl.SSLContext | None:
    """The listening socket's SSL context for a run's Settings (None: plain HTTP); prepare() came first."""
    if not settings.tls:
        return None
    if not settings.tls_dir:
        raise ValueError("TLS needs its certificate authority first: mockserver.tls.prepare")
    return server_context(settings.tls_dir, settings.host)


def server_context(tls_dir: str, host: str) -> ssl.SSLContext:
    """A server-side SSL context with a fresh certificate from the CA in `tls_dir` (see prepare)."""
    ca = _load(Path(tls_dir))
    names = dict.fromkeys((*NAMES, host) if host and not _unspecified(host) else NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names, common_name="localhost").configure_cert(context)
    return context


def _load(directory: Path):
    import trustme

    try:
        return trustme.CA.from_pem((directory / CA_FILE).read_bytes(), (directory / CA_KEY_FILE).read_bytes())
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{directory / CA_FILE} and {CA_KEY_FILE} are not a certificate authority and its key: {exc}"
        ) from None


def _unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False
