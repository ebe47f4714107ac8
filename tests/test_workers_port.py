"""`serve --workers N` starts on a port a previous server just left: closing its
keep-alive connections left them in TIME_WAIT on that port, which a socket without SO_REUSEADDR
may not bind ("Address already in use" for up to a minute), as the single-process server may."""

from __future__ import annotations

import socket

from mockserver.app import Settings
from mockserver.testing import ServerThread
from tests.test_workers import Served


def test_workers_start_on_a_port_whose_keep_alive_connections_the_last_server_closed():
    server = ServerThread(Settings(port=0)).start()
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(b"GET /__mock/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # keep-alive
        client.settimeout(10)
        assert client.recv(65536).startswith(b"HTTP/1.1 200")
        server.stop()  # the server closes the connection first: its end waits in TIME_WAIT
    with Served("--port", str(port), "--workers", "2") as served:
        assert served.url.endswith(f":{port}")
        assert served.pids(3)  # and answers
