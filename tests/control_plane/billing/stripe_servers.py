"""Test servers for billing: localstripe (a stateful fake Stripe) and a proxy in front of it that injects faults.

localstripe runs as a subprocess on 127.0.0.1 with a port it picks itself. It would pickle its
whole store to the fixed path /tmp/localstripe.pickle after every change; the launcher turns
that off, so parallel runs never share or clash over state.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_LAUNCH = r"""
import socket
import localstripe.resources
localstripe.resources.Store.dump_to_disk = lambda self: None  # no shared /tmp/localstripe.pickle
from aiohttp import web
from localstripe.server import app
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(128)
print(sock.getsockname()[1], flush=True)
web.run_app(app, sock=sock, print=None, access_log=None)
"""


class LocalStripe:
    """localstripe in a subprocess; ``url`` is its address."""

    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", _LAUNCH], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.process.kill()
            raise RuntimeError(f"localstripe did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line)}"
        _wait_until_answering(self.url)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _wait_until_answering(url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"{url}/v1/balance", headers={"Authorization": "Bearer sk_test_x"}, timeout=1)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@dataclass
class Fault:
    """What the proxy does to matching requests: ``down`` (close the connection), ``slow`` (answer only
    after ``delay_s``, past the client's timeout), ``error`` (answer ``status`` without forwarding),
    ``lost`` (forward, then answer 500: Stripe did it but we never hear so)."""

    kind: str
    method: str | None = None
    path_prefix: str = "/"
    status: int = 500
    delay_s: float = 3.0
    seen: list[str] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path_prefix)


class StripeProxy:
    """A small HTTP proxy to localstripe on 127.0.0.1 that can fail on purpose (see :class:`Fault`)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fault: Fault | None = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy.serve(self)

            def do_POST(self) -> None:
                proxy.serve(self)

            def do_DELETE(self) -> None:
                proxy.serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        fault = self.fault
        if fault is not None and fault.matches(request.command, request.path):
            fault.seen.append(f"{request.command} {request.path}")
            if fault.kind == "down":
                request.close_connection = True
                request.connection.close()
                return
            if fault.kind == "slow":  # answers only after the client gave up; never reaches localstripe
                time.sleep(fault.delay_s)
                self._answer(request, 504, b'{"error": {"message": "injected: too slow", "type": "api_error"}}')
                return
            if fault.kind == "error":
                self._answer(request, fault.status, b'{"error": {"message": "injected failure", "type": "api_error"}}')
                return
            if fault.kind == "lost":
                self._forward(request, body)
                self._answer(request, 500, b'{"error": {"message": "injected: answer lost", "type": "api_error"}}')
                return
        status, content = self._forward(request, body)
        self._answer(request, status, content)

    def _forward(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        answer = requests.request(request.command, self.upstream + request.path, headers=headers, data=body, timeout=30)
        return answer.status_code, answer.content

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, content: bytes) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(content)))
            request.end_headers()
            request.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout): nothing to tell
            pass

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
