"""``auralink serve control-plane`` as a user runs it: migrate, serve HTTP and gRPC, stop on a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.helpers import invoke


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_migrate_only_creates_the_embedded_database(tmp_path: Path) -> None:
    result = invoke("serve", "control-plane", "--migrate-only", env={"AURALINK_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "latest schema" in result.stderr
    assert (tmp_path / "control_plane.db").exists()


def test_an_unreachable_database_is_explained_without_a_traceback(tmp_path: Path) -> None:
    env = {"AURALINK_DATA_DIR": str(tmp_path), "AURALINK_DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/none"}
    result = invoke("serve", "control-plane", "--migrate-only", env=env)
    assert result.exit_code == 1 and "cannot migrate postgresql+psycopg://nobody:***@127.0.0.1:1/none" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_it_serves_until_interrupted(tmp_path: Path) -> None:
    port, grpc_port = free_port(), free_port()
    env = {**os.environ, "AURALINK_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    args = ["serve", "control-plane", "--port", str(port), "--telemetry-port", str(grpc_port)]
    process = subprocess.Popen([sys.executable, "-m", "auralink", *args], env=env, text=True, stderr=subprocess.PIPE)
    try:
        ready = _wait_ready(f"http://127.0.0.1:{port}/health/ready")
        assert ready["checks"]["database"]["status"] == "ok"
        with socket.create_connection(("127.0.0.1", grpc_port), timeout=5):
            pass
        signup = httpx.post(f"http://127.0.0.1:{port}/users", json=_ops())
        assert signup.status_code == 201
        admin = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=True)  # the admin UI, at /
        assert admin.url.path == "/ui/sign-in" and "<h1>Sign in</h1>" in admin.text
        assert "script-src 'self'" in admin.headers["content-security-policy"]
        again = httpx.post(f"http://127.0.0.1:{port}/users", json=_ops())
        deep = httpx.post(
            f"http://127.0.0.1:{port}/users", content=b"[" * 50_000, headers={"Content-Type": "application/json"}
        )
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert f"control plane on http://127.0.0.1:{port}" in stderr
    assert again.status_code == 409 and deep.status_code == 400
    # answered errors are not "unexpected", and every line is in the process's one log format (not Litestar's own)
    assert "unexpected error" not in stderr and "Traceback" not in stderr, stderr
    assert "INFO - " not in stderr and "telemetry gRPC listening" in stderr, stderr


def _ops() -> dict[str, str]:
    return {"email": "ops@example.com", "name": "Ops", "password": "a long password"}


def _wait_ready(url: str, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            response = httpx.get(url, timeout=1)
            if response.status_code == 200:
                return dict(response.json())
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)
